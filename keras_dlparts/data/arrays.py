"""In-memory NumPy arrays as batched `tf.data` pipelines.

tf.data on every Keras backend; TensorFlow is imported when a dataset is
made, not when this module is.
"""

import numpy as np

from keras_dlparts import _validation
from keras_dlparts.data._pipeline import batched_pipeline


def make_dataset(
    x,
    y=None,
    batch_size=32,
    augment=None,
    shuffle=True,
    seed=None,
    normalize=None,
    drop_remainder=False,
):
    """Batches NumPy inputs (and targets) into a `tf.data.Dataset`.

    The same pipeline as `load_tfds` without the cache (the arrays are in
    memory already): shuffle (a full-size buffer) -> batch ->
    map(normalize, augment) -> prefetch.

    Args:
        x: an array of inputs, first axis the examples.
        y: optional array of targets of the same length.
        batch_size: positive integer, the (global) batch size.
        augment: optional Keras layer, callable or list of them applied to
            each batch of inputs.
        shuffle: whether to reshuffle every epoch.
        seed: optional integer seed of the shuffle.
        normalize: as in `load_tfds`; `None` (the default) keeps `x`.
        drop_remainder: drop the last, smaller batch.

    Returns:
        A `tf.data.Dataset` of `x` batches or `(x, y)` batches.

    Examples:

        >>> import numpy as np
        >>> x, y = np.zeros((10, 8, 8, 1), "float32"), np.arange(10)
        >>> [int(b[0].shape[0]) for b in make_dataset(x, y, batch_size=4)]
        [4, 4, 2]
    """
    x = _examples("x", x)
    if y is not None:
        y = _examples("y", y)
        _validation.same_batch_size(("x", x), ("y", y))
    _validation.boolean("shuffle", shuffle)
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))
    return batched_pipeline(
        dataset,
        batch_size,
        normalize=normalize,
        augment=augment,
        shuffle_buffer=len(x) if shuffle else 0,
        cache=False,
        seed=seed,
        drop_remainder=drop_remainder,
    )


def _examples(name, value):
    """`value` as a NumPy array of at least one example, else raises."""
    _validation.data_batch(name, value)
    try:
        array = np.asarray(value)
    except ValueError as error:  # arrays of unequal shapes
        raise ValueError(
            f"Argument `{name}` must be an array (equal shapes of every "
            f"example). Received: {error}"
        ) from error
    return _validation.data_batch(name, array)
