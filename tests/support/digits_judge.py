"""An independent digits classifier that judges generated or reconstructed
images.

It is scikit-learn's SVC, not a keras_dlparts part, so a generator cannot
grade its own homework. Images are 8x8 in [0, 1], any leading shape.
"""

import functools

import numpy as np
from sklearn.svm import SVC

from keras_dlparts.data import load_digits


@functools.lru_cache(maxsize=1)
def digits_judge():
    """Returns a fitted SVC over flattened 8x8 digits (~99% test accuracy)."""
    (x_train, y_train), _ = load_digits(as_images=False)
    return SVC(gamma=0.03, C=10.0).fit(x_train, y_train)


def judge_accuracy(images, labels):
    """Share of `images` the judge classifies as `labels`."""
    flat = np.clip(np.asarray(images, "float32"), 0.0, 1.0).reshape(
        len(images), 64
    )
    return float(np.mean(digits_judge().predict(flat) == np.asarray(labels)))
