"""Tests of keras_dlparts.ops.psnr and keras_dlparts.ops.ssim."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from scipy import ndimage

from keras_dlparts.ops import psnr
from keras_dlparts.ops import ssim


def numpy_psnr(a, b, max_val):
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    mse = ((a - b) ** 2).reshape(len(a), -1).mean(axis=1)
    return 10 * np.log10(max_val**2 / mse)


def skimage_ssim(a, b, max_val=1.0, sigma=1.5, k1=0.01, k2=0.03):
    """scikit-image's `structural_similarity(a, b, channel_axis=-1,
    gaussian_weights=True, sigma=sigma, use_sample_covariance=False,
    data_range=max_val)` of each image, re-derived in NumPy: Gaussian
    filtering of the reflect-padded image (truncate=3.5), then the border
    of the window's radius cropped before the mean; channels averaged."""
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    pad = int(3.5 * sigma + 0.5)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    out = []
    for x, y in zip(a, b):
        channels = []
        for c in range(x.shape[-1]):
            xc, yc = x[..., c], y[..., c]

            def blur(image):
                return ndimage.gaussian_filter(
                    image, sigma, mode="reflect", truncate=3.5
                )

            ux, uy = blur(xc), blur(yc)
            vx = blur(xc * xc) - ux * ux
            vy = blur(yc * yc) - uy * uy
            vxy = blur(xc * yc) - ux * uy
            s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / (
                (ux**2 + uy**2 + c1) * (vx + vy + c2)
            )
            channels.append(s[pad:-pad, pad:-pad].mean())
        out.append(np.mean(channels))
    return np.array(out)


def _pair(shape, seed=0, noise=0.1, scale=1.0):
    rng = np.random.default_rng(seed)
    a = rng.random(shape) * scale
    b = np.clip(a + noise * scale * rng.normal(size=shape), 0, scale)
    return a.astype("float32"), b.astype("float32")


@pytest.mark.parametrize("max_val", [1.0, 255.0])
def test_psnr_matches_numpy_and_tf_image(max_val):
    a, b = _pair((3, 8, 6, 2), scale=max_val)
    got = np.asarray(psnr(a, b, max_val))
    np.testing.assert_allclose(got, numpy_psnr(a, b, max_val), rtol=1e-5)
    np.testing.assert_allclose(
        got, tf.image.psnr(a, b, max_val).numpy(), rtol=1e-5
    )
    assert np.isinf(np.asarray(psnr(a, a, max_val))).all()


@pytest.mark.parametrize(
    "shape, max_val", [((2, 16, 16, 1), 1.0), ((2, 13, 19, 3), 255.0)]
)
def test_ssim_matches_skimage_formula_and_tf_image(shape, max_val):
    a, b = _pair(shape, seed=shape[-1], noise=0.2, scale=max_val)
    got = np.asarray(ssim(a, b, max_val))
    reference = skimage_ssim(a, b, max_val)
    assert 0.2 < reference.min() < reference.max() < 0.95
    np.testing.assert_allclose(got, reference, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        got, tf.image.ssim(a, b, max_val).numpy(), rtol=1e-4, atol=1e-5
    )
    np.testing.assert_allclose(np.asarray(ssim(a, a, max_val)), 1.0, atol=1e-5)


def test_ssim_other_window_and_constants_match_tf_image():
    a, b = _pair((2, 12, 12, 2), seed=4, noise=0.3)
    got = ssim(a, b, 1.0, filter_size=7, filter_sigma=1.0, k1=0.02, k2=0.05)
    want = tf.image.ssim(
        a, b, 1.0, filter_size=7, filter_sigma=1.0, k1=0.02, k2=0.05
    )
    np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=1e-4)
    # The window exactly as large as the image: one position.
    small = ssim(a[:, :7, :7], b[:, :7, :7], filter_size=7, filter_sigma=1.0)
    assert np.asarray(small).shape == (2,)


def test_float64_stays_float64_and_uint8_is_cast():
    a, b = _pair((1, 11, 11, 1))
    # float64 stays float64 where the backend keeps it (JAX: without x64,
    # float64 arrays already become float32 tensors).
    wide = keras.ops.convert_to_tensor(a.astype("float64"))
    assert np.asarray(ssim(wide, b)).dtype == np.asarray(wide).dtype
    a8, b8 = (np.round(x * 255).astype("uint8") for x in (a, b))
    np.testing.assert_allclose(
        np.asarray(psnr(a8, b8, 255)), numpy_psnr(a8, b8, 255), rtol=1e-5
    )


def test_refusals_name_the_argument():
    a = np.zeros((2, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match=r"filter_size.*\(2, 8, 8, 1\)"):
        ssim(a, a)
    with pytest.raises(ValueError, match="`b`"):
        psnr(a, a[:, :4])
    with pytest.raises(ValueError, match="`a`"):
        psnr(a[0], a[0])
    with pytest.raises(ValueError, match="max_val"):
        psnr(a, a, 0.0)
    with pytest.raises(TypeError, match="filter_size"):
        ssim(a, a, filter_size=3.0)
    with pytest.raises(ValueError, match="filter_sigma"):
        ssim(a, a, filter_size=3, filter_sigma=-1.0)
    with pytest.raises(ValueError, match="k2"):
        ssim(a, a, filter_size=3, k2=0.0)
