"""The range spec: validation naming the key, and the mapping to hp.* values."""

import keras_tuner
import pytest

from keras_dlparts.tuning import Boolean
from keras_dlparts.tuning import Choice
from keras_dlparts.tuning import Float
from keras_dlparts.tuning import Int
from keras_dlparts.tuning import merge_search_space
from keras_dlparts.tuning import sample
from keras_dlparts.tuning import validate_search_space


def test_ranges_map_to_keras_tuner_hyperparameters():
    hp = keras_tuner.HyperParameters()
    space = {
        "units": Int(8, 64, step=8, default=16),
        "lr": Float(1e-4, 1e-1, sampling="log"),
        "act": Choice(["relu", "tanh"], default="tanh"),
        "bn": Boolean(default=True),
        "sizes": Choice([(8,), (16, 8)], default=(16, 8)),
        "rate": 0.25,
    }
    values = sample(hp, validate_search_space(space))
    assert values == {"units": 16, "lr": 1e-4, "act": "tanh", "bn": True,
                      "sizes": (16, 8), "rate": 0.25}
    kinds = {p.name: type(p).__name__ for p in hp.space}
    assert kinds == {"units": "Int", "lr": "Float", "act": "Choice", "bn": "Boolean",
                     "sizes": "Choice", "rate": "Fixed"}
    units = hp._hps["units"][0]
    assert (units.min_value, units.max_value, units.step) == (8, 64, 8)
    assert hp._hps["lr"][0].sampling == "log"
    assert hp._hps["sizes"][0].values == ["(8,)", "(16, 8)"]  # tuples go as reprs


def test_every_choice_value_comes_back_decoded():
    spec = {"sizes": Choice([(8,), (16, 8), None])}
    seen = []
    for label in ["(8,)", "(16, 8)", "None"]:
        hp = keras_tuner.HyperParameters()
        hp.values["sizes"] = label
        seen.append(sample(hp, spec)["sizes"])
    assert seen == [(8,), (16, 8), None]


@pytest.mark.parametrize(
    "key, spec, message",
    [
        ("units", Int(8, 8), "min_value must be smaller"),
        ("units", Int(1.5, 8), "Int bounds and step must be integers"),
        ("lr", Float(0.0, 1.0, sampling="log"), "log sampling needs min_value > 0"),
        ("lr", Float(0.1, 1.0, sampling="square"), "sampling must be"),
        ("lr", Float(0.1, 1.0, step=-0.1), "step must be positive"),
        ("lr", Float("a", 1.0), "Float bounds and step must be numbers"),
        ("act", Choice([]), "non-empty list"),
        ("act", Choice(["relu", "relu"]), "distinct"),
        ("act", Choice(["relu"], default="tanh"), "default must be one of"),
        ("bn", Boolean(default="yes"), "Boolean default must be a bool"),
        ("rate", float("nan"), "must be finite"),
    ],
)
def test_bad_spec_raises_naming_the_key(key, spec, message):
    with pytest.raises(ValueError, match=f"'{key}'.*{message}"):
        validate_search_space({"ok": Int(1, 2), key: spec})


def test_bad_containers_raise():
    with pytest.raises(ValueError, match="must be a dict of ranges"):
        validate_search_space([("units", Int(1, 2))])
    with pytest.raises(ValueError, match="keys must be non-empty strings"):
        validate_search_space({3: Int(1, 2)})
    with pytest.raises(ValueError, match="must be a dict of ranges"):
        merge_search_space({}, ["units"])


def test_merge_overrides_fixes_and_drops():
    merged = merge_search_space(
        {"a": Int(1, 3), "b": Choice([1, 2]), "c": 0.5},
        {"a": 2, "c": None, "d": Boolean()},
    )
    assert merged["a"] == 2 and isinstance(merged["b"], Choice)
    assert "c" not in merged and isinstance(merged["d"], Boolean)
