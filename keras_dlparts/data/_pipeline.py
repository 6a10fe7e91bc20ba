"""The one tf.data pipeline shared by `load_tfds` and `make_dataset`.

tf.data on every Keras backend (Keras's `fit` takes a `tf.data.Dataset` on
JAX too); TensorFlow is imported when a pipeline is built, not when this
module is.
"""

import os

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
    if isinstance(normalize, str):
        _validation.one_of("normalize", normalize, sorted(_NORMALIZATIONS))
        return _NORMALIZATIONS[normalize]
    raise TypeError(
        f"Argument `normalize` must be one of {sorted(_NORMALIZATIONS)}, a "
        f"callable, True or None. Received: normalize={normalize!r} of type "
        f"{type(normalize).__name__}"
    )


def augmenter(augment):
    """One function applying `augment`: a Keras layer (called with
    `training=True`), a callable, or a list of them applied in order."""
    if augment is None:
        return None
    if isinstance(augment, (list, tuple)):
        steps = [
            _validation.function(f"augment[{i}]", step)
            for i, step in enumerate(augment)
        ]
    else:
        steps = [_validation.function("augment", augment)]

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
    if not isinstance(cache, bool):  # else a file name
        _validation.path("cache", cache)
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
        dataset = (
            dataset.cache()
            if cache is True
            else dataset.cache(os.fspath(cache))
        )
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
