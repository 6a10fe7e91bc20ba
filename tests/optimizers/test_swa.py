import keras
import numpy as np
import pytest
from optimizers.test_lookahead import keras_adam_step
from support.optimizer_training import numpy_reference

from keras_dlparts.optimizers import SWA
from keras_dlparts.optimizers import update_batch_norm_statistics
from keras_dlparts.testing import check_optimizer

ADAM = dict(learning_rate=0.0625, beta_1=0.875, beta_2=1 - 2**-10)


def swa_average(trajectory, start_averaging, average_period):
    """Izmailov et al. (2018): the mean of the snapshots, taken after the
    updates of steps start, start + period, ... (counted from 0)."""
    snapshots = [
        w
        for t, w in enumerate(trajectory)
        if t >= start_averaging and (t - start_averaging) % average_period == 0
    ]
    return np.mean(snapshots, axis=0)


def test_weights_follow_the_inner_optimizer():
    check_optimizer(
        lambda: SWA(keras.optimizers.Adam(**ADAM), 3, 4),
        reference=numpy_reference(keras_adam_step(*ADAM.values()), "m", "v"),
        only=["reference", "config"],
    )


@pytest.mark.parametrize("start, period", [(0, 1), (0, 3), (2, 4), (5, 2)])
def test_average_matches_the_snapshots_mean(start, period):
    rng = np.random.default_rng(0)
    opt = SWA(keras.optimizers.SGD(0.1, momentum=0.5), start, period)
    w = keras.Variable(rng.normal(size=(2, 3)).astype("float32"))
    trajectory = []
    for t in range(12):
        opt.apply([rng.normal(size=(2, 3)).astype("float32")], [w])
        trajectory.append(w.numpy().astype("float64"))
        if t >= start:  # an average exists from the first snapshot on
            expected = swa_average(trajectory, start, period)
            np.testing.assert_allclose(
                opt._averages[0].numpy(), expected, rtol=1e-5, atol=1e-6
            )
    opt.assign_average_vars([w])
    np.testing.assert_allclose(
        w.numpy(), swa_average(trajectory, start, period), rtol=1e-5, atol=1e-6
    )


def test_fit_then_averaged_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = x @ rng.normal(size=(4, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    optimizer = SWA(
        keras.optimizers.SGD(0.05), start_averaging=2, average_period=3
    )
    model.compile(optimizer, "mse")
    trajectory = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            trajectory.append([w.copy() for w in self.model.get_weights()])

    model.fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        shuffle=False,
        verbose=0,
        callbacks=[Record()],
    )
    assert len(trajectory) == 12
    final = model.get_weights()
    optimizer.assign_average_vars(model.trainable_variables)
    for i, averaged in enumerate(model.get_weights()):
        expected = swa_average([w[i] for w in trajectory], 2, 3)
        np.testing.assert_allclose(averaged, expected, rtol=1e-5, atol=1e-6)
        assert not np.allclose(averaged, final[i])


@pytest.mark.slow
def test_contract():
    check_optimizer(
        lambda: SWA(keras.optimizers.Adam(**ADAM), 1, 2),
        reference=numpy_reference(keras_adam_step(*ADAM.values()), "m", "v"),
    )


def test_saves_and_reloads_with_its_averages(tmp_path):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(SWA(keras.optimizers.Adam(0.01), 1, 2), "mse")
    model.fit(x, x[:, :2], batch_size=4, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(restored.optimizer, SWA)
    assert isinstance(restored.optimizer.inner_optimizer, keras.optimizers.Adam)
    for a, b in zip(
        model.optimizer.variables, restored.optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    for each in (model, restored):
        each.fit(x, x[:, :2], batch_size=4, epochs=1, shuffle=False, verbose=0)
        each.optimizer.assign_average_vars(each.trainable_variables)
    for a, b in zip(model.weights, restored.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_learning_rate_is_the_inner_one():
    opt = SWA(keras.optimizers.SGD(0.5))
    assert float(opt.learning_rate) == 0.5
    opt.learning_rate = 0.25
    assert float(opt.inner_optimizer.learning_rate) == 0.25


def test_loads_only_a_store_of_its_own_variables():
    optimizer = SWA(keras.optimizers.Adam(0.1))
    w = keras.Variable([1.0, 2.0])
    optimizer.apply([keras.ops.convert_to_tensor([1.0, -1.0])], [w])
    before = [v.numpy() for v in optimizer.variables]
    # Own then inner variables: only Lookahead loads that (older) layout.
    store = {
        str(i): np.zeros_like(v.numpy())
        for i, v in enumerate(optimizer.variables)
    }
    with pytest.warns(UserWarning, match="Skipping variable loading"):
        optimizer.load_own_variables(store)
    for variable, value in zip(optimizer.variables, before, strict=True):
        np.testing.assert_array_equal(variable.numpy(), value)
    own = len(optimizer.variables) - len(optimizer.inner_optimizer.variables)
    optimizer.load_own_variables({str(i): store[str(i)] for i in range(own)})
    for variable in optimizer.variables[:own]:
        assert not np.any(variable.numpy())
    for variable, value in zip(
        optimizer.variables[own:], before[own:], strict=True
    ):
        np.testing.assert_array_equal(variable.numpy(), value)


def test_no_average_before_the_first_snapshot():
    opt = SWA(keras.optimizers.SGD(0.1), start_averaging=3)
    w = keras.Variable([1.0])
    for _ in range(3):
        opt.apply([np.ones(1, "float32")], [w])
    with pytest.raises(ValueError, match="no average yet"):
        opt.assign_average_vars([w])
    opt.apply([np.ones(1, "float32")], [w])
    opt.assign_average_vars([w])
    np.testing.assert_allclose(w.numpy(), [0.6], rtol=1e-6)


def _bn_model():
    inner = keras.Sequential(
        [keras.Input((3,)), keras.layers.BatchNormalization(momentum=0.9)]
    )
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(3), inner])


def test_batch_norm_statistics_are_the_batch_average():
    keras.utils.set_random_seed(0)
    model = _bn_model()
    x = np.random.default_rng(0).normal(size=(12, 3)).astype("float32") * 3 + 1
    frozen = [w.copy() for w in model.layers[0].get_weights()]
    used = update_batch_norm_statistics(model, x, batch_size=4)
    assert used == 3
    bn = model.layers[1].layers[0]  # nested in an inner model
    h = (x @ frozen[0] + frozen[1]).astype("float64").reshape(3, 4, 3)
    np.testing.assert_allclose(
        bn.moving_mean.numpy(), h.mean(axis=1).mean(axis=0), rtol=1e-5
    )
    np.testing.assert_allclose(
        bn.moving_variance.numpy(), h.var(axis=1).mean(axis=0), rtol=1e-5
    )
    assert bn.momentum == 0.9
    for before, after in zip(
        frozen, model.layers[0].get_weights(), strict=True
    ):
        np.testing.assert_array_equal(before, after)
    # An iterable of (x, y) batches, limited to 2 steps.
    pairs = [(x[i : i + 4], None) for i in range(0, 12, 4)]
    assert update_batch_norm_statistics(model, pairs, steps=2) == 2
    np.testing.assert_allclose(
        bn.moving_mean.numpy(), h[:2].mean(axis=1).mean(axis=0), rtol=1e-5
    )


def test_batch_norm_update_refuses_bad_arguments():
    model = _bn_model()
    with pytest.raises(TypeError, match="`model` must be"):
        update_batch_norm_statistics("x", np.zeros((2, 3)))
    with pytest.raises(ValueError, match="`batch_size` must be a positive"):
        update_batch_norm_statistics(model, np.zeros((2, 3)), batch_size=0)
    with pytest.raises(TypeError, match="`steps` must be a positive"):
        update_batch_norm_statistics(model, np.zeros((2, 3)), steps=1.5)
    with pytest.raises(TypeError, match="`data` must be an array"):
        update_batch_norm_statistics(model, 3)
    bn = model.layers[1].layers[0]
    before = bn.moving_mean.numpy()
    with pytest.raises(ValueError, match="at least one batch"):
        update_batch_norm_statistics(model, [])
    np.testing.assert_array_equal(bn.moving_mean.numpy(), before)
    with pytest.raises(ValueError, match="`model` must be built"):
        update_batch_norm_statistics(keras.layers.Dense(2), np.zeros((2, 3)))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"start_averaging": -1}, ValueError, "`start_averaging` must be an"),
        ({"start_averaging": 1.0}, TypeError, "`start_averaging`"),
        ({"average_period": 0}, ValueError, "`average_period` must be a"),
        ({"clipnorm": 1.0}, ValueError, "set them there"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        SWA(keras.optimizers.SGD(), **kwargs)


def test_bad_inner_optimizer():
    with pytest.raises(TypeError, match="`inner_optimizer` must be"):
        SWA("sgd")
    with pytest.raises(TypeError, match="wrap SWA in the LossScale"):
        SWA(keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD()))
    with pytest.raises(ValueError, match="gradient_accumulation_steps"):
        SWA(keras.optimizers.SGD(gradient_accumulation_steps=2))


def test_keras_private_api_swa_relies_on():
    # SWA runs its averaging through the backend's per-variable update
    # (tf.distribute's cross-replica update on TensorFlow), which has no
    # public equivalent.
    assert callable(
        getattr(keras.optimizers.Optimizer, "_backend_update_step", None)
    ), "Keras lost `Optimizer._backend_update_step`, which SWA.apply calls"
