"""Tests of keras_dlparts.models.build_timeseries_cnn."""

import keras
import numpy as np
import pytest

from keras_dlparts.models import build_timeseries_cnn
from keras_dlparts.testing import check_model


def _windows(series, window, horizon):
    n = len(series) - window - horizon + 1
    x = np.stack([series[i : i + window] for i in range(n)])[..., None]
    y = np.stack([series[i + window : i + window + horizon] for i in range(n)])
    return x.astype("float32"), y.astype("float32")


def _series(n=400, seed=0):
    t = np.arange(n)
    noise = np.random.default_rng(seed).normal(scale=0.05, size=n)
    return np.sin(2 * np.pi * t / 25) + 0.5 * np.sin(2 * np.pi * t / 7) + noise


@pytest.mark.slow
@pytest.mark.learning
def test_forecasts_better_than_persistence():
    x, y = _windows(_series(), window=24, horizon=3)
    train, test = slice(0, 300), slice(300, None)
    keras.utils.set_random_seed(0)
    model = build_timeseries_cnn(24, horizon=3, filters=(16, 16))
    model.compile(keras.optimizers.Adam(3e-3), "mse")
    model.fit(x[train], y[train], epochs=30, batch_size=32, verbose=0)
    mse = float(np.mean((np.asarray(model(x[test])) - y[test]) ** 2))
    persistence = float(np.mean((x[test][:, -1:, 0] - y[test]) ** 2))
    assert mse < 0.25 * persistence


def test_causal_convolutions():
    model = build_timeseries_cnn(10, filters=(3,), kernel_size=3)
    conv = keras.Model(model.input, model.get_layer("conv1").output)
    x = np.random.default_rng(0).normal(size=(1, 10, 1)).astype("float32")
    later = x.copy()
    later[:, 6:] += 1.0  # change only the future of step 5
    np.testing.assert_allclose(
        np.asarray(conv(x))[:, :6], np.asarray(conv(later))[:, :6], atol=1e-6
    )


@pytest.mark.slow
def test_contract():
    x, y = _windows(_series(61), window=8, horizon=2)  # 52 windows
    check_model(
        lambda: build_timeseries_cnn(8, horizon=2, filters=(4,), dense_units=8),
        x,
        y,
        epochs=3,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window": 0}, "window"),
        ({"window": 8, "horizon": 0}, "horizon"),
        ({"window": 8, "filters": (4, 0)}, "filters"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_timeseries_cnn(**kwargs)
