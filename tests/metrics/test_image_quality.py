"""Tests of keras_dlparts.metrics.PSNR and keras_dlparts.metrics.SSIM.

The per-image formulas are checked against NumPy (and tf.image) in
tests/ops/test_image_quality.py; here the streaming, weighted mean over
batches, the compiled, fit, data-parallel and reloaded runs, and the
checks of arguments.
"""

import keras
import numpy as np
import pytest
from ops.test_image_quality import numpy_psnr
from ops.test_image_quality import skimage_ssim
from support.metric_in_model import check_in_model

from keras_dlparts.metrics import PSNR
from keras_dlparts.metrics import SSIM


def _images(n=16, side=12, channels=2, seed=0):
    rng = np.random.default_rng(seed)
    y_true = rng.random((n, side, side, channels))
    noise = rng.uniform(0.02, 0.3, (n, 1, 1, 1))
    y_pred = np.clip(y_true + noise * rng.normal(size=y_true.shape), 0, 1)
    return y_true.astype("float32"), y_pred.astype("float32")


def _weighted_mean(values, weights):
    return float(np.sum(values * weights) / np.sum(weights))


@pytest.mark.parametrize(
    "make, per_image",
    [
        (lambda: PSNR(), lambda t, p: numpy_psnr(t, p, 1.0)),
        (lambda: SSIM(), skimage_ssim),
    ],
)
@pytest.mark.slow
def test_weighted_mean_over_batches(make, per_image):
    y_true, y_pred = _images()
    weights = np.random.default_rng(1).uniform(0.1, 2.0, len(y_true))
    metric = make()
    for start in range(0, len(y_true), 5):  # batches of 5, 5, 5, 1
        part = slice(start, start + 5)
        metric.update_state(y_true[part], y_pred[part], weights[part])
    expected = _weighted_mean(per_image(y_true, y_pred), weights)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-5)
    metric.reset_state()
    assert float(metric.result()) == 0.0
    metric.update_state(y_true[:3], y_pred[:3])
    assert float(metric.result()) == pytest.approx(
        float(np.mean(per_image(y_true[:3], y_pred[:3]))), rel=1e-5
    )


@pytest.mark.slow
def test_psnr_in_compiled_model_jit_distributed_and_saved(tmp_path):
    # Unweighted: Keras's "mse" cannot weight (batch, H, W, C) errors by
    # image (the weighted mean is checked above).
    y_true, y_pred = _images(n=16, side=6, seed=2)
    check_in_model(
        lambda: PSNR(max_val=1.0),
        y_pred,
        y_true,
        float(np.mean(numpy_psnr(y_true, y_pred, 1.0))),
        tmp_path=tmp_path,
    )


@pytest.mark.slow
def test_ssim_in_compiled_model_jit_distributed_and_saved(tmp_path):
    y_true, y_pred = _images(n=16, side=12, channels=3, seed=4)
    # sigma=1.0: scikit-image's window has 2 int(3.5 + 0.5) + 1 = 9 taps.
    expected = float(np.mean(skimage_ssim(y_true, y_pred, sigma=1.0)))
    check_in_model(
        lambda: SSIM(filter_size=9, filter_sigma=1.0),
        y_pred,
        y_true,
        expected,
        tmp_path=tmp_path,
    )


def test_config_round_trip():
    metric = SSIM(255.0, 7, 1.0, 0.02, 0.05, name="s")
    config = metric.get_config()
    assert {k: config[k] for k in ("max_val", "filter_size", "k2")} == {
        "max_val": 255.0,
        "filter_size": 7,
        "k2": 0.05,
    }
    clone = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert type(clone) is SSIM and clone.get_config() == config
    assert PSNR.from_config(PSNR(255).get_config()).options == {"max_val": 255}


def test_refusals_name_the_argument():
    y_true, y_pred = _images(n=2, side=8, channels=1)
    with pytest.raises(ValueError, match=r"filter_size.*\(2, 8, 8, 1\)"):
        SSIM().update_state(y_true, y_pred)
    with pytest.raises(ValueError, match="y_pred"):
        PSNR().update_state(y_true, y_pred[:, :4])
    with pytest.raises(ValueError, match="y_true"):
        PSNR().update_state(y_true[0], y_pred[0])
    with pytest.raises(ValueError, match="sample_weight"):
        PSNR().update_state(y_true, y_pred, np.ones((2, 3)))
    with pytest.raises(ValueError, match="max_val"):
        PSNR(max_val=-1.0)
    with pytest.raises(TypeError, match="filter_size"):
        SSIM(filter_size="11")
    with pytest.raises(ValueError, match="k1"):
        SSIM(k1=0.0)
