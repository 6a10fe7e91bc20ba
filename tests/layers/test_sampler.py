"""Tests of keras_dlparts.layers.ReparameterizationSampler."""

import keras
import numpy as np
import pytest
from support.backend import gradients

from keras_dlparts.layers import ReparameterizationSampler
from keras_dlparts.testing import check_layer


def _numpy_kl(mean, log_var):
    return -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=-1)


@pytest.mark.slow
def test_contract():
    rng = np.random.default_rng(0)
    mean = rng.normal(size=(8, 4)).astype("float32")
    log_var = rng.normal(scale=0.3, size=(8, 4)).astype("float32")
    check_layer(
        ReparameterizationSampler,
        {"kl_weight": 0.5, "seed": 3},
        (mean, log_var),
        reference=lambda layer, m, lv: m,  # inference returns the mean
    )


def test_moments_over_many_draws():
    mean = np.array([1.0, -2.0, 0.0], "float32")
    log_var = np.log(np.array([4.0, 0.25, 1.0], "float32"))
    n = 40_000
    sampler = ReparameterizationSampler(seed=7)
    z = np.asarray(
        sampler(
            [np.tile(mean, (n, 1)), np.tile(log_var, (n, 1))], training=True
        )
    )
    np.testing.assert_allclose(z.mean(0), mean, atol=0.03)
    np.testing.assert_allclose(z.var(0), np.exp(log_var), rtol=0.03)
    # Independent coordinates: the correlation is near zero.
    assert abs(np.corrcoef(z[:, 0], z[:, 2])[0, 1]) < 0.02


def test_seeded_draws_repeat_and_inference_is_the_mean():
    mean = np.zeros((4, 2), "float32")
    log_var = np.zeros((4, 2), "float32")
    a = ReparameterizationSampler(seed=11)(mean, log_var, training=True)
    b = ReparameterizationSampler(seed=11)(mean, log_var, training=True)
    np.testing.assert_array_equal(a, b)
    assert np.std(np.asarray(a)) > 0.1
    np.testing.assert_array_equal(
        ReparameterizationSampler(seed=11)(mean + 3.0, log_var), mean + 3.0
    )


def test_gradients_reach_mean_and_log_variance():
    sampler = ReparameterizationSampler(seed=0)
    mean = np.full((3, 2), 0.5, "float32")
    log_var = np.full((3, 2), -0.4, "float32")
    z, (d_mean, d_log_var) = gradients(
        lambda m, lv: sampler([m, lv], training=True), mean, log_var
    )
    assert np.std(z) > 0.1
    np.testing.assert_allclose(d_mean, np.ones((3, 2)), rtol=1e-6)
    # dz/dlog_var = 0.5 * exp(log_var / 2) * eps = 0.5 * (z - mean).
    np.testing.assert_allclose(d_log_var, 0.5 * (z - 0.5), rtol=1e-5, atol=1e-6)


def test_kl_weight_adds_the_weighted_kl_loss():
    rng = np.random.default_rng(2)
    mean = rng.normal(size=(5, 3)).astype("float32")
    log_var = rng.normal(scale=0.5, size=(5, 3)).astype("float32")
    sampler = ReparameterizationSampler(kl_weight=0.25)
    sampler([mean, log_var], training=True)
    (loss,) = sampler.losses
    expected = 0.25 * np.mean(_numpy_kl(mean, log_var))
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    silent = ReparameterizationSampler()
    silent([mean, log_var], training=True)
    assert silent.losses == []


def test_empty_batch_gives_an_empty_sample_and_a_zero_loss():
    sampler = ReparameterizationSampler(kl_weight=1.0, seed=0)
    z = sampler(
        np.zeros((0, 3), "float32"), np.zeros((0, 3), "float32"), training=True
    )
    assert tuple(z.shape) == (0, 3)
    assert [float(loss) for loss in sampler.losses] == [0.0]


def test_kl_term_trains_codes_towards_the_prior():
    inputs = keras.Input((2,))
    mean = keras.layers.Dense(2)(inputs)
    log_var = keras.layers.Dense(2)(inputs)
    z = ReparameterizationSampler(kl_weight=1.0, seed=1)([mean, log_var])
    model = keras.Model(inputs, z)
    model.compile(keras.optimizers.Adam(0.05), loss=None)
    x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32") * 3
    before = model.evaluate(x, verbose=0)
    model.fit(x, epochs=30, batch_size=64, verbose=0)
    assert model.evaluate(x, verbose=0) < 0.1 * before


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"kl_weight": -1.0}, ValueError, "kl_weight"),
        ({"kl_weight": float("nan")}, ValueError, "kl_weight=nan"),
        ({"kl_weight": float("inf")}, ValueError, "kl_weight=inf"),
        ({"kl_weight": "1"}, TypeError, "kl_weight"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        ReparameterizationSampler(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="same shape"):
        ReparameterizationSampler()(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="`mean` and `log_var`"):  # batch sizes
        ReparameterizationSampler()(np.zeros((2, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="`mean` must have rank >= 2"):
        ReparameterizationSampler()(np.zeros((3,)), np.zeros((3,)))
    sampler = ReparameterizationSampler()
    sampler(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="same shape"):  # checked at each call
        sampler(np.zeros((2, 3)), np.zeros((1, 3)), training=True)
    with pytest.raises(ValueError, match="mean, log_var"):
        ReparameterizationSampler()(np.zeros((2, 3)))
