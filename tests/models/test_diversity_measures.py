"""Tests of models.per_class_fd_digits and models.mean_pairwise_distance."""

import itertools

import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.models import digits_features
from keras_dlparts.models import fd_digits
from keras_dlparts.models import mean_pairwise_distance
from keras_dlparts.models import per_class_fd_digits
from keras_dlparts.ops import frechet_distance


def numpy_mean_pairwise(x):
    """Every pair i < j, one at a time."""
    x = np.asarray(x, "float64").reshape(len(x), -1)
    pairs = itertools.combinations(range(len(x)), 2)
    return np.mean([np.linalg.norm(x[i] - x[j]) for i, j in pairs])


def test_mean_pairwise_distance_matches_a_numpy_loop():
    x = np.random.default_rng(0).random((9, 8, 8, 1))
    labels = np.array([2, 0, 2, 0, 0, 2, 5, 5, 0])
    np.testing.assert_allclose(  # pixels are taken as float32
        mean_pairwise_distance(x), numpy_mean_pairwise(x), rtol=1e-6
    )
    per_class = mean_pairwise_distance(x.reshape(9, 64), labels)
    assert per_class.shape == (3,)  # classes 0, 2, 5 in order
    np.testing.assert_allclose(
        per_class,
        [numpy_mean_pairwise(x[labels == c]) for c in (0, 2, 5)],
        rtol=1e-6,
    )
    copies = np.repeat(x[:1], 4, axis=0)
    assert mean_pairwise_distance(copies) < 1e-6


@pytest.mark.slow
def test_per_class_fd_digits_is_fd_digits_of_each_class():
    (x_train, y_train), (x_test, y_test) = load_digits()
    x_train, y_train = x_train[:400], y_train[:400]
    fd = per_class_fd_digits(x_test, y_test, x_train, y_train)
    a, b = digits_features(x_test), digits_features(x_train)
    expected = [
        float(frechet_distance(a[y_test == c], b[y_train == c]))
        for c in range(10)
    ]
    np.testing.assert_allclose(fd, expected, rtol=1e-5, atol=1e-6)
    assert fd[7] == pytest.approx(
        fd_digits(x_test[y_test == 7], x_train[y_train == 7]), rel=1e-5
    )
    # A class drawn as copies of one digit is far from its class.
    copies = x_test.copy()
    copies[y_test == 3] = x_test[y_test == 3][:1]
    collapsed = per_class_fd_digits(copies, y_test, x_train, y_train)
    assert collapsed[3] > 3 * fd[3]
    np.testing.assert_allclose(np.delete(collapsed, 3), np.delete(fd, 3))


def test_refusals_name_the_argument():
    x, labels = np.zeros((6, 64)), np.array([0, 0, 0, 1, 1, 1])
    with pytest.raises(ValueError, match="labels.*one label per image"):
        per_class_fd_digits(x, labels[:5], x, labels)
    with pytest.raises(TypeError, match="reference_labels.*integer"):
        per_class_fd_digits(x, labels, x, labels + 0.5)
    with pytest.raises(ValueError, match="labels.*at least 2.*class 1"):
        per_class_fd_digits(x, [0, 0, 0, 0, 0, 1], x, labels)
    with pytest.raises(ValueError, match="reference_images.*8x8"):
        per_class_fd_digits(x, labels, np.zeros((6, 7)), labels)
    with pytest.raises(ValueError, match="images.*at least 2"):
        mean_pairwise_distance(x[:1])
    with pytest.raises(ValueError, match="labels.*at least 2.*class 1"):
        mean_pairwise_distance(x, [0, 0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="images.*\\[0, 1\\]"):
        mean_pairwise_distance(x - 1.0)
