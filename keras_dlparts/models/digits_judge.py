"""A digits classifier owned by the package, and FD-digits on its features.

`digits_judge()` trains a small Keras classifier on the training split of
`keras_dlparts.data.load_digits()` the first time it is called (a few
seconds on a CPU) and keeps it for the process. Its starting weights are
drawn with NumPy and its batches come in a NumPy-drawn order, so TensorFlow
and JAX train the same network (their features agree to float32
round-off). `fd_digits` is the Frechet distance between Gaussians fitted
to the judge's penultimate-layer features of two image sets, the digits
counterpart of FID.
"""

import functools

import keras
import numpy as np

from keras_dlparts.data.digits import load_digits
from keras_dlparts.ops.frechet import frechet_distance

_HIDDEN = (128, 32)  # the last hidden layer holds the features
_EPOCHS = 30
_BATCH = 64


def digits_judge():
    """A trained 8x8-digits classifier (cached per process).

    An MLP `64 -> 128 -> 32 -> 10` (ReLU, softmax), trained with Adam for
    30 epochs (batches of 64) on `load_digits()`'s training split (1,438
    images); about 97% accuracy on its test split. The 32-unit layer
    named `"features"` gives the features of `fd_digits`. Do not train it
    further: every caller in the process shares it.

    Returns:
        A `keras.Model` taking `(n, 64)` pixels in [0, 1] and returning
        class probabilities `(n, 10)`.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.data import load_digits
        >>> from keras_dlparts.models import digits_judge
        >>> _, (x_test, y_test) = load_digits(as_images=False)
        >>> judge = digits_judge()
        >>> predicted = judge.predict(x_test, verbose=0).argmax(-1)
        >>> bool(np.mean(predicted == y_test) > 0.95)
        True
    """
    return _trained()[0]


@functools.lru_cache(maxsize=1)
def _trained():
    (x, y), _ = load_digits(as_images=False)
    rng = np.random.default_rng(0)
    inputs = keras.Input((64,))
    h = inputs
    for i, units in enumerate(_HIDDEN):
        name = "features" if i == len(_HIDDEN) - 1 else f"hidden_{i}"
        h = keras.layers.Dense(units, activation="relu", name=name)(h)
    outputs = keras.layers.Dense(10, activation="softmax", name="classes")(h)
    model = keras.Model(inputs, outputs, name="digits_judge")
    weights = []
    for layer in model.layers[1:]:
        fan_in, fan_out = layer.kernel.shape
        limit = np.sqrt(6.0 / (fan_in + fan_out))  # Glorot uniform
        weights += [
            rng.uniform(-limit, limit, (fan_in, fan_out)),
            np.zeros(fan_out),
        ]
    model.set_weights([w.astype("float32") for w in weights])
    order = np.concatenate([rng.permutation(len(x)) for _ in range(_EPOCHS)])
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss="sparse_categorical_crossentropy",
    )
    model.fit(
        x[order],
        y[order],
        batch_size=_BATCH,
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    features = keras.Model(inputs, model.get_layer("features").output)
    return model, features


def digits_features(images):
    """The judge's 32 penultimate-layer features of 8x8 digit images.

    Args:
        images: `n >= 1` images in [0, 1], shaped `(n, 8, 8)`,
            `(n, 8, 8, 1)` or `(n, 64)`.

    Returns:
        A float32 NumPy array `(n, 32)`.
    """
    flat = _flat_images("images", images, minimum=1)
    return np.asarray(_trained()[1].predict(flat, verbose=0), "float32")


def fd_digits(images_a, images_b):
    """FD-digits: the Frechet distance of two image sets on judge features.

    `ops.frechet_distance` of `digits_features(images_a)` and
    `digits_features(images_b)`. Lower is closer; the two halves of the
    real test split (180 images each) give about 5, the test split against
    the training split about 0.6, digits against uniform noise about 200.
    Like FID it is biased upward for few images: compare sets of equal
    size (a few hundred images).

    Args:
        images_a, images_b: at least 2 images each in [0, 1], shaped
            `(n, 8, 8)`, `(n, 8, 8, 1)` or `(n, 64)`.

    Returns:
        A Python float.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.data import load_digits
        >>> from keras_dlparts.models import fd_digits
        >>> _, (x_test, _) = load_digits()
        >>> noise = np.random.default_rng(0).random(x_test.shape)
        >>> fd_digits(x_test[::2], x_test[1::2]) < fd_digits(x_test, noise)
        True
    """
    a = _flat_images("images_a", images_a, minimum=2)
    b = _flat_images("images_b", images_b, minimum=2)
    _, features = _trained()
    distance = frechet_distance(
        features.predict(a, verbose=0), features.predict(b, verbose=0)
    )
    return float(keras.ops.convert_to_numpy(distance))


def _flat_images(name, images, minimum):
    images = np.asarray(images)
    shape = images.shape
    if (
        len(shape) < 2
        or shape[0] < minimum
        or int(np.prod(shape[1:])) != 64
        or shape[1:] not in ((8, 8), (8, 8, 1), (64,))
    ):
        raise ValueError(
            f"Argument `{name}` must hold at least {minimum} 8x8 images, "
            "shaped (n, 8, 8), (n, 8, 8, 1) or (n, 64). "
            f"Received: {name}.shape={shape}"
        )
    if not np.issubdtype(images.dtype, np.number) or images.dtype == bool:
        raise TypeError(
            f"Argument `{name}` must hold numbers in [0, 1]. "
            f"Received: {name}.dtype={images.dtype}"
        )
    flat = images.reshape(shape[0], 64).astype("float32")
    if not (np.all(np.isfinite(flat)) and flat.min() >= 0 and flat.max() <= 1):
        raise ValueError(
            f"Argument `{name}` must hold pixels in [0, 1]. Received: "
            f"values from {np.nanmin(flat)} to {np.nanmax(flat)}"
        )
    return flat


def _class_sets(name, images, labels_name, labels):
    """Flat images and int labels of one set, refused by name."""
    flat = _flat_images(name, images, minimum=2)
    labels = np.asarray(labels)
    if labels.dtype == bool or not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(
            f"Argument `{labels_name}` must hold integer class labels. "
            f"Received: {labels_name}.dtype={labels.dtype}"
        )
    if labels.shape != (len(flat),):
        raise ValueError(
            f"Argument `{labels_name}` must be a vector with one label per "
            f"image of `{name}` ({len(flat)}). Received: "
            f"{labels_name}.shape={labels.shape}"
        )
    return flat, labels


def _check_classes(name, labels, classes, minimum):
    for c in classes:
        count = int(np.sum(labels == c))
        if count < minimum:
            raise ValueError(
                f"Argument `{name}` must give every class of the reference "
                f"at least {minimum} images. Received: {count} of class {c}"
            )


def per_class_fd_digits(images, labels, reference_images, reference_labels):
    """FD-digits within each class: a sample set against a reference set.

    For each class `c` of `reference_labels` (in increasing order),
    `fd_digits(images[labels == c], reference_images[reference_labels ==
    c])`, with the judge's features computed once. It measures how well
    each class's samples cover that class's data, so a within-class mode
    collapse raises it even when every sample is recognisable. Like
    `fd_digits` it is biased upward for few images: compare sets of equal
    sizes per class, e.g. against the FD-digits of held-out real digits.

    Args:
        images, reference_images: images in [0, 1], shaped `(n, 8, 8)`,
            `(n, 8, 8, 1)` or `(n, 64)`.
        labels, reference_labels: integer vectors, one class per image;
            every class of `reference_labels` needs at least 2 images in
            both sets.

    Returns:
        A float64 NumPy array, one distance per class of
        `np.unique(reference_labels)`.

    Examples:

        >>> from keras_dlparts.data import load_digits
        >>> from keras_dlparts.models import per_class_fd_digits
        >>> (x_train, y_train), (x_test, y_test) = load_digits()
        >>> fd = per_class_fd_digits(x_test, y_test, x_train, y_train)
        >>> fd.shape, bool(fd.max() < 10)
        ((10,), True)
    """
    flat, labels = _class_sets("images", images, "labels", labels)
    ref, ref_labels = _class_sets(
        "reference_images",
        reference_images,
        "reference_labels",
        reference_labels,
    )
    classes = np.unique(ref_labels)
    _check_classes("labels", labels, classes, 2)
    _check_classes("reference_labels", ref_labels, classes, 2)
    _, features = _trained()
    a = features.predict(flat, verbose=0)
    b = features.predict(ref, verbose=0)
    return np.array(
        [
            float(
                keras.ops.convert_to_numpy(
                    frechet_distance(a[labels == c], b[ref_labels == c])
                )
            )
            for c in classes
        ]
    )


def mean_pairwise_distance(images, labels=None):
    """The mean Euclidean pixel distance between two different images.

    Over all pairs `i < j` of the set, `mean ||x_i - x_j||` with the pixels
    in [0, 1] (so at most 8 for 8x8 images); with `labels`, over the pairs
    within each class. A set of near copies gives about 0; compare a
    sample set's value with the data's own (their ratio).

    Args:
        images: images in [0, 1], shaped `(n, 8, 8)`, `(n, 8, 8, 1)` or
            `(n, 64)`, at least 2 (per class with `labels`).
        labels: `None`, or an integer vector of one class per image.

    Returns:
        A Python float, or with `labels` a float64 NumPy array with one
        mean per class of `np.unique(labels)`.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.models import mean_pairwise_distance
        >>> x = np.zeros((3, 8, 8))
        >>> x[1, 0, 0], x[2, 0, 0] = 0.5, 1.0
        >>> mean_pairwise_distance(x)  # pairs at 0.5, 1.0 and 0.5
        0.6666666666666666
        >>> mean_pairwise_distance(x, labels=[0, 1, 1]).tolist()
        Traceback (most recent call last):
        ...
        ValueError: Argument `labels` must give every class at least 2 ...
        >>> mean_pairwise_distance(x, labels=[0, 0, 0]).tolist()
        [0.6666666666666666]
    """
    if labels is None:
        flat = _flat_images("images", images, minimum=2)
        return float(_mean_pairwise(flat))
    flat, labels = _class_sets("images", images, "labels", labels)
    classes = np.unique(labels)
    for c in classes:
        count = int(np.sum(labels == c))
        if count < 2:
            raise ValueError(
                "Argument `labels` must give every class at least 2 "
                f"images. Received: {count} of class {c}"
            )
    return np.array([_mean_pairwise(flat[labels == c]) for c in classes])


def _mean_pairwise(flat):
    x = flat.astype("float64")
    squares = np.sum(x * x, axis=1)
    d2 = squares[:, None] + squares[None, :] - 2.0 * (x @ x.T)
    distances = np.sqrt(np.maximum(d2, 0.0))
    n = len(x)
    return float(np.sum(np.triu(distances, k=1)) / (n * (n - 1) / 2))
