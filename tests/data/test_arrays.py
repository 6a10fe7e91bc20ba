"""make_dataset: NumPy arrays through the shared tf.data pipeline.

The pipeline itself is tf.data, the same on every backend: its tests run
in the TensorFlow run of the suite. That a dataset feeds `fit` is checked
on every backend (Keras's JAX trainer takes a `tf.data.Dataset` too).
"""

import keras
import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.data import make_dataset

tf_only = pytest.mark.backends("tensorflow")


def _collect(dataset):
    batches = [tuple(np.asarray(t) for t in batch) for batch in dataset]
    return [np.concatenate(parts) for parts in zip(*batches)], batches


@tf_only
def test_unshuffled_batches_keep_order_and_values():
    (x, y), _ = load_digits()
    (xs, ys), batches = _collect(
        make_dataset(x[:50], y[:50], batch_size=16, shuffle=False)
    )
    assert [len(b[0]) for b in batches] == [16, 16, 16, 2]
    np.testing.assert_array_equal(xs, x[:50])
    np.testing.assert_array_equal(ys, y[:50])


@tf_only
def test_shuffle_is_a_seeded_permutation_redrawn_each_epoch():
    x = np.arange(40, dtype="float32").reshape(40, 1)
    y = np.arange(40)
    dataset = make_dataset(x, y, batch_size=8, seed=0)
    (x1, y1), _ = _collect(dataset)
    (x2, y2), _ = _collect(dataset)
    (x3, _), _ = _collect(make_dataset(x, y, batch_size=8, seed=0))
    np.testing.assert_array_equal(np.sort(y1), y)
    np.testing.assert_array_equal(x1[:, 0], y1)  # pairs stay together
    assert not np.array_equal(y1, y2)
    np.testing.assert_array_equal(x1, x3)


@tf_only
def test_inputs_only_normalize_augment_and_drop_remainder():
    x = np.full((10, 2, 2, 1), 255, dtype="uint8")
    dataset = make_dataset(
        x,
        batch_size=4,
        shuffle=False,
        normalize="unit",
        augment=lambda b: b - 0.25,
        drop_remainder=True,
    )
    batches = [np.asarray(b) for b in dataset]
    assert [b.shape for b in batches] == [(4, 2, 2, 1)] * 2
    np.testing.assert_allclose(np.concatenate(batches), 0.75)


@tf_only
def test_mismatched_lengths_raise():
    with pytest.raises(
        ValueError, match="`x` and `y` must have the same batch size"
    ):
        make_dataset(np.zeros((4, 2)), np.zeros(3))


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"x": None}, TypeError, "x"),
        ({"x": np.zeros((0, 2))}, ValueError, "x"),
        ({"x": np.float32(1.0)}, ValueError, "x"),
        ({"y": "labels"}, TypeError, "y"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"batch_size": 2.0}, TypeError, "batch_size"),
        ({"shuffle": "yes"}, TypeError, "shuffle"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"augment": "flip"}, TypeError, "augment"),
        ({"normalize": "zscore"}, ValueError, "normalize"),
    ],
)
def test_bad_arguments_name_themselves(kwargs, error, argument):
    kwargs = {"x": np.zeros((4, 2)), "y": np.zeros(4), **kwargs}
    with pytest.raises(error, match=f"`{argument}`"):
        make_dataset(**kwargs)


def test_fit_on_the_dataset_is_fit_on_the_arrays():
    """One SGD epoch over unshuffled batches of 8, from the same weights:
    the weights after `fit(make_dataset(x, y))` are those after
    `fit(x, y, batch_size=8, shuffle=False)`, on every backend."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3).astype("float32")

    def trained(data, **fit_kwargs):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.compile(keras.optimizers.SGD(0.1), "mse")
        model.fit(data, epochs=1, verbose=0, **fit_kwargs)
        return model.get_weights()

    from_arrays = trained(x, y=y, batch_size=8, shuffle=False)
    from_dataset = trained(make_dataset(x, y, batch_size=8, shuffle=False))
    for got, want in zip(from_dataset, from_arrays):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    # The step moved the weights (3 steps of SGD on a non-zero loss).
    keras.utils.set_random_seed(0)
    initial = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    assert not np.allclose(initial.get_weights()[0], from_arrays[0])
