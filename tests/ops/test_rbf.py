import numpy as np

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
