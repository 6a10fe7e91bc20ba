"""The one tf.data pipeline shared by `load_tfds` and `make_dataset`.

tf.data on every Keras backend (Keras's `fit` takes a `tf.data.Dataset` on
JAX too); TensorFlow is imported when a pipeline is built, not when this
module is.
"""

import keras

from keras_dlparts import _validation


def _to_float(x):
    import tensorflow as tf

    return tf.cast(x, "float32")


_NORMALIZATIONS = {
    "unit": lambda x: _to_float(x) / 255.0,  # [0, 255] -> [0, 1]
    "symmetric": lambda x: _to_float(x) / 127.5 - 1.0,  # -> [-1, 1]
    "float": _to_float,
}


def normalizer(normalize):
    """The function `normalize` names: a key of `_NORMALIZATIONS`, a
    callable, `True` (`"unit"`) or `None`/`False` (no change)."""
    if normalize is True:
        normalize = "unit"
    if normalize is None or normalize is False:
        return None
    if callable(normalize):
        return normalize
    if not isinstance(normalize, str) or normalize not in _NORMALIZATIONS:
        error = ValueError if isinstance(normalize, str) else TypeError
        raise error(
            f"Argument `normalize` must be one of {sorted(_NORMALIZATIONS)}, a "
            f"callable, True or None. Received: normalize={normalize!r}"
        )
    return _NORMALIZATIONS[normalize]


def augmenter(augment):
    """One function applying `augment`: a Keras layer (called with
    `training=True`), a callable, or a list of them applied in order."""
    if augment is None:
        return None
    steps = list(augment) if isinstance(augment, (list, tuple)) else [augment]
    for step in steps:
        if not callable(step):
            raise TypeError(
                "Argument `augment` must be a Keras layer, a callable or a list "
                f"of them. Received: augment={augment!r}"
            )

    def apply(x):
        for step in steps:
            if isinstance(step, keras.layers.Layer):
                x = step(x, training=True)
            else:
                x = step(x)
        return x

    return apply


def _on_inputs(fn, element_spec, input_key):
    """Lifts `fn` on the inputs to a map function over whole elements."""
    if isinstance(element_spec, dict):
        if input_key not in element_spec:
            raise ValueError(
                f"The dataset has no feature {input_key!r}; it has "
                f"{sorted(element_spec)}."
            )
        return lambda features: {**features, input_key: fn(features[input_key])}
    if isinstance(element_spec, tuple):
        return lambda x, *rest: (fn(x),) + tuple(rest)
    return fn


def pipeline_steps(
    batch_size,
    *,
    normalize,
    augment,
    shuffle_buffer,
    cache,
    seed,
    drop_remainder,
):
    """Checks the pipeline's arguments by name; returns its map functions."""
    _validation.positive_int("batch_size", batch_size)
    _validation.positive_int("shuffle_buffer", shuffle_buffer, minimum=0)
    if not isinstance(cache, bool) and not (isinstance(cache, str) and cache):
        raise TypeError(
            "Argument `cache` must be True, False or a file name. "
            f"Received: cache={cache!r}"
        )
    _validation.random_seed("seed", seed)
    _validation.boolean("drop_remainder", drop_remainder)
    return [
        f for f in (normalizer(normalize), augmenter(augment)) if f is not None
    ]


def batched_pipeline(
    dataset,
    batch_size,
    *,
    normalize=None,
    augment=None,
    shuffle_buffer=0,
    cache=True,
    seed=None,
    drop_remainder=False,
    input_key=None,
):
    """cache -> shuffle -> batch -> normalize and augment -> prefetch.

    Caching comes before the per-epoch work, so the decode happens once;
    normalisation and augmentation act on whole batches (vectorised) in a
    parallel `map`; the dataset ends with `prefetch(AUTOTUNE)`. The inputs
    are the element itself, the first item of a tuple, or
    `element[input_key]` of a dict.
    """
    steps = pipeline_steps(
        batch_size,
        normalize=normalize,
        augment=augment,
        shuffle_buffer=shuffle_buffer,
        cache=cache,
        seed=seed,
        drop_remainder=drop_remainder,
    )
    import tensorflow as tf

    AUTOTUNE = tf.data.AUTOTUNE
    if cache:
        dataset = dataset.cache() if cache is True else dataset.cache(cache)
    if shuffle_buffer:
        dataset = dataset.shuffle(
            shuffle_buffer, seed=seed, reshuffle_each_iteration=True
        )
    dataset = dataset.batch(
        batch_size, drop_remainder=drop_remainder, num_parallel_calls=AUTOTUNE
    )
    if steps:

        def prepare(x):
            for step in steps:
                x = step(x)
            return x

        dataset = dataset.map(
            _on_inputs(prepare, dataset.element_spec, input_key),
            num_parallel_calls=AUTOTUNE,
        )
    return dataset.prefetch(AUTOTUNE)
