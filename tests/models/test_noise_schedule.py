import json
import math

import keras
import numpy as np
import pytest

from keras_dlparts.models.noise_schedule import NoiseSchedule


def test_linear_tables_match_closed_forms():
    s = NoiseSchedule("linear", steps=50, beta_start=1e-3, beta_end=0.2)
    betas = 1e-3 + (0.2 - 1e-3) * np.arange(50) / 49
    np.testing.assert_allclose(s.betas, betas, rtol=1e-12)
    abar = np.array([np.prod(1 - betas[: t + 1]) for t in range(50)])
    np.testing.assert_allclose(s.alphas, 1 - betas, rtol=1e-12)
    np.testing.assert_allclose(s.alphas_cumprod, abar, rtol=1e-10)
    np.testing.assert_allclose(s.alphas_cumprod_prev[0], 1.0)
    np.testing.assert_allclose(s.alphas_cumprod_prev[1:], abar[:-1])
    # Posterior variance: beta_t (1 - abar_{t-1}) / (1 - abar_t), zero at t=0.
    assert s.posterior_variance[0] == 0.0
    np.testing.assert_allclose(
        s.posterior_variance[1:],
        betas[1:] * (1 - abar[:-1]) / (1 - abar[1:]),
        rtol=1e-10,
    )
    assert np.all(s.posterior_variance <= s.betas + 1e-15)


def test_cosine_schedule_closed_form():
    T, off = 40, 0.008
    s = NoiseSchedule("cosine", steps=T)
    f = lambda t: math.cos((t / T + off) / (1 + off) * math.pi / 2) ** 2  # noqa
    target = np.array([f(t + 1) / f(0) for t in range(T)])
    # Betas are clipped at max_beta only at the very end.
    unclipped = s.betas < s.max_beta
    np.testing.assert_allclose(
        s.alphas_cumprod[unclipped], target[unclipped], rtol=1e-9
    )
    assert np.all(np.diff(s.alphas_cumprod) < 0)
    assert s.betas.max() <= 0.999


@pytest.mark.parametrize("kind", ["linear", "cosine"])
def test_posterior_mean_equals_eps_form(kind):
    """coef1 x0 + coef2 x_t == (x_t - beta/sqrt(1-abar) eps) / sqrt(alpha)."""
    s = NoiseSchedule(kind, steps=100)
    rng = np.random.default_rng(0)
    x0, eps = rng.normal(size=(2, 100, 5))
    t = np.arange(100)
    abar, beta, alpha = s.alphas_cumprod, s.betas, s.alphas
    x_t = np.sqrt(abar)[:, None] * x0 + np.sqrt(1 - abar)[:, None] * eps
    mean = (
        s.posterior_mean_coef1[:, None] * x0
        + s.posterior_mean_coef2[:, None] * x_t
    )
    eps_form = (x_t - (beta / np.sqrt(1 - abar))[:, None] * eps) / np.sqrt(
        alpha
    )[:, None]
    np.testing.assert_allclose(mean, eps_form, atol=1e-9)
    # The tensor helpers agree with the NumPy tables.
    xt_tensor = keras.ops.convert_to_numpy(s.q_sample(x0, t, eps))
    np.testing.assert_allclose(xt_tensor, x_t, atol=1e-5)
    x0_back = keras.ops.convert_to_numpy(s.predict_x0(x_t, t, eps))
    np.testing.assert_allclose(x0_back[:90], x0[:90], atol=1e-3)


def test_q_sample_moments():
    s = NoiseSchedule("linear", steps=1000)
    n = 200_000
    rng = np.random.default_rng(1)
    for t in (0, 250, 999):
        x0 = np.full((n, 1), 0.7, "float32")
        noise = rng.standard_normal((n, 1)).astype("float32")
        x_t = keras.ops.convert_to_numpy(
            s.q_sample(x0, np.full((n,), t, "int32"), noise)
        )
        abar = s.alphas_cumprod[t]
        assert abs(x_t.mean() - math.sqrt(abar) * 0.7) < 0.01
        assert abs(x_t.var() - (1 - abar)) < 0.01 * max(1 - abar, 0.01) + 2e-4


def test_config_round_trip_and_serialization():
    s = NoiseSchedule("cosine", steps=64, cosine_s=0.01)
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(s)))
    clone = keras.saving.deserialize_keras_object(config, safe_mode=True)
    assert isinstance(clone, NoiseSchedule)
    assert clone.get_config() == s.get_config()
    np.testing.assert_array_equal(clone.betas, s.betas)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"schedule": "quadratic"}, "schedule"),
        ({"steps": 0}, "steps"),
        ({"steps": 2.5}, "steps"),
        ({"beta_start": 0.0}, "beta_start"),
        ({"beta_start": 0.1, "beta_end": 0.01}, "beta_end"),
        ({"cosine_s": -1.0}, "cosine_s"),
        ({"max_beta": 1.0}, "max_beta"),
    ],
)
def test_bad_arguments(kwargs, match):
    # A wrong type (steps=2.5) is a TypeError, a wrong value a ValueError.
    error = TypeError if kwargs.get("steps") == 2.5 else ValueError
    with pytest.raises(error, match=match):
        NoiseSchedule(**kwargs)
