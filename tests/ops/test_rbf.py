import keras
import numpy as np
import pytest

from keras_dlparts.ops import rbf_kernel


def _reference(x, centers, gamma):
    squared = ((x[:, None, :] - centers[None]) ** 2).sum(-1)
    return np.exp(-np.asarray(gamma) * squared)


def test_scalar_gamma_matches_numpy():
    rng = np.random.default_rng(0)
    x, c = rng.normal(size=(6, 3)), rng.normal(size=(4, 3))
    got = np.asarray(rbf_kernel(x.astype("float32"), c, 0.7))
    np.testing.assert_allclose(got, _reference(x, c, 0.7), atol=1e-6)


def test_per_unit_gamma_and_worked_example():
    centers = np.array([[0.0, 0.0], [1.0, 1.0]])
    got = np.asarray(rbf_kernel(np.array([[1.0, 0.0]]), centers, [1.0, 2.0]))
    # |x - c|^2 = 1 for both centres: exp(-1), exp(-2).
    np.testing.assert_allclose(got, [[np.exp(-1.0), np.exp(-2.0)]], rtol=1e-6)


def test_value_is_one_at_the_centre():
    c = np.array([[0.3, -0.2, 5.0]], "float32")
    np.testing.assert_allclose(np.asarray(rbf_kernel(c, c, 3.0)), [[1.0]])


@pytest.mark.parametrize(
    "gamma, error",
    [
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (0.0, ValueError),
        (-1.0, ValueError),
        ("x", TypeError),
        (None, TypeError),
    ],
)
def test_bad_python_gamma_is_refused(gamma, error):
    with pytest.raises(error, match="`gamma`"):
        rbf_kernel(np.ones((2, 3)), np.ones((4, 3)), gamma)


def test_bad_shapes_name_the_argument():
    x, c = np.ones((2, 3), "float32"), np.ones((4, 3), "float32")
    with pytest.raises(ValueError, match=r"`gamma` must have shape \(4,\)"):
        rbf_kernel(x, c, np.ones(3, "float32"))
    with pytest.raises(ValueError, match="`x` and `centers`"):
        rbf_kernel(x, c[:, :2], 1.0)
    with pytest.raises(ValueError, match="`x` must have rank >= 2"):
        rbf_kernel(x[0], c, 1.0)
    # A tensor gamma's values are not read (a trained variable, a tracer).
    out = rbf_kernel(x, c, keras.Variable(np.full(4, 0.5, "float32")))
    np.testing.assert_allclose(np.asarray(out), np.ones((2, 4)))
