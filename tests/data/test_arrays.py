"""make_dataset: NumPy arrays through the shared tf.data pipeline."""

import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.data import make_dataset


def _collect(dataset):
    batches = [tuple(np.asarray(t) for t in batch) for batch in dataset]
    return [np.concatenate(parts) for parts in zip(*batches)], batches


def test_unshuffled_batches_keep_order_and_values():
    (x, y), _ = load_digits()
    (xs, ys), batches = _collect(make_dataset(x[:50], y[:50], batch_size=16,
                                              shuffle=False))
    assert [len(b[0]) for b in batches] == [16, 16, 16, 2]
    np.testing.assert_array_equal(xs, x[:50])
    np.testing.assert_array_equal(ys, y[:50])


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


def test_inputs_only_normalize_augment_and_drop_remainder():
    x = np.full((10, 2, 2, 1), 255, dtype="uint8")
    dataset = make_dataset(x, batch_size=4, shuffle=False, normalize="unit",
                           augment=lambda b: b - 0.25, drop_remainder=True)
    batches = [np.asarray(b) for b in dataset]
    assert [b.shape for b in batches] == [(4, 2, 2, 1)] * 2
    np.testing.assert_allclose(np.concatenate(batches), 0.75)


def test_mismatched_lengths_raise():
    with pytest.raises(ValueError, match="same length.*len\\(x\\)=4, len\\(y\\)=3"):
        make_dataset(np.zeros((4, 2)), np.zeros(3))
