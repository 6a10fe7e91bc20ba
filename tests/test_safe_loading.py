"""A tampered `.keras` file is refused by `load_model(safe_mode=True)`.

An attacker who can edit a saved file can put code in its config. These
tests save real models of the package, edit `config.json` inside the
archive the way an attacker would, and require that loading in safe mode
refuses every edit before any injected code could run. They also cut the
weights file short and require a clear error rather than a half-loaded
model.
"""

import json
import re
import zipfile

import keras
import numpy as np
import pytest

from keras_dlparts.layers import RBF
from keras_dlparts.models import SiameseNetwork


def _encoder():
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(3, name="embed")], name="encoder"
    )


def _saved(tmp_path, model):
    path = tmp_path / "model.keras"
    model.save(path)
    return path


def _rewrite(path, edit_config=None, edit_weights=None):
    """A copy of the archive at `path` with its config and/or weights edited."""
    out = path.with_name("tampered.keras")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json" and edit_config:
                config = json.loads(data)
                edit_config(config)
                data = json.dumps(config).encode()
            if item.filename.endswith(".weights.h5") and edit_weights:
                data = edit_weights(data)
            dst.writestr(item, data)
    return out


def _assert_refused(path, reason):
    """Loading `path` in safe mode raises, and the message says why."""
    with pytest.raises((ValueError, TypeError)) as info:
        keras.saving.load_model(path, safe_mode=True)
    assert re.search(reason, str(info.value), re.IGNORECASE), str(info.value)[
        -500:
    ]


def _lambda_config():
    """What Keras writes for a Lambda layer: marshalled Python bytecode."""
    layer = keras.layers.Lambda(lambda x: x * 2.0, name="payload")
    return keras.saving.serialize_keras_object(layer)


def _find(config, predicate):
    """Every dict inside `config` (nested) for which `predicate` holds."""
    found = []
    if isinstance(config, dict):
        if predicate(config):
            found.append(config)
        for value in config.values():
            found += _find(value, predicate)
    elif isinstance(config, list):
        for value in config:
            found += _find(value, predicate)
    return found


def _named_layer(name):
    return lambda c: (
        isinstance(c.get("config"), dict) and c["config"].get("name") == name
    )


def _siamese(tmp_path):
    model = SiameseNetwork(_encoder())
    model(np.zeros((2, 4), "float32"))
    return _saved(tmp_path, model)


def test_untampered_file_loads(tmp_path):
    path = _siamese(tmp_path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, SiameseNetwork)


def test_lambda_layer_swapped_into_a_nested_encoder_is_refused(tmp_path):
    def inject(config):
        (dense,) = _find(config, _named_layer("embed"))
        dense.clear()
        dense.update(_lambda_config())

    tampered = _rewrite(_siamese(tmp_path), edit_config=inject)
    _assert_refused(tampered, "lambda")


def test_bytecode_activation_is_refused(tmp_path):
    lambda_function = _lambda_config()["config"]["function"]

    def inject(config):
        (dense,) = _find(config, _named_layer("embed"))
        dense["config"]["activation"] = lambda_function

    tampered = _rewrite(_siamese(tmp_path), edit_config=inject)
    _assert_refused(tampered, "lambda")


@pytest.mark.parametrize(
    "reference",
    [
        {
            "module": "os",
            "class_name": "function",
            "config": "system",
            "registered_name": "function",
        },
        {
            "module": "builtins",
            "class_name": "function",
            "config": "eval",
            "registered_name": "function",
        },
        {
            "module": "subprocess",
            "class_name": "Popen",
            "config": {},
            "registered_name": None,
        },
    ],
)
def test_reference_to_an_arbitrary_python_object_is_refused(
    tmp_path, reference
):
    def inject(config):
        (dense,) = _find(config, _named_layer("embed"))
        dense["config"]["activation"] = reference

    tampered = _rewrite(_siamese(tmp_path), edit_config=inject)
    _assert_refused(tampered, "register_keras_serializable|not allowed|unsafe")


def test_arbitrary_object_as_a_package_layer_argument_is_refused(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, RBF(4, name="rbf")(inputs))
    path = _saved(tmp_path, model)

    def inject(config):
        (rbf,) = _find(config, _named_layer("rbf"))
        rbf["config"]["centers_initializer"] = {
            "module": "os",
            "class_name": "function",
            "config": "system",
            "registered_name": "function",
        }

    tampered = _rewrite(path, edit_config=inject)
    _assert_refused(
        tampered,
        "register_keras_serializable|could not interpret|"
        "`centers_initializer` must be",
    )


def test_truncated_weights_give_an_error_not_a_half_loaded_model(tmp_path):
    tampered = _rewrite(
        _siamese(tmp_path), edit_weights=lambda data: data[: len(data) // 2]
    )
    with pytest.raises((OSError, ValueError, KeyError)):
        keras.saving.load_model(tampered, safe_mode=True)
