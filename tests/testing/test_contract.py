"""The contract itself: a sound layer passes, each broken layer fails by name.

These tests run on TensorFlow and on JAX: each broken part fails the named
checks on both, except where a check differs by backend (said where so).
"""

import json

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


@keras.saving.register_keras_serializable(package="contract_tests")
class HiddenOffset(Affine):
    """Broken: adds a random offset kept where no checkpoint looks."""

    def build(self, input_shape):
        super().build(input_shape)
        # A plain attribute of a non-trackable holder hides the variable.
        self._holder = type("Holder", (), {})()
        self._holder.offset = keras.Variable(
            keras.random.normal(input_shape[-1:]), trainable=False
        )

    def call(self, x):
        return super().call(x) + keras.ops.cast(self._holder.offset, x.dtype)


@keras.saving.register_keras_serializable(package="contract_tests")
class ForgetsWeights(Affine):
    """Broken: ignores the weights Keras's weight files hand it."""

    def load_own_variables(self, store):
        pass


@keras.saving.register_keras_serializable(package="contract_tests")
class DriftsInHalf(Affine):
    """Broken: adds 1 to its output when computing in 16 bits."""

    def call(self, x):
        drift = 0.0 if self.compute_dtype == "float32" else 1.0
        return super().call(x) + drift


@keras.saving.register_keras_serializable(package="contract_tests")
class OverflowsInHalf(Affine):
    """Broken: squares a large value, beyond float16's 65504."""

    def call(self, x):
        return super().call(x) + (x * 0.0 + 1e3) ** 2 * 1e-6


def affine_reference(layer, x):
    return x * layer.scale.numpy() + layer.shift.numpy()


def _failures(layer_cls, **kwargs):
    with pytest.raises(ContractError) as info:
        check_layer(layer_cls, {"initial_scale": 0.5}, X, **kwargs)
    return info.value


#: The checks that do not train: a part broken in one of them must fail
#: that one alone (`test_sound_layer_passes_every_check` runs them all).
NOT_TRAINING = [
    "output_shape",
    "reference",
    "config",
    "keras_file",
    "gradients",
]


@pytest.mark.slow
def test_sound_layer_passes_every_check():
    check_layer(Affine, {"initial_scale": 0.5}, X, reference=affine_reference)


@pytest.mark.slow
def test_missing_config_key_fails_the_config_check():
    error = _failures(ForgetsConfig, only=NOT_TRAINING)
    assert set(error.failures) == {"config"}
    assert "initial_scale" in str(error) and "[config]" in str(error)


@pytest.mark.slow
def test_weight_without_gradient_fails_the_gradient_check():
    error = _failures(DeadWeight, only=NOT_TRAINING)
    assert "gradients" in error.failures
    assert "unused" in error.failures["gradients"]


def test_python_side_numpy_fails_the_graph_checks():
    error = _failures(CallsNumpy)
    assert {"fit", "fit_jit", "fit_distributed"} <= set(error.failures)
    assert "[fit_jit]" in str(error)


@pytest.mark.slow
def test_wrong_declared_shape_fails_the_shape_check():
    error = _failures(WrongShape, only=NOT_TRAINING)
    assert set(error.failures) == {"output_shape"}
    assert "compute_output_shape" in error.failures["output_shape"]


@pytest.mark.slow
def test_wrong_reference_fails_the_reference_check():
    error = _failures(
        Affine, reference=lambda layer, x: x * 2.0, only=NOT_TRAINING
    )
    assert set(error.failures) == {"reference"}
    assert "max abs difference" in error.failures["reference"]


def test_untracked_state_fails_the_checkpoint_check():
    error = _failures(HiddenOffset, only=["checkpoint"])
    assert "restored checkpoint" in error.failures["checkpoint"]


@pytest.mark.backends("jax")
@pytest.mark.slow
def test_weights_not_loaded_fail_the_checkpoint_check_on_jax():
    # On JAX the checkpoint is Keras's weight file, which goes through
    # `load_own_variables`; TensorFlow's `tf.train.Checkpoint` does not.
    error = _failures(ForgetsWeights, only=["checkpoint", "fit"])
    assert set(error.failures) == {"checkpoint"}
    assert "max abs difference" in error.failures["checkpoint"]


@pytest.mark.slow
def test_half_precision_outputs_are_compared_with_float32():
    # Both policies start from one float32 twin's weights, so only the
    # drift differs; the failure names the first policy.
    error = _failures(DriftsInHalf, only=["mixed_precision"])
    assert "under mixed_float16" in error.failures["mixed_precision"]
    assert "outputs against float32" in error.failures["mixed_precision"]
    overflow = _failures(OverflowsInHalf, only=["mixed_precision"])
    assert "non-finite outputs" in overflow.failures["mixed_precision"]


def _reusing_builder():
    """Broken model builder: every model shares one layer built up front."""
    shared = keras.layers.Dense(2)
    shared.build((None, 4))

    def build_reusing():
        return keras.Sequential([keras.Input((4,)), shared])

    return build_reusing


def test_layer_created_outside_the_distribution_fails_fit_distributed():
    y = X @ np.ones((4, 2), "float32")
    with pytest.raises(ContractError) as info:
        check_model(_reusing_builder(), X, y, only=["fit", "fit_distributed"])
    assert set(info.value.failures) == {"fit_distributed"}
    if keras.backend.backend() == "jax":
        assert "not laid out over the 2 devices" in str(info.value)


@pytest.mark.backends("jax")
def test_fit_distributed_lays_every_variable_over_two_devices_on_jax():
    built = []

    def build():
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8, "tanh"),
                keras.layers.Dense(2),
            ]
        )
        built.append(model)
        return model

    y = X @ np.ones((4, 2), "float32")
    # 7 samples in batches of 3: the check trains on 6 in batches of 2, so
    # that every batch splits over the two devices.
    check_model(build, X[:7], y[:7], batch_size=3, only=["fit_distributed"])
    probe, trained = built
    assert int(trained.optimizer.iterations.numpy()) == 5 * 3  # epochs x steps
    for variable in trained.variables + trained.optimizer.variables:
        sharding = variable.value.sharding
        assert {d.id for d in sharding.device_set} == {0, 1}, variable.path
        assert len(variable.value.addressable_shards) == 2
    for variable in probe.variables:  # created outside: one device
        assert len(variable.value.sharding.device_set) == 1


def test_unknown_check_name_is_rejected():
    with pytest.raises(ValueError, match="Unknown contract check"):
        check_layer(Affine, {}, X, only=["no_such_check"])
    assert "fit_distributed" in LAYER_CHECKS


@pytest.mark.slow
def test_model_contract_passes_and_catches_a_frozen_model():
    y = X @ np.ones((4, 2), "float32")

    def build():
        return keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8, "tanh"),
                keras.layers.Dense(2),
            ]
        )

    check_model(build, X, y)

    def build_untrainable():
        model = build()
        model.layers[0].trainable = False
        model.layers[1].trainable = False
        return model

    # `fit` evaluates before and after; `fit_jit` and `mixed_precision`
    # look at the training loss first and evaluate only when it stayed put.
    checks = ["fit", "fit_jit", "mixed_precision"]
    with pytest.raises(ContractError) as info:
        check_model(build_untrainable, X, y, only=checks)
    for name in checks:
        assert "did not lower the loss" in info.value.failures[name]


def test_model_contract_catches_a_loss_that_diverges():
    y = X @ np.ones((4, 2), "float32")

    def build():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])

    with pytest.raises(ContractError) as info:
        check_model(build, X, y * 1e30, learning_rate=1e30, only=["fit_jit"])
    assert "loss became" in info.value.failures["fit_jit"]


def test_contract_runs_are_recorded_for_the_sweep_table(tmp_path, monkeypatch):
    from keras_dlparts.testing import report

    results = tmp_path / "runs.jsonl"
    monkeypatch.setenv(report.REPORT_ENV, str(results))
    check_layer(Affine, {"initial_scale": 0.5}, X, only=["output_shape", "fit"])
    with pytest.raises(ContractError):
        check_layer(
            WrongShape, {"initial_scale": 0.5}, X, only=["output_shape"]
        )
    assert report.read_results(results) == []  # both runs were partial
    runs = report.read_results(results, include_partial=True)
    assert [r["results"] for r in runs] == [
        {"output_shape": "pass", "fit": "pass"},
        {"output_shape": "fail"},
    ]
    backend = keras.backend.backend()
    assert {r["backend"] for r in runs} == {backend}
    table = report.contract_table(runs)
    cells = "pass | - | - | - | 1/1"
    missing = "- | - | - | - | -"
    row = "| `Affine(initial_scale=0.5)` | "
    if backend == "tensorflow":
        assert f"{row}{cells} | {missing} |" in table
    else:
        assert f"{row}{missing} | {cells} |" in table
    assert report.summary(runs) == (
        f"{report.BACKEND_NAMES[backend]}: 1 of 2 contract runs passed every "
        "check."
    )


def test_report_from_a_results_file_has_a_column_group_per_backend(tmp_path):
    from keras_dlparts.testing import report

    every = {"fit": "pass", "fit_jit": "pass", "fit_distributed": "pass"}
    runs = [
        {
            "subject": "Maxout(num_units=4)",
            "backend": "tensorflow",
            "results": {**every, "mixed_precision": "pass", "config": "pass"},
        },
        {
            "subject": "Maxout(num_units=4)",
            "backend": "jax",
            "results": {**every, "mixed_precision": "fail", "config": "pass"},
        },
        {"subject": "loss RobustLoss", "results": {**every}},  # older: TF
        {
            "subject": "loss RobustLoss",
            "backend": "jax",
            "partial": True,
            "results": {"fit": "fail"},
        },
    ]
    source = tmp_path / "runs.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in runs))
    output = tmp_path / "sweep.md"
    report.main(["--from", str(source), "--output", str(output)])
    text = output.read_text()
    assert "| part | TF fit | TF fit_jit | TF fit_distributed |" in text
    assert "| JAX fit | JAX fit_jit | JAX fit_distributed |" in text
    assert (
        "| `Maxout(num_units=4)` | pass | pass | pass | pass | 1/1 "
        "| pass | pass | pass | fail | 1/1 |"
    ) in text
    assert (
        "| `loss RobustLoss` | pass | pass | pass | - | 0/0 "
        "| - | - | - | - | - |"
    ) in text
    assert "TensorFlow: 2 of 2 contract runs passed every check." in text
    assert "JAX: 0 of 1 contract runs passed every check." in text


def test_optimizer_built_before_fit_trains_to_the_same_weights():
    """`build_optimizer` (the fit checks' first step) changes no number."""
    from keras_dlparts.testing.harness import build_optimizer

    def trained(build_first):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
        model.compile(optimizer=keras.optimizers.Adam(0.1), loss="mse")
        if build_first:
            build_optimizer(model)
            assert model.optimizer.built
            # Adam: a momentum and a velocity for the kernel and the bias.
            assert len(model.optimizer.variables) >= 4
        model.fit(X, X[:, :2] * 2.0, epochs=3, batch_size=4, verbose=0)
        return model.get_weights()

    for built_first, plain in zip(trained(True), trained(False)):
        np.testing.assert_allclose(built_first, plain, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("samples", [8, 10])  # batches even, and not
def test_fit_check_trains_on_the_batches_of_a_plain_fit(samples):
    """`Case.fit_lowers_loss` (one data iterator for every epoch) ends with
    the weights of a plain `model.fit` over the same data, epoch by epoch."""
    from keras_dlparts.testing.harness import Case

    x = np.random.default_rng(0).normal(size=(samples, 4)).astype("float32")
    y = x[:, :2] * 2.0 + 1.0

    def build():
        keras.utils.set_random_seed(0)
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])

    def compiled():
        model = build()
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        return model

    case = Case(build, x, y, "mse", 0.05, epochs=3, batch_size=4)
    ours = compiled()
    case.fit_lowers_loss(ours)
    plain = compiled()
    plain.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    for got, want in zip(ours.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_finite_gradient_check_catches_non_finite_and_all_zero_gradients():
    from keras_dlparts.testing.harness import check_finite_gradients

    layer = keras.layers.Dense(1)
    layer.build((None, 2))
    x = keras.ops.ones((3, 2))
    check_finite_gradients(layer, lambda: keras.ops.sum(layer(x)))
    with pytest.raises(AssertionError, match="non-finite gradients"):
        check_finite_gradients(
            layer, lambda: keras.ops.sum(keras.ops.sqrt(layer(x) * 0.0))
        )
    with pytest.raises(AssertionError, match="no gradient reaches any"):
        check_finite_gradients(layer, lambda: keras.ops.sum(layer(x) * 0.0))
