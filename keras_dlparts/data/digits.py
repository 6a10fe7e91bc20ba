"""scikit-learn's handwritten digits as ready-to-train NumPy arrays.

The data ships inside scikit-learn (1,797 images of 8x8 pixels, 10
classes), so nothing is downloaded. TensorFlow-free.
"""

import numpy as np

from keras_dlparts import _validation


def load_digits(test_fraction=0.2, seed=0, as_images=True):
    """Loads scikit-learn's digits, scaled to [0, 1], split by class.

    Args:
        test_fraction: share of every class kept for the test split, in (0, 1).
        seed: seed of the shuffle that decides the split.
        as_images: `True` gives images shaped (n, 8, 8, 1); `False` flat
            vectors shaped (n, 64).

    Returns:
        `((x_train, y_train), (x_test, y_test))` with float32 images and
        int32 labels.

    Examples:

        >>> (x_train, y_train), (x_test, y_test) = load_digits()
        >>> x_train.shape, x_test.shape
        ((1438, 8, 8, 1), (359, 8, 8, 1))
        >>> float(x_train.max())
        1.0
    """
    test_fraction = _validation.number(
        "test_fraction",
        test_fraction,
        low=0,
        high=1,
        include_low=False,
        include_high=False,
    )
    seed = _validation.random_seed("seed", seed)
    as_images = _validation.boolean("as_images", as_images)
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as error:  # pragma: no cover - depends on the install
        raise ImportError(
            "load_digits needs scikit-learn: pip install scikit-learn"
        ) from error
    bunch = sklearn_digits()
    images = (bunch.data / 16.0).astype("float32")
    labels = bunch.target.astype("int32")
    rng = np.random.default_rng(seed)
    test_mask = np.zeros(len(labels), dtype=bool)
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        test_mask[members[: int(round(len(members) * test_fraction))]] = True
    if as_images:
        images = images.reshape(-1, 8, 8, 1)
    return (images[~test_mask], labels[~test_mask]), (
        images[test_mask],
        labels[test_mask],
    )


#: The English name of each digit class.
DIGIT_NAMES = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
)

#: Caption templates for digit images, as in CLIP's "a photo of a {}".
CAPTION_TEMPLATES = (
    "a photo of the digit {}",
    "an image of a {}",
    "handwritten number {}",
    "the number {} written by hand",
)


def digit_captions(labels, templates=CAPTION_TEMPLATES, seed=0):
    """A short caption for each digit label, from a randomly chosen template.

    Args:
        labels: a list or 1-D array of digit labels, integers 0 to 9.
        templates: a list of strings, each with one `{}` for the digit's name.
        seed: the seed of the template choice.

    Returns:
        A list of strings, one per label.

    Examples:

        >>> digit_captions([7, 0], templates=("a photo of the digit {}",))
        ['a photo of the digit seven', 'a photo of the digit zero']
    """
    labels = _digit_labels(labels)
    templates = _validation.names("templates", templates)
    if not templates or not all("{}" in t for t in templates):
        raise ValueError(
            "Argument `templates` must be a non-empty list of strings, each "
            "with a `{}` for the digit's name. "
            f"Received: templates={templates!r}"
        )
    rng = np.random.default_rng(_validation.random_seed("seed", seed))
    return [
        templates[rng.integers(len(templates))].format(DIGIT_NAMES[int(label)])
        for label in labels
    ]


def _digit_labels(labels):
    """`labels` as a 1-D integer array of digits 0 to 9, else raises."""
    return _validation.class_labels("labels", labels, num_classes=10)
