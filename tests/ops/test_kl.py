"""Tests of keras_dlparts.ops.gaussian_kl_divergence."""

import numpy as np
import pytest
from support.backend import jit

from keras_dlparts.ops import gaussian_kl_divergence


def _numpy_kl(mean, log_var):
    """Gaussian KL 0.5 * (tr S + mu^T mu - k - log det S), S diagonal."""
    var = np.exp(log_var)
    k = mean.shape[-1]
    return 0.5 * (
        var.sum(-1) + (mean**2).sum(-1) - k - np.log(np.prod(var, axis=-1))
    )


def test_matches_numpy_closed_form():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(5, 3, 4)).astype("float32")
    log_var = rng.normal(scale=0.5, size=(5, 3, 4)).astype("float32")
    out = np.asarray(gaussian_kl_divergence(mean, log_var))
    assert out.shape == (5, 3)
    np.testing.assert_allclose(
        out, _numpy_kl(mean, log_var), rtol=1e-5, atol=1e-5
    )


def test_matches_monte_carlo_estimate():
    # KL(q || p) = E_q[log q(z) - log p(z)], estimated from 200k draws.
    mean, log_var = np.array([0.7, -1.2]), np.array([0.4, -0.8])
    std = np.exp(0.5 * log_var)
    z = mean + std * np.random.default_rng(1).normal(size=(200_000, 2))
    log_q = -0.5 * (((z - mean) / std) ** 2 + log_var + np.log(2 * np.pi))
    log_p = -0.5 * (z**2 + np.log(2 * np.pi))
    estimate = float(np.mean(np.sum(log_q - log_p, axis=-1)))
    exact = float(gaussian_kl_divergence(mean[None], log_var[None])[0])
    assert exact == pytest.approx(estimate, abs=0.02)


def test_zero_at_standard_normal_and_positive_elsewhere():
    zeros = np.zeros((2, 6), "float32")
    np.testing.assert_allclose(gaussian_kl_divergence(zeros, zeros), [0.0, 0.0])
    assert float(gaussian_kl_divergence(zeros + 0.1, zeros)[0]) > 0.0


def test_traces_under_xla():
    fn = jit(gaussian_kl_divergence)
    mean = np.ones((2, 3), "float32")
    log_var = np.zeros((2, 3), "float32")
    np.testing.assert_allclose(fn(mean, log_var), [1.5, 1.5], rtol=1e-6)


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError, match="same shape"):
        gaussian_kl_divergence(np.zeros((2, 3)), np.zeros((2, 4)))


def test_scalars_and_mismatched_batches_name_the_argument():
    with pytest.raises(ValueError, match="`mean` must have rank >= 1"):
        gaussian_kl_divergence(0.0, 0.0)
    with pytest.raises(
        ValueError, match="`mean` and `log_var` must have the same"
    ):
        gaussian_kl_divergence(np.zeros((3, 2)), np.zeros((2, 2)))
    empty = gaussian_kl_divergence(np.zeros((0, 2)), np.zeros((0, 2)))
    assert np.asarray(empty).shape == (0,)
