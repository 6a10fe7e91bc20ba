"""class_balanced_batches: P classes x K examples in every batch.

The pipeline is tf.data, the same on every backend: its tests run in the
TensorFlow run of the suite. That it feeds `fit` with a batch-hard triplet
loss is checked on every backend.
"""

import itertools
import math

import keras
import numpy as np
import pytest

from keras_dlparts.data import class_balanced_batches
from keras_dlparts.losses import TripletLoss

tf_only = pytest.mark.backends("tensorflow")

# Unbalanced classes: 7 labels with 2 to 14 examples (class 5 has 2 < K).
SIZES = {0: 14, 1: 9, 2: 5, 3: 12, 4: 6, 5: 2, 6: 8}
Y = np.concatenate([np.full(n, c) for c, n in SIZES.items()])
Y = np.random.default_rng(0).permutation(Y)
X = np.arange(len(Y), dtype="float32")[:, None]  # x holds its own index


def _batches(dataset, count=None):
    stream = dataset if count is None else itertools.islice(dataset, count)
    return [(np.asarray(x), np.asarray(y)) for x, y in stream]


@tf_only
def test_every_batch_holds_p_classes_of_k_examples():
    p, k = 3, 4
    batches = _batches(class_balanced_batches(X, Y, p, k, seed=1), 120)
    for x, y in batches:
        assert x.shape == (p * k, 1) and y.shape == (p * k,)
        np.testing.assert_array_equal(Y[x[:, 0].astype(int)], y)
        classes, counts = np.unique(y, return_counts=True)
        assert len(classes) == p and np.all(counts == k)
        # The K examples of a class are consecutive.
        assert np.all(y.reshape(p, k) == y.reshape(p, k)[:, :1])
        for c in classes:
            picked = x[y == c, 0]
            if SIZES[c] >= k:  # no example twice in a batch
                assert len(set(picked)) == k
            else:  # class 5: both its examples, then some again
                assert set(picked) == set(np.flatnonzero(Y == c))


@tf_only
def test_classes_and_examples_are_drawn_uniformly():
    p, k = 3, 2
    batches = _batches(class_balanced_batches(X, Y, p, k, seed=2), 70)
    for count in (1, 5, 33, 70):  # any run from the start
        labels = np.concatenate([y for _, y in batches[:count]])
        per_class = np.bincount(labels, minlength=7) // k
        assert per_class.max() - per_class.min() <= 1
        assert per_class.sum() == count * p
    # Within a class every example is used before any is used again.
    used = np.concatenate([x[:, 0] for x, _ in batches]).astype(int)
    for c, n in SIZES.items():
        if n >= k:
            uses = np.bincount(used[Y[used] == c], minlength=len(Y))
            uses = uses[Y == c]
            assert uses.max() - uses.min() <= 1, (c, uses)


@tf_only
def test_one_pass_without_repeat():
    p, k = 3, 4
    dataset = class_balanced_batches(X, Y, p, k, seed=3, repeat=False)
    # max(ceil(7 classes / 3), ceil(56 examples / 12)) = max(3, 5)
    expected = max(math.ceil(7 / p), math.ceil(len(X) / (p * k)))
    assert expected == 5 and len(dataset) == expected
    first = _batches(dataset)
    assert len(first) == expected
    per_class = np.bincount(np.concatenate([y for _, y in first])) // k
    assert len(per_class) == 7 and per_class.min() >= 1
    assert per_class.max() - per_class.min() <= 1  # 15 slots over 7: 2 or 3
    # With more classes than one pass of batches needs, each appears once.
    y = np.repeat(np.arange(10), 2)
    one = class_balanced_batches(y[:, None], y, 5, 2, repeat=False)
    labels = np.concatenate([b for _, b in one])
    assert len(one) == 2 and sorted(labels.tolist()) == y.tolist()


@tf_only
def test_same_seed_same_batches_and_new_passes_differ():
    def draw(seed, **kwargs):
        dataset = class_balanced_batches(X, Y, 2, 3, seed=seed, **kwargs)
        return [np.concatenate([x[:, 0] for x, _ in _batches(dataset, 6)])]

    np.testing.assert_array_equal(draw(7), draw(7))
    assert not np.array_equal(draw(7), draw(8))
    a = class_balanced_batches(X, Y, 2, 3, seed=7, repeat=False)
    b = class_balanced_batches(X, Y, 2, 3, seed=7, repeat=False)
    a1, a2 = _batches(a), _batches(a)
    b1, b2 = _batches(b), _batches(b)
    for (xa, _), (xb, _) in zip(a1 + a2, b1 + b2):
        np.testing.assert_array_equal(xa, xb)
    # The second pass (the next epoch) is a new draw.
    first = np.concatenate([x for x, _ in a1])
    assert not np.array_equal(first, np.concatenate([x for x, _ in a2]))


@tf_only
def test_normalize_and_augment_apply_to_the_inputs():
    images = np.full((8, 2, 2, 1), 255, "uint8")
    labels = np.arange(8) % 2
    dataset = class_balanced_batches(
        images, labels, 2, 2, normalize="unit", augment=lambda x: x * 2.0
    )
    x, y = _batches(dataset, 1)[0]
    assert x.dtype == np.float32 and np.allclose(x, 2.0)
    assert y.dtype == labels.dtype


def test_arguments_are_checked_by_name():
    with pytest.raises(ValueError, match="`x` and `y`"):
        class_balanced_batches(X[:5], Y, 2, 2)
    with pytest.raises(ValueError, match="classes_per_batch.*7"):
        class_balanced_batches(X, Y, 8, 2)
    with pytest.raises(ValueError, match="examples_per_class"):
        class_balanced_batches(X, Y, 2, 0)
    with pytest.raises(TypeError, match="examples_per_class"):
        class_balanced_batches(X, Y, 2, 1.5)
    with pytest.raises(ValueError, match="`y`"):
        class_balanced_batches(X, Y + 0.5, 2, 2)
    with pytest.raises(TypeError, match="`y`"):
        class_balanced_batches(X, Y.astype(str), 2, 2)
    with pytest.raises(ValueError, match=r"examples_per_class.*\[5\]"):
        class_balanced_batches(X, Y, 2, 3, replace=False)
    class_balanced_batches(X, Y, 2, 2, replace=False)  # every class has 2


def test_fit_with_batch_hard_triplets():
    """Every batch has positives: the batch-hard loss is never zero, and a
    few epochs lower it, on every backend."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(6), 10).astype("int32")
    x = (rng.normal(size=(6, 4))[y] + 0.8 * rng.normal(size=(60, 4))).astype(
        "float32"
    )
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    model.compile(
        keras.optimizers.Adam(0.05),
        TripletLoss(margin=0.5, mining="batch_hard"),
    )
    dataset = class_balanced_batches(x, y, 3, 4, seed=0)
    history = model.fit(dataset, epochs=4, steps_per_epoch=5, verbose=0)
    losses = history.history["loss"]
    assert min(losses) > 0 and losses[-1] < losses[0]
