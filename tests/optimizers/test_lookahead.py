import io
import zipfile

import h5py
import keras
import numpy as np
import pytest
from support.optimizer_training import adam_digits_accuracy
from support.optimizer_training import digits_accuracy
from support.optimizer_training import numpy_reference

from keras_dlparts.optimizers import Lookahead
from keras_dlparts.optimizers import PowerSign
from keras_dlparts.testing import check_optimizer


def keras_adam_step(lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Adam as Keras writes it (epsilon-hat form, see test_textbook.py)."""

    def step(w, g, state, t):
        state["m"] = beta_1 * state["m"] + (1 - beta_1) * g
        state["v"] = beta_2 * state["v"] + (1 - beta_2) * g**2
        alpha = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        return w - alpha * state["m"] / (np.sqrt(state["v"]) + epsilon)

    return step


def lookahead_reference(inner_step, sync_period, slow_step_size, *slots):
    """Algorithm 1 of Zhang et al. (2019) around a NumPy inner rule."""

    def step(w, g, state, t):
        if (t - 1) % sync_period == 0:
            state["slow"] = np.array(w)
        w = inner_step(w, g, state, t)
        if t % sync_period == 0:
            state["slow"] = state["slow"] + slow_step_size * (w - state["slow"])
            w = np.array(state["slow"])
        return w

    return numpy_reference(step, "slow", *slots)


@pytest.mark.slow
def test_contract_and_reference_around_adam():
    # Keras casts Python-float hyperparameters through float32: values exact
    # in float32 keep the float64 comparison free of that rounding.
    adam = dict(learning_rate=0.0625, beta_1=0.875, beta_2=1 - 2**-10)
    check_optimizer(
        lambda: Lookahead(
            keras.optimizers.Adam(**adam), sync_period=3, slow_step_size=0.375
        ),
        reference=lookahead_reference(
            keras_adam_step(0.0625, 0.875, 1 - 2**-10), 3, 0.375, "m", "v"
        ),
    )


def test_reference_around_sgd_with_momentum():
    def momentum_step(w, g, state, t):
        state["v"] = 0.875 * state["v"] - 0.05 * g
        return w + state["v"]

    check_optimizer(
        lambda: Lookahead(keras.optimizers.SGD(0.05, momentum=0.875)),
        reference=lookahead_reference(momentum_step, 6, 0.5, "v"),
        only=["reference", "config"],
    )


def test_config_serializes_the_inner_optimizer():
    opt = Lookahead(PowerSign(0.2, beta=0.7), sync_period=4, slow_step_size=0.3)
    config = opt.get_config()
    assert config["inner_optimizer"]["class_name"] == "PowerSign"
    clone = Lookahead.from_config(config)
    assert isinstance(clone.inner_optimizer, PowerSign)
    assert clone.inner_optimizer.beta == 0.7
    assert (clone.sync_period, clone.slow_step_size) == (4, 0.3)


def test_inner_learning_rate_schedule_and_clipping_apply():
    schedule = keras.optimizers.schedules.ExponentialDecay(1.0, 1, 0.5)
    opt = Lookahead(keras.optimizers.SGD(schedule, clipnorm=0.5), sync_period=9)
    w = keras.Variable([0.0])
    for _ in range(3):
        opt.apply([keras.ops.convert_to_tensor([4.0])], [w])
    # Clipped gradient 0.5, learning rates 1, 0.5, 0.25.
    np.testing.assert_allclose(w.numpy(), [-0.875], rtol=1e-6)
    assert int(opt.iterations.numpy()) == 3
    assert int(opt.inner_optimizer.iterations.numpy()) == 3


@pytest.mark.slow
@pytest.mark.learning
def test_trains_digits_as_well_as_adam():
    accuracy = digits_accuracy(Lookahead(keras.optimizers.Adam(1e-2)))
    assert accuracy >= adam_digits_accuracy() - 0.02


def _trained_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(Lookahead(keras.optimizers.Adam(0.01), sync_period=2), "mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    model.fit(x, x[:, :2], batch_size=4, epochs=1, shuffle=False, verbose=0)
    return model, x


def _stored_optimizer_arrays(path):
    with zipfile.ZipFile(path) as archive:
        data = io.BytesIO(archive.read("model.weights.h5"))
    arrays = []
    with h5py.File(data, "r") as store:
        store["optimizer"].visititems(
            lambda name, obj: (
                arrays.append(name) if isinstance(obj, h5py.Dataset) else None
            )
        )
    return arrays


def test_keras_file_stores_each_optimizer_variable_once_and_resumes(tmp_path):
    model, x = _trained_model()
    path = tmp_path / "m.keras"
    model.save(path)
    variables = model.optimizer.variables
    distinct = {id(v) for v in variables}
    assert len(distinct) == len(variables)
    # Lookahead's own (step, learning rate, 2 slow weights) and Adam's
    # (step, learning rate, 2 moments of each of the 2 weights).
    assert len(_stored_optimizer_arrays(path)) == len(distinct) == 10
    restored = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(restored.optimizer, Lookahead)
    for saved, loaded in zip(
        variables, restored.optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy())
    for each in (model, restored):
        each.fit(x, x[:, :2], batch_size=4, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(
        model.optimizer.variables, restored.optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for a, b in zip(model.weights, restored.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_loads_files_that_stored_the_inner_variables_twice():
    model, _ = _trained_model()
    optimizer = model.optimizer
    # The old layout: Lookahead's own variables, then the inner ones again.
    old_store = {str(i): v.numpy() for i, v in enumerate(optimizer.variables)}
    expected = [v.numpy() for v in optimizer.variables]
    for variable in optimizer.variables:
        variable.assign(np.zeros_like(variable.numpy()))
    optimizer.load_own_variables(old_store)
    own = len(optimizer.variables) - len(optimizer.inner_optimizer.variables)
    for variable, value in zip(
        optimizer.variables[:own], expected[:own], strict=True
    ):
        np.testing.assert_array_equal(variable.numpy(), value)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"sync_period": 0}, ValueError, "`sync_period` must be a positive"),
        ({"sync_period": 2.0}, TypeError, "`sync_period` must be a positive"),
        (
            {"slow_step_size": 1.5},
            ValueError,
            r"`slow_step_size` must be .*\(0.0, 1.0\]",
        ),
        ({"slow_step_size": float("nan")}, ValueError, "`slow_step_size`"),
        ({"slow_step_size": "x"}, TypeError, "`slow_step_size`"),
        (
            {"clipnorm": 1.0},
            ValueError,
            "set them there. Received: clipnorm=1.0",
        ),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Lookahead(keras.optimizers.SGD(), **kwargs)


def test_bad_inner_optimizer():
    with pytest.raises(TypeError, match="`inner_optimizer` must be a"):
        Lookahead("adam")
    with pytest.raises(TypeError, match="must be a plain optimizer"):
        Lookahead(Lookahead(keras.optimizers.SGD()))
    with pytest.raises(TypeError, match="wrap Lookahead in the LossScale"):
        Lookahead(keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD()))
    with pytest.raises(ValueError, match="does not support `use_ema`"):
        Lookahead(keras.optimizers.SGD(use_ema=True))


def test_keras_private_api_lookahead_relies_on():
    # Lookahead, RAdam and the sign rules use two private methods of
    # `keras.optimizers.Optimizer` that have no public equivalent: this
    # test names the one that a new Keras removed or changed.
    base = keras.optimizers.Optimizer
    for attribute in ("_get_variable_index", "_use_weight_decay"):
        assert callable(getattr(base, attribute, None)), (
            f"Keras no longer has `keras.optimizers.Optimizer.{attribute}`, "
            "which keras_dlparts.optimizers relies on"
        )
    # `_get_variable_index(variable)`: the variable's index in `build`'s list.
    variables = [keras.Variable(np.zeros(2)), keras.Variable(np.zeros(3))]
    optimizer = keras.optimizers.SGD()
    optimizer.build(variables)
    assert [optimizer._get_variable_index(v) for v in variables] == [0, 1], (
        "`keras.optimizers.Optimizer._get_variable_index` no longer gives "
        "the index of a variable in the list given to `build`"
    )
    # `_use_weight_decay(variable)`: the hook Keras's weight decay asks per
    # variable; Lookahead answers with its inner optimizer's exclusions.
    kept = keras.Variable(np.ones(2, "float32"), name="kept")
    decayed = keras.Variable(np.ones(2, "float32"), name="decayed")
    inner = keras.optimizers.SGD(0.1, weight_decay=0.5)
    inner.exclude_from_weight_decay(var_names=["kept"])
    zeros = [np.zeros(2, "float32")] * 2
    Lookahead(inner).apply(zeros, [kept, decayed])
    np.testing.assert_allclose(decayed.numpy(), [0.95, 0.95], rtol=1e-6)
    np.testing.assert_array_equal(
        kept.numpy(),
        [1.0, 1.0],
        err_msg="Keras's weight decay no longer asks "
        "`keras.optimizers.Optimizer._use_weight_decay` per variable, which "
        "Lookahead overrides to honour its inner optimizer's exclusions",
    )
