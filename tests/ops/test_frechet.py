import numpy as np
import pytest
import scipy.linalg

from keras_dlparts.ops import frechet_distance
from keras_dlparts.ops.frechet import _widest_float


def scipy_frechet(a, b):
    """The formula with NumPy moments and scipy.linalg.sqrtm, in float64."""
    s1 = np.atleast_2d(np.cov(a, rowvar=False))
    s2 = np.atleast_2d(np.cov(b, rowvar=False))
    root = np.real(scipy.linalg.sqrtm(s1 @ s2))
    mean = np.sum((a.mean(0) - b.mean(0)) ** 2)
    return float(mean + np.trace(s1 + s2 - 2.0 * root))


def tolerance(full_rank):
    if _widest_float() == "float64":
        return 1e-7
    return 2e-5 if full_rank else 1e-3  # float32, as the docstring says


@pytest.mark.parametrize("dim", [1, 3, 16, 48])
@pytest.mark.slow
def test_formula_against_scipy(dim):
    rng = np.random.default_rng(dim)
    a = rng.normal(size=(200, dim)) @ rng.normal(size=(dim, dim))
    b = 1.5 * rng.normal(size=(150, dim)) + 0.3
    np.testing.assert_allclose(
        float(frechet_distance(a, b)),
        scipy_frechet(a, b),
        rtol=tolerance(True),
    )


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
@pytest.mark.slow
def test_singular_and_near_singular_covariances():
    rng = np.random.default_rng(1)
    # Fewer rows than features: both covariances are singular.
    a, b = rng.normal(size=(20, 64)), rng.normal(size=(30, 64))
    np.testing.assert_allclose(
        float(frechet_distance(a, b)), scipy_frechet(a, b), rtol=1e-3
    )
    # A zero column (a dead unit) and a tiny one.
    a = rng.normal(size=(100, 5)) * np.array([1, 1, 1, 1e-4, 0])
    b = rng.normal(size=(100, 5))
    np.testing.assert_allclose(
        float(frechet_distance(a, b)),
        scipy_frechet(a, b),
        rtol=tolerance(False),
    )
    # Identical sets: zero up to round-off, never negative beyond it.
    assert abs(float(frechet_distance(a, a))) < 1e-4


def test_mean_term_and_symmetry():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(50, 4))
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    np.testing.assert_allclose(
        float(frechet_distance(a, a + shift)), np.sum(shift**2), atol=1e-4
    )
    b = rng.normal(size=(40, 4)) * 2.0
    np.testing.assert_allclose(
        float(frechet_distance(a, b)),
        float(frechet_distance(b, a)),
        rtol=1e-5,
    )


def test_refusals_name_the_argument():
    a = np.zeros((5, 3))
    with pytest.raises(ValueError, match="features_a"):
        frechet_distance(np.zeros((5,)), a)
    with pytest.raises(ValueError, match="features_b.*2 rows"):
        frechet_distance(a, np.zeros((1, 3)))
    with pytest.raises(ValueError, match="same number of features"):
        frechet_distance(a, np.zeros((5, 4)))
