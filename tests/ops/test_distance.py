import numpy as np
import pytest

from keras_dlparts.ops import pairwise_squared_distance


def test_matches_numpy_broadcast_formula():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(2, 5, 3)), rng.normal(size=(4, 3))
    expected = ((x[..., :, None, :] - y[None, :, :]) ** 2).sum(-1)
    got = np.asarray(pairwise_squared_distance(x.astype("float32"), y))
    assert got.shape == (2, 5, 4)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_zero_distance_is_not_negative():
    x = np.full((3, 8), 1e3, "float32")
    assert np.all(np.asarray(pairwise_squared_distance(x, x)) >= 0.0)


def test_bad_shapes_name_the_argument():
    with pytest.raises(
        ValueError, match="`x` and `y` must have the same size along axis -1"
    ):
        pairwise_squared_distance(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="`x` must have rank >= 2"):
        pairwise_squared_distance(np.ones(3), np.ones((4, 3)))
    with pytest.raises(ValueError, match="`y` must have rank 2"):
        pairwise_squared_distance(np.ones((2, 3)), np.ones((1, 4, 3)))
    empty = pairwise_squared_distance(np.ones((0, 3)), np.ones((4, 3)))
    assert np.asarray(empty).shape == (0, 4)
