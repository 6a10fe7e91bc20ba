"""load_tfds on tfds.testing.mock_data: normalisation, augmentation and
distribution.

The pipeline is tf.data, the same on every backend: its tests run in the
TensorFlow run of the suite, and so does `experimental_distribute_dataset`
(tf.distribute). Data-parallel `fit` on a `load_tfds` dataset runs on every
backend (MirroredStrategy on TensorFlow, DataParallel on JAX).
"""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from keras_dlparts.data import load_tfds
from keras_dlparts.testing import distribution_scope
from keras_dlparts.testing import mirrored_strategy

N = 32
tf_only = pytest.mark.backends("tensorflow")


@pytest.fixture(autouse=True)
def mock_mnist():
    with tfds.testing.mock_data(num_examples=N):
        yield


def _raw():
    """The mock examples in file order, straight from TFDS (uint8 images)."""
    dataset = tfds.load("mnist", split="train", as_supervised=True)
    images, labels = zip(*tfds.as_numpy(dataset))
    return np.stack(images), np.stack(labels)


def _all(dataset):
    batches = list(tfds.as_numpy(dataset))
    return tuple(np.concatenate(parts) for parts in zip(*batches)), batches


@tf_only
def test_batches_shapes_dtypes_and_unit_normalisation():
    raw_images, raw_labels = _raw()
    dataset = load_tfds("mnist", batch_size=8, shuffle_buffer=0)
    assert dataset.element_spec[0].shape.as_list() == [None, 28, 28, 1]
    (images, labels), batches = _all(dataset)
    assert [len(b[0]) for b in batches] == [8, 8, 8, 8]
    assert images.dtype == np.float32 and labels.dtype == raw_labels.dtype
    np.testing.assert_allclose(images, raw_images / 255.0, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(labels, raw_labels)
    assert 0.0 <= images.min() and images.max() <= 1.0


@tf_only
@pytest.mark.parametrize(
    "normalize, expected",
    [
        ("symmetric", lambda x: x / 127.5 - 1.0),
        ("float", lambda x: x.astype("float32")),
        (None, lambda x: x),
        (lambda x: tf.cast(x, "float32") * 2.0, lambda x: x * 2.0),
    ],
)
def test_other_normalisations(normalize, expected):
    raw_images, _ = _raw()
    (images, _), _ = _all(
        load_tfds("mnist", batch_size=16, shuffle_buffer=0, normalize=normalize)
    )
    np.testing.assert_allclose(
        images, expected(raw_images), rtol=1e-6, atol=1e-6
    )
    assert images.dtype == (np.uint8 if normalize is None else np.float32)


@tf_only
def test_augmentation_applied_only_when_asked():
    raw_images, _ = _raw()
    raw = raw_images / 255.0
    (plain, _), _ = _all(load_tfds("mnist", batch_size=8, shuffle_buffer=0))
    # no augment: untouched
    np.testing.assert_allclose(plain, raw, rtol=1e-6, atol=1e-6)

    (inverted, _), _ = _all(
        load_tfds(
            "mnist", batch_size=8, shuffle_buffer=0, augment=lambda x: 1.0 - x
        )
    )
    np.testing.assert_allclose(
        inverted, 1.0 - raw, atol=1e-6
    )  # after normalising

    flip = keras.layers.RandomFlip("horizontal", seed=0)
    (flipped, _), _ = _all(
        load_tfds(
            "mnist",
            batch_size=8,
            shuffle_buffer=0,
            augment=[flip, lambda x: x * 0.5],
        )
    )
    mirrored = raw[:, :, ::-1]
    same = np.all(np.isclose(flipped, raw * 0.5, atol=1e-6), axis=(1, 2, 3))
    mirror = np.all(
        np.isclose(flipped, mirrored * 0.5, atol=1e-6), axis=(1, 2, 3)
    )
    assert np.all(same | mirror)  # every image kept or mirrored, then scaled
    assert mirror.sum() > 0 and same.sum() > 0  # the flip is random per image


@tf_only
def test_shuffle_is_seeded_and_reshuffles_each_epoch():
    raw_images, raw_labels = _raw()
    first = load_tfds("mnist", batch_size=N, shuffle_buffer=N, seed=3)
    second = load_tfds("mnist", batch_size=N, shuffle_buffer=N, seed=3)
    (a, la), _ = _all(first)
    (b, lb), _ = _all(second)
    np.testing.assert_array_equal(la, lb)  # same seed, same order
    (c, lc), _ = _all(first)  # next epoch
    assert not np.array_equal(la, lc)
    np.testing.assert_array_equal(
        np.sort(la), np.sort(raw_labels)
    )  # a permutation
    sums = np.sort(a.reshape(N, -1).sum(axis=1))
    raw_sums = np.sort(raw_images.reshape(N, -1).sum(axis=1) / 255.0)
    np.testing.assert_allclose(sums, raw_sums, rtol=1e-5)


@tf_only
def test_feature_dict_cache_file_and_drop_remainder(tmp_path):
    cache = str(tmp_path / "cache")
    dataset = load_tfds(
        "mnist",
        batch_size=5,
        as_supervised=False,
        shuffle_buffer=0,
        cache=cache,
        drop_remainder=True,
    )
    assert set(dataset.element_spec) >= {"image", "label"}
    assert dataset.element_spec["image"].shape.as_list() == [5, 28, 28, 1]
    batches = list(tfds.as_numpy(dataset))
    assert len(batches) == N // 5
    assert (
        batches[0]["image"].dtype == np.float32
        and batches[0]["image"].max() <= 1.0
    )
    assert any(name.startswith("cache") for name in os.listdir(tmp_path))


@tf_only
def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="no feature 'pixels'"):
        load_tfds("mnist", image_key="pixels")
    with pytest.raises(
        ValueError, match="`batch_size` must be a positive integer"
    ):
        load_tfds("mnist", batch_size=0)
    with pytest.raises(ValueError, match="`normalize` must be one of"):
        load_tfds("mnist", normalize="zscore")
    with pytest.raises(TypeError, match=r"`augment\[0\]` must be callable"):
        load_tfds("mnist", augment=[3])
    with pytest.raises(ValueError, match="`shuffle_buffer` must be"):
        load_tfds("mnist", shuffle_buffer=-1)


@pytest.mark.parametrize(
    "argument, value, error",
    [
        ("name", "", ValueError),
        ("name", None, TypeError),
        ("split", 3, TypeError),
        ("batch_size", float("nan"), TypeError),
        ("shuffle_buffer", 1.5, TypeError),
        ("cache", 1, TypeError),
        ("as_supervised", "yes", TypeError),
        ("label_key", "", ValueError),
        ("seed", -1, ValueError),
        ("data_dir", 3, TypeError),
        ("download", None, TypeError),
        ("drop_remainder", 1, TypeError),
        ("normalize", 3, TypeError),
    ],
)
def test_arguments_are_checked_before_tfds_reads(
    argument, value, error, monkeypatch
):
    def no_load(*args, **kwargs):
        raise AssertionError("tfds.load was called")

    monkeypatch.setattr(tfds, "load", no_load)
    kwargs = {"name": "mnist", argument: value}
    with pytest.raises(error, match=f"`{argument}`"):
        load_tfds(**kwargs)


@tf_only
def test_distributed_input_under_mirrored_strategy():
    strategy = mirrored_strategy()
    dataset = load_tfds(
        "mnist",
        batch_size=8,
        seed=0,
        augment=keras.layers.RandomTranslation(0.1, 0.1, seed=0),
    )
    distributed = strategy.experimental_distribute_dataset(dataset)
    images, labels = next(iter(distributed))
    per_replica = strategy.experimental_local_results(images)
    assert [int(t.shape[0]) for t in per_replica] == [
        4,
        4,
    ]  # global batch split
    assert [
        int(t.shape[0]) for t in strategy.experimental_local_results(labels)
    ] == [4, 4]


@pytest.mark.slow
def test_data_parallel_fit_on_every_backend():
    """`fit` over two devices on the augmented pipeline: the loss is the
    model's on the batches, and one epoch of SGD lowers it."""
    dataset = load_tfds(
        "mnist",
        batch_size=8,
        seed=0,
        augment=keras.layers.RandomTranslation(0.1, 0.1, seed=0),
    )
    (images, labels), _ = _all(
        load_tfds("mnist", batch_size=8, shuffle_buffer=0)
    )
    with distribution_scope():
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Flatten(),
                keras.layers.Dense(10, activation="softmax"),
            ]
        )
        model.compile(
            keras.optimizers.SGD(0.005), "sparse_categorical_crossentropy"
        )
        before = model.evaluate(images, labels, batch_size=8, verbose=0)
        history = model.fit(dataset, epochs=2, verbose=0)
        after = model.evaluate(images, labels, batch_size=8, verbose=0)
    probabilities = keras.ops.convert_to_numpy(model(images))
    expected = -np.mean(
        np.log(np.clip(probabilities[np.arange(N), labels], 1e-7, 1))
    )
    assert after == pytest.approx(expected, rel=1e-4)
    losses = history.history["loss"]
    assert len(losses) == 2 and np.isfinite(losses).all()
    assert after < before
