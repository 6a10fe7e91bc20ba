"""TFDS datasets as fast, batched `tf.data` pipelines.

The pipelines are `tf.data` (TensorFlow and TFDS are imported when the first
one is made); they feed `model.fit` on the TensorFlow and the JAX backend.
"""

from keras_dlparts import _validation
from keras_dlparts.data._pipeline import batched_pipeline
from keras_dlparts.data._pipeline import pipeline_steps


def load_tfds(
    name,
    split="train",
    batch_size=32,
    augment=None,
    shuffle_buffer=10_000,
    cache=True,
    as_supervised=True,
    image_key="image",
    label_key="label",
    normalize=True,
    seed=None,
    data_dir=None,
    drop_remainder=False,
    download=True,
):
    """Loads a TFDS dataset as a batched, prefetched `tf.data.Dataset`.

    The pipeline reads the decoded examples once into a cache, then per
    epoch shuffles, batches, normalises and augments whole batches in a
    parallel `map`, and prefetches (`AUTOTUNE` everywhere):

    ```
    tfds.load -> select (image, label) -> cache -> shuffle -> batch
      -> map(normalize, augment) -> prefetch
    ```

    `batch_size` is the global batch: under a `tf.distribute` strategy,
    pass the dataset to `model.fit` as it is, or through
    `strategy.experimental_distribute_dataset`, and each replica gets its
    share of every batch.

    Args:
        name: the TFDS name, e.g. `"mnist"` or `"cifar10:3.0.2"`.
        split: the split, e.g. `"train"` or `"test[:10%]"`.
        batch_size: positive integer, the global batch size.
        augment: optional Keras layer (called with `training=True`),
            callable, or list of them, applied to each batch of images after
            normalisation; `None` (the default) leaves them as they are, as
            evaluation data should be.
        shuffle_buffer: examples in the shuffle buffer; 0 for no shuffle.
        cache: `True` caches in memory, a string caches to that file,
            `False` reads the files every epoch.
        as_supervised: `True` gives `(image, label)` pairs; `False` the
            feature dictionary (its image normalised and augmented).
        image_key: the feature holding the model's inputs.
        label_key: the feature holding the targets (`as_supervised=True`).
        normalize: `True` or `"unit"` maps uint8 `[0, 255]` to float32
            `[0, 1]`, `"symmetric"` to `[-1, 1]`, `"float"` only casts,
            `None` keeps the stored dtype; or a callable on a batch.
        seed: optional integer seed of the file order and the shuffle.
        data_dir: optional directory of the TFDS data.
        drop_remainder: drop the last, smaller batch (static batch shape).
        download: whether TFDS may download and prepare the data.

    Returns:
        A `tf.data.Dataset` of batches.

    Examples:

        >>> import tensorflow_datasets as tfds
        >>> with tfds.testing.mock_data(num_examples=8):
        ...     dataset = load_tfds("mnist", batch_size=4, seed=0)
        ...     images, labels = next(iter(dataset))
        >>> images.shape, images.dtype.name, labels.shape
        (TensorShape([4, 28, 28, 1]), 'float32', TensorShape([4]))
    """
    _check_arguments(
        name=name,
        split=split,
        as_supervised=as_supervised,
        image_key=image_key,
        label_key=label_key,
        data_dir=data_dir,
        download=download,
    )
    pipeline_steps(
        batch_size,
        normalize=normalize,
        augment=augment,
        shuffle_buffer=shuffle_buffer,
        cache=cache,
        seed=seed,
        drop_remainder=drop_remainder,
    )
    import tensorflow_datasets as tfds

    read_config = tfds.ReadConfig(shuffle_seed=seed)
    dataset = tfds.load(
        name,
        split=split,
        data_dir=data_dir,
        shuffle_files=bool(shuffle_buffer),
        download=download,
        read_config=read_config,
    )
    for key in (image_key,) + ((label_key,) if as_supervised else ()):
        if key not in dataset.element_spec:
            raise ValueError(
                f"Dataset {name!r} has no feature {key!r}; it has "
                f"{sorted(dataset.element_spec)}. Pass `image_key=` / "
                "`label_key=`."
            )
    if as_supervised:
        dataset = dataset.map(
            lambda features: (features[image_key], features[label_key])
        )
    return batched_pipeline(
        dataset,
        batch_size,
        normalize=normalize,
        augment=augment,
        shuffle_buffer=shuffle_buffer,
        cache=cache,
        seed=seed,
        drop_remainder=drop_remainder,
        input_key=image_key,
    )


def _check_arguments(
    name, split, as_supervised, image_key, label_key, data_dir, download
):
    """Checks `load_tfds`'s own arguments by name, before TFDS reads."""
    _validation.string("name", name)
    if isinstance(split, (list, tuple)):
        _validation.names("split", split)
    elif not hasattr(split, "to_absolute"):  # a tfds.core.ReadInstruction
        _validation.string("split", split)
    _validation.boolean("as_supervised", as_supervised)
    _validation.string("image_key", image_key)
    _validation.string("label_key", label_key)
    _validation.path("data_dir", data_dir, allow_none=True)
    _validation.boolean("download", download)
