"""The contract itself: a sound layer passes, each broken layer fails by name."""

import keras
import numpy as np
import pytest

from keras_dlparts.testing import LAYER_CHECKS
from keras_dlparts.testing import ContractError
from keras_dlparts.testing import check_layer
from keras_dlparts.testing import check_model

X = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")


@keras.saving.register_keras_serializable(package="contract_tests")
class Affine(keras.layers.Layer):
    """y = x * scale + shift, one weight pair per feature: a sound layer."""

    def __init__(self, initial_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.initial_scale = initial_scale

    def build(self, input_shape):
        self.scale = self.add_weight(
            shape=input_shape[-1:],
            initializer=keras.initializers.Constant(self.initial_scale),
            name="scale",
        )
        self.shift = self.add_weight(
            shape=input_shape[-1:], initializer="zeros", name="shift"
        )

    def call(self, x):
        return x * keras.ops.cast(self.scale, x.dtype) + keras.ops.cast(
            self.shift, x.dtype
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "initial_scale": self.initial_scale}


@keras.saving.register_keras_serializable(package="contract_tests")
class ForgetsConfig(Affine):
    """Broken: `initial_scale` is not returned by get_config()."""

    def get_config(self):
        return keras.layers.Layer.get_config(self)


@keras.saving.register_keras_serializable(package="contract_tests")
class DeadWeight(Affine):
    """Broken: a trainable weight the output never depends on."""

    def build(self, input_shape):
        super().build(input_shape)
        self.unused = self.add_weight(
            shape=(3,), initializer="ones", name="unused"
        )


@keras.saving.register_keras_serializable(package="contract_tests")
class CallsNumpy(Affine):
    """Broken: converts the tensor to NumPy inside call()."""

    def call(self, x):
        return super().call(keras.ops.convert_to_tensor(np.asarray(x) * 1.0))


@keras.saving.register_keras_serializable(package="contract_tests")
class WrongShape(Affine):
    """Broken: compute_output_shape disagrees with call()."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + 1,)


def affine_reference(layer, x):
    return x * layer.scale.numpy() + layer.shift.numpy()


def _failures(layer_cls, **kwargs):
    with pytest.raises(ContractError) as info:
        check_layer(layer_cls, {"initial_scale": 0.5}, X, **kwargs)
    return info.value


def test_sound_layer_passes_every_check():
    check_layer(Affine, {"initial_scale": 0.5}, X, reference=affine_reference)


def test_missing_config_key_fails_the_config_check():
    error = _failures(ForgetsConfig)
    assert set(error.failures) == {"config"}
    assert "initial_scale" in str(error) and "[config]" in str(error)


def test_weight_without_gradient_fails_the_gradient_check():
    error = _failures(DeadWeight)
    assert "gradients" in error.failures
    assert "unused" in error.failures["gradients"]


def test_python_side_numpy_fails_the_graph_checks():
    error = _failures(CallsNumpy)
    assert {"fit", "fit_jit", "fit_distributed"} <= set(error.failures)
    assert "[fit_jit]" in str(error)


def test_wrong_declared_shape_fails_the_shape_check():
    error = _failures(WrongShape)
    assert set(error.failures) == {"output_shape"}
    assert "compute_output_shape" in error.failures["output_shape"]


def test_wrong_reference_fails_the_reference_check():
    error = _failures(Affine, reference=lambda layer, x: x * 2.0)
    assert set(error.failures) == {"reference"}
    assert "max abs difference" in error.failures["reference"]


def test_unknown_check_name_is_rejected():
    with pytest.raises(ValueError, match="Unknown contract check"):
        check_layer(Affine, {}, X, only=["no_such_check"])
    assert "fit_distributed" in LAYER_CHECKS


def test_model_contract_passes_and_catches_a_frozen_model():
    y = X @ np.ones((4, 2), "float32")

    def build():
        return keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(8, "tanh"), keras.layers.Dense(2)]
        )

    check_model(build, X, y)

    def build_untrainable():
        model = build()
        model.layers[0].trainable = False
        model.layers[1].trainable = False
        return model

    with pytest.raises(ContractError) as info:
        check_model(build_untrainable, X, y, only=["fit"])
    assert "did not lower the loss" in info.value.failures["fit"]


def test_contract_runs_are_recorded_for_the_sweep_table(tmp_path, monkeypatch):
    from keras_dlparts.testing import report

    results = tmp_path / "runs.jsonl"
    monkeypatch.setenv(report.REPORT_ENV, str(results))
    check_layer(Affine, {"initial_scale": 0.5}, X, only=["output_shape", "fit"])
    with pytest.raises(ContractError):
        check_layer(WrongShape, {"initial_scale": 0.5}, X, only=["output_shape"])
    assert report.read_results(results) == []  # both runs were partial
    runs = report.read_results(results, include_partial=True)
    assert [r["results"] for r in runs] == [
        {"output_shape": "pass", "fit": "pass"},
        {"output_shape": "fail"},
    ]
    table = report.contract_table(runs)
    assert "| `Affine(initial_scale=0.5)` | pass | - | - | - | 1/1 |" in table
    assert report.summary(runs) == "1 of 2 contract runs passed every check."
