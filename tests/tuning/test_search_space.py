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
    assert values == {
        "units": 16,
        "lr": 1e-4,
        "act": "tanh",
        "bn": True,
        "sizes": (16, 8),
        "rate": 0.25,
    }
    kinds = {p.name: type(p).__name__ for p in hp.space}
    assert kinds == {
        "units": "Int",
        "lr": "Float",
        "act": "Choice",
        "bn": "Boolean",
        "sizes": "Choice",
        "rate": "Fixed",
    }
    units = hp._hps["units"][0]
    assert (units.min_value, units.max_value, units.step) == (8, 64, 8)
    assert hp._hps["lr"][0].sampling == "log"
    assert hp._hps["sizes"][0].values == [
        "(8,)",
        "(16, 8)",
    ]  # tuples go as reprs


def test_every_choice_value_comes_back_decoded():
    spec = {"sizes": Choice([(8,), (16, 8), None])}
    seen = []
    for label in ["(8,)", "(16, 8)", "None"]:
        hp = keras_tuner.HyperParameters()
        hp.values["sizes"] = label
        seen.append(sample(hp, spec)["sizes"])
    assert seen == [(8,), (16, 8), None]


@pytest.mark.parametrize(
    "make, error, message",
    [
        (
            lambda: Int(8, 8),
            ValueError,
            "`max_value` must be greater than `min_value`",
        ),
        (lambda: Int(1.5, 8), TypeError, "`min_value` must be an integer"),
        (
            lambda: Int(1, 8, step=0),
            ValueError,
            "`step` must be a positive integer",
        ),
        (
            lambda: Int(1, 8, default=9),
            ValueError,
            r"`default` must be .* in \[1, 8\]",
        ),
        (
            lambda: Float(0.0, 1.0, sampling="log"),
            ValueError,
            "`min_value` must be > 0 for sampling='log'",
        ),
        (
            lambda: Float(0.1, 1.0, sampling="square"),
            ValueError,
            "`sampling` must be one of",
        ),
        (
            lambda: Float(0.1, 1.0, step=-0.1),
            ValueError,
            "`step` must be a positive",
        ),
        (lambda: Float("a", 1.0), TypeError, "`min_value` must be a number"),
        (
            lambda: Float(0.0, float("nan")),
            ValueError,
            "`max_value` must be a finite",
        ),
        (
            lambda: Float(0.0, float("inf")),
            ValueError,
            "`max_value` must be a finite",
        ),
        (lambda: Choice([]), ValueError, "`values` must be a non-empty list"),
        (lambda: Choice("relu"), TypeError, "`values` must be a list or tuple"),
        (lambda: Choice(["relu", "relu"]), ValueError, "distinct"),
        (
            lambda: Choice([0.1, float("nan")]),
            ValueError,
            r"`values\[1\]` must be a finite number",
        ),
        (
            lambda: Choice(["relu"], default="tanh"),
            ValueError,
            "`default` must be one of",
        ),
        (
            lambda: Boolean(default="yes"),
            TypeError,
            "`default` must be True or False",
        ),
    ],
)
def test_bad_ranges_raise_naming_the_argument(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_validation_names_the_key_of_a_spoiled_range():
    spec = Int(1, 8)
    spec.max_value = 0  # changed after it was made
    with pytest.raises(
        ValueError, match="'units'.*`max_value` must be greater"
    ):
        validate_search_space({"ok": Int(1, 2), "units": spec})
    with pytest.raises(ValueError, match=r"`search_space\['rate'\]`.*finite"):
        validate_search_space({"rate": float("nan")})


def test_bad_containers_raise():
    with pytest.raises(TypeError, match="`search_space` must be a dict"):
        validate_search_space([("units", Int(1, 2))])
    with pytest.raises(
        TypeError, match=r"`search_space.keys\(\)` must hold strings"
    ):
        validate_search_space({3: Int(1, 2)})
    with pytest.raises(
        ValueError, match=r"`search_space.keys\(\)` must hold non-empty"
    ):
        validate_search_space({"": Int(1, 2)})
    with pytest.raises(TypeError, match="`overrides` must be a dict"):
        merge_search_space({}, ["units"])
    with pytest.raises(TypeError, match="`defaults` must be a dict"):
        merge_search_space(None, {})


def test_sample_checks_its_arguments():
    with pytest.raises(
        TypeError, match="`hp` must be a keras_tuner.HyperParameters"
    ):
        sample({}, {"units": Int(1, 2)})
    with pytest.raises(TypeError, match="`search_space` must be a dict"):
        sample(keras_tuner.HyperParameters(), "units")


def test_merge_overrides_fixes_and_drops():
    merged = merge_search_space(
        {"a": Int(1, 3), "b": Choice([1, 2]), "c": 0.5},
        {"a": 2, "c": None, "d": Boolean()},
    )
    assert merged["a"] == 2 and isinstance(merged["b"], Choice)
    assert "c" not in merged and isinstance(merged["d"], Boolean)
