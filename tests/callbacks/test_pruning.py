import os

import keras
import numpy as np
import pytest
from support.tensorboard_events import scalars

from keras_dlparts.callbacks.pruning import MagnitudePruning
from keras_dlparts.callbacks.pruning import magnitude_mask
from keras_dlparts.callbacks.pruning import polynomial_sparsity
from keras_dlparts.data import load_digits
from keras_dlparts.testing import distribution_scope


def digits_mlp(seed=1):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(128, activation="relu", name="h1"),
            keras.layers.Dense(64, activation="relu", name="h2"),
            keras.layers.Dense(10, name="logits"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(2e-3),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def zeros_of(model):
    return {layer.name: layer.kernel.numpy() == 0 for layer in model.layers}


def test_schedule_matches_zhu_gupta():
    # s_t = s_f + (s_i - s_f) (1 - (t - t0) / (t1 - t0))^3, written out.
    s_i, s_f, t0, t1 = 0.1, 0.9, 100, 300
    for t in [0, 99, 100, 150, 200, 250, 299, 300, 1000]:
        if t < t0:
            expected = 0.0
        elif t >= t1:
            expected = s_f
        else:
            expected = s_f + (s_i - s_f) * (1 - (t - t0) / (t1 - t0)) ** 3
        assert polynomial_sparsity(t, s_f, t0, t1, s_i) == pytest.approx(
            expected
        )
    callback = MagnitudePruning(s_f, t0, t1, 50, initial_sparsity=s_i)
    assert callback.sparsity_at(200) == pytest.approx(0.9 - 0.8 / 8)


def numpy_mask(w, sparsity):
    """The mask from the definition: a stable sort of |w|, smallest k pruned."""
    flat = np.abs(w).ravel()
    mask = np.ones(flat.size, bool)
    mask[
        np.argsort(flat, kind="stable")[: int(round(sparsity * flat.size))]
    ] = False
    return mask.reshape(w.shape)


def test_mask_keeps_the_largest_magnitudes():
    w = np.array([[0.5, -3.0], [0.1, 2.0], [-0.2, 1.0]], "float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(magnitude_mask(w, 0.5)),
        [[False, True], [False, True], [False, True]],
    )
    assert keras.ops.convert_to_numpy(magnitude_mask(w, 0.0)).all()
    # Ties (zeros pruned before, repeated values) go by position.
    rng = np.random.default_rng(0)
    w = rng.choice([0.0, -0.5, 0.5, 1.0, -2.0], size=(6, 7)).astype("float32")
    for sparsity in (0.1, 0.3, 0.5, 0.9):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(magnitude_mask(w, sparsity)),
            numpy_mask(w, sparsity),
        )


def test_trainer_steps_from_the_pruned_weights():
    # Linear least squares, full batch, plain SGD: the NumPy replay prunes
    # at step 1 (schedule: 0 at step 0, the target from step 1) and masks
    # after every step. If the trainer stepped from its own unpruned copy
    # of the weights, the trajectory would differ.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6)).astype("float32")
    y = rng.normal(size=(16, 4)).astype("float32")
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(4, name="lin")]
    )
    model.compile(keras.optimizers.SGD(0.1), "mse")
    w, b = (v.numpy().astype("float64") for v in model.get_layer("lin").weights)
    pruning = MagnitudePruning(0.5, begin_step=0, end_step=1, frequency=1)
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(self.model.get_layer("lin").kernel.numpy().copy())

    model.fit(
        x,
        y,
        batch_size=16,
        epochs=6,
        shuffle=False,
        verbose=0,
        callbacks=[pruning, Spy()],
    )
    mask = np.ones_like(w, bool)
    for step in range(6):
        if step == 1:
            mask = numpy_mask(w, 0.5)
            w = w * mask
        np.testing.assert_allclose(seen[step], w, rtol=1e-5, atol=1e-6)
        residual = 2.0 * (x @ w + b - y) / y.size
        w, b = w - 0.1 * (x.T @ residual), b - 0.1 * residual.sum(0)
        w = w * mask
    kernel = model.get_layer("lin").kernel.numpy()
    np.testing.assert_allclose(kernel, w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        model.get_layer("lin").bias.numpy(), b, rtol=1e-5
    )
    assert np.mean(kernel == 0) == 0.5


@pytest.mark.slow
def test_schedule_logged_and_zeros_stay_zero(tmp_path):
    (x, y), _ = load_digits(as_images=False)
    x, y = x[:320], y[:320]
    model = digits_mlp()
    log_dir = str(tmp_path / "logs")
    pruning = MagnitudePruning(
        0.75, begin_step=2, end_step=22, frequency=5, log_dir=log_dir
    )
    model.fit(
        x, y, batch_size=32, epochs=3, verbose=0, callbacks=[pruning]
    )  # 30 steps
    target = scalars(log_dir, "pruning/target_sparsity")
    updates = [(s, v) for s, v in target if s in (2, 7, 12, 17, 22)]
    assert [s for s, _ in updates] == [2, 7, 12, 17, 22]
    for step, value in updates:
        assert value == pytest.approx(0.75 - 0.75 * (1 - (step - 2) / 20) ** 3)
    measured = dict(scalars(log_dir, "pruning/sparsity/h1"))
    for step, wanted in updates:
        assert measured[step] == pytest.approx(wanted, abs=1e-3)
    assert measured[10] == pytest.approx(
        dict(updates)[7], abs=1e-3
    )  # epoch end
    zeros = zeros_of(model)
    for name, mask in zeros.items():
        assert mask.mean() == pytest.approx(0.75, abs=1e-3), name
    # Further training (Adam momentum would regrow them) keeps the zeros.
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[pruning])
    for name, mask in zeros_of(model).items():
        np.testing.assert_array_equal(mask, zeros[name])
    # Save and load: the zeros are in the file; a new callback keeps them.
    path = os.path.join(str(tmp_path), "pruned.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(
        reloaded.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    again = MagnitudePruning(0.75, begin_step=2, end_step=22, frequency=5)
    reloaded.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[again])
    for name, mask in zeros_of(reloaded).items():
        np.testing.assert_array_equal(mask, zeros[name])


@pytest.mark.slow
@pytest.mark.learning
def test_digits_mlp_pruned_to_80_percent_keeps_accuracy():
    (x, y), (x_test, y_test) = load_digits(as_images=False)
    dense = digits_mlp()
    dense.fit(x, y, batch_size=32, epochs=20, verbose=0)
    pruned = digits_mlp()
    pruning = MagnitudePruning(0.8, begin_step=0, end_step=400, frequency=20)
    pruned.fit(x, y, batch_size=32, epochs=20, verbose=0, callbacks=[pruning])
    for mask in zeros_of(pruned).values():
        assert mask.mean() == pytest.approx(0.8, abs=1e-3)
    dense_acc = dense.evaluate(x_test, y_test, verbose=0)[1]
    pruned_acc = pruned.evaluate(x_test, y_test, verbose=0)[1]
    assert dense_acc > 0.93
    assert pruned_acc >= dense_acc - 0.02


@pytest.mark.slow
def test_layer_selection_and_errors():
    model = digits_mlp()
    pruning = MagnitudePruning(0.5, 0, 10, 1, layer_names=["h2"])
    model.fit(
        np.ones((4, 64)),
        np.zeros(4),
        epochs=1,
        batch_size=2,
        verbose=0,
        callbacks=[pruning],
    )
    assert set(pruning.kernels) == {"h2"}
    with pytest.raises(ValueError, match="target_sparsity"):
        MagnitudePruning(1.0)
    with pytest.raises(ValueError, match="end_step"):
        MagnitudePruning(0.5, begin_step=10, end_step=10)
    with pytest.raises(ValueError, match="frequency"):
        MagnitudePruning(0.5, frequency=0)
    with pytest.raises(ValueError, match="initial_sparsity"):
        MagnitudePruning(0.5, initial_sparsity=0.6)


@pytest.mark.slow
def test_under_distribution():
    # MirroredStrategy on TensorFlow, DataParallel over two devices on JAX.
    (x, y), _ = load_digits(as_images=False)
    pruning = MagnitudePruning(0.6, begin_step=0, end_step=6, frequency=2)
    with distribution_scope():
        model = digits_mlp()
        model.fit(
            x[:320],
            y[:320],
            batch_size=32,
            epochs=1,
            verbose=0,
            callbacks=[pruning],
        )
    for mask in zeros_of(model).values():
        assert mask.mean() == pytest.approx(0.6, abs=1e-3)


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        # Used to fail with "'<=' not supported between 'int' and 'str'".
        ({"initial_sparsity": "x"}, TypeError, "initial_sparsity"),
        ({"initial_sparsity": float("nan")}, ValueError, "initial_sparsity"),
        ({"target_sparsity": float("nan")}, ValueError, "target_sparsity"),
        ({"begin_step": -1}, ValueError, "begin_step"),
        ({"end_step": 2.5}, TypeError, "end_step"),
        ({"frequency": "x"}, TypeError, "frequency"),
        # Used to prune the layers "d", "e", "n", "s".
        ({"layer_names": "dense"}, TypeError, "layer_names"),
        ({"layer_names": [3]}, TypeError, "layer_names"),
        ({"log_dir": 3}, TypeError, "log_dir"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name):
    with pytest.raises(error, match=name):
        MagnitudePruning(**{"target_sparsity": 0.5, **kwargs})


def test_unknown_layer_names_refused_before_training():
    model = digits_mlp()
    before = [v.numpy().copy() for v in model.weights]
    pruning = MagnitudePruning(0.5, 0, 10, 1, layer_names=["h2", "typo"])
    with pytest.raises(ValueError, match=r"layer_names.*\['typo'\]"):
        model.fit(
            np.ones((4, 64)),
            np.zeros(4),
            batch_size=2,
            verbose=0,
            callbacks=[pruning],
        )
    for old, new in zip(before, model.weights):
        np.testing.assert_array_equal(old, new.numpy())  # not one step taken


class Block(keras.layers.Layer):
    """A layer holding sublayers: alone, in a list and in a dict."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.proj = keras.layers.Dense(4, name="proj")
        self.pair = [keras.layers.Dense(4, name="p0")]
        self.named = {"last": keras.layers.Dense(4, name="p1")}

    def call(self, x):
        return self.named["last"](self.pair[0](self.proj(x)))


@pytest.mark.slow
def test_nested_models_and_layers_are_pruned():
    # The kernels inside a Sequential inside a functional model, inside a
    # subclassed layer and inside MultiHeadAttention (its EinsumDense
    # projections) are found, as they were before the walk used public API.
    keras.utils.set_random_seed(0)
    inputs = keras.Input((3, 4))
    inner = keras.Sequential(
        [keras.Input((3, 4)), keras.layers.Dense(4, name="in_seq")]
    )
    x = Block(name="block")(inner(inputs))
    x = keras.layers.MultiHeadAttention(2, 2, name="mha")(x, x)
    outputs = keras.layers.Dense(1, name="head")(x)
    model = keras.Model(inputs, outputs)
    model.compile("sgd", "mse")
    pruning = MagnitudePruning(0.5, begin_step=0, end_step=1, frequency=1)
    model.fit(
        np.ones((4, 3, 4)),
        np.zeros((4, 3, 1)),
        batch_size=4,
        epochs=2,
        verbose=0,
        callbacks=[pruning],
    )
    expected = {"in_seq", "proj", "p0", "p1", "head"}
    expected |= {"query", "key", "value", "attention_output"}
    assert set(pruning.kernels) == expected
    for name, kernel in pruning.kernels.items():
        zeros = np.mean(keras.ops.convert_to_numpy(kernel) == 0)
        assert zeros == pytest.approx(0.5, abs=0.05), name
