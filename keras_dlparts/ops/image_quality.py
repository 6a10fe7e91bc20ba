"""Image quality: peak signal-to-noise ratio and structural similarity."""

import math

import keras
from keras import ops

from keras_dlparts import _validation


def _images(name_a, a, name_b, b):
    """`a` and `b` as float tensors of one shape `(batch, H, W, C)`."""
    a = ops.convert_to_tensor(a)
    b = ops.convert_to_tensor(b)
    _validation.check_rank(name_a, a, 4)
    _validation.check_rank(name_b, b, 4)
    _validation.same_shape(name_a, a, name_b, b)
    dtype = keras.backend.standardize_dtype(a.dtype)
    dtype = "float64" if dtype == "float64" else "float32"
    return ops.cast(a, dtype), ops.cast(b, dtype)


def psnr_values(a, b, max_val=1.0, names=("a", "b")):
    """`psnr` whose messages name the inputs `names` (the metric's)."""
    _validation.positive_number("max_val", max_val)
    a, b = _images(names[0], a, names[1], b)
    mse = ops.mean(ops.square(a - b), axis=(1, 2, 3))
    return 10.0 * ops.log10(max_val**2 / mse)


def psnr(a, b, max_val=1.0):
    """Peak signal-to-noise ratio of each pair of images, in decibels.

    ```
    PSNR = 10 log10(max_val^2 / MSE),  MSE = mean over H, W, C of (a - b)^2
    ```

    as `tf.image.psnr` and scikit-image's `peak_signal_noise_ratio(a, b,
    data_range=max_val)` (per image) compute it. Identical images give
    `+inf`, as in both.

    Args:
        a, b: images `(batch, height, width, channels)` of one shape, any
            real dtype (computed in float32, or float64 for float64).
        max_val: positive number, the dynamic range of the images (1.0 for
            images in [0, 1], 255 for 8-bit ones).

    Returns:
        Tensor `(batch,)`: the PSNR of each image.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.ops import psnr
        >>> a = np.zeros((1, 2, 2, 1), "float32")
        >>> np.round(np.asarray(psnr(a, a + 0.1)), 4).tolist()
        [20.0]
    """
    return psnr_values(a, b, max_val)


def _gaussian(size, sigma):
    """The normalised 1-D Gaussian of `size` taps, centred."""
    taps = [
        math.exp(-((i - (size - 1) / 2) ** 2) / (2 * sigma**2))
        for i in range(size)
    ]
    total = sum(taps)
    return [t / total for t in taps]


def ssim_values(
    a,
    b,
    max_val=1.0,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
    names=("a", "b"),
):
    """`ssim` whose messages name the inputs `names` (the metric's)."""
    _validation.positive_number("max_val", max_val)
    _validation.positive_int("filter_size", filter_size)
    _validation.positive_number("filter_sigma", filter_sigma)
    _validation.positive_number("k1", k1)
    _validation.positive_number("k2", k2)
    a, b = _images(names[0], a, names[1], b)
    sides = _validation.static_shape(a)[1:3]
    if any(s is not None and s < filter_size for s in sides):
        raise ValueError(
            f"Argument `filter_size`={filter_size} must not exceed the "
            "images' height and width. Received: "
            f"{names[0]}.shape={_validation.static_shape(a)}"
        )
    shape = ops.shape(a)
    # Channels become batch entries: one (B C, H, W, 5) stack of the
    # images, their squares and product, filtered by a separable Gaussian.
    stack = ops.stack([a, b, a * a, b * b, a * b], axis=-1)
    stack = ops.reshape(
        ops.transpose(stack, (0, 3, 1, 2, 4)),
        (-1, shape[1], shape[2], 5),
    )
    taps = ops.convert_to_tensor(_gaussian(filter_size, filter_sigma), a.dtype)
    column = ops.tile(ops.reshape(taps, (filter_size, 1, 1, 1)), (1, 1, 5, 1))
    row = ops.reshape(column, (1, filter_size, 5, 1))
    means = ops.depthwise_conv(stack, column, padding="valid")
    means = ops.depthwise_conv(means, row, padding="valid")
    mu_a, mu_b, aa, bb, ab = (means[..., i] for i in range(5))
    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    var_a = aa - mu_a * mu_a
    var_b = bb - mu_b * mu_b
    cov = ab - mu_a * mu_b
    index = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / (
        (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    )
    per_channel = ops.mean(index, axis=(1, 2))
    return ops.mean(ops.reshape(per_channel, (shape[0], shape[3])), axis=1)


def ssim(a, b, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03):
    """Structural similarity (Wang et al., 2004) of each pair of images.

    The local means `mu`, variances `s^2` and covariance `s_ab` of `a` and
    `b` are Gaussian-weighted (`filter_size` taps of standard deviation
    `filter_sigma`, normalised; the divisor of the variances is the sum of
    the weights, not `n - 1`), and

    ```
    SSIM = (2 mu_a mu_b + C1) (2 s_ab + C2)
           / ((mu_a^2 + mu_b^2 + C1) (s_a^2 + s_b^2 + C2)),
    C1 = (k1 max_val)^2,  C2 = (k2 max_val)^2
    ```

    is averaged over the positions where the window lies inside the image
    (the `valid` region, `filter_size // 2` pixels cropped on each side),
    then over channels. This is `tf.image.ssim` with its defaults, and
    scikit-image's `structural_similarity(a, b, channel_axis=-1,
    gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
    data_range=max_val)` for the default `filter_size=11`: scikit-image
    filters the padded image (`mode="reflect"`) and then crops the same
    border, which leaves exactly the valid region (its window radius is
    `int(3.5 sigma + 0.5)`, 5 for `sigma=1.5`).

    Args:
        a, b: images `(batch, height, width, channels)` of one shape, at
            least `filter_size` high and wide (computed in float32, or
            float64 for float64).
        max_val: positive number, the dynamic range of the images.
        filter_size: positive integer, the side of the Gaussian window.
        filter_sigma: positive number, its standard deviation in pixels.
        k1, k2: positive numbers, the stabilising constants.

    Returns:
        Tensor `(batch,)`: the SSIM of each image, 1 for identical images.

    Raises:
        ValueError: naming `filter_size` and the shape when an image is
            smaller than the window.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.ops import ssim
        >>> a = np.random.default_rng(0).random((2, 16, 16, 3))
        >>> np.round(np.asarray(ssim(a, a)), 4).tolist()
        [1.0, 1.0]
    """
    return ssim_values(a, b, max_val, filter_size, filter_sigma, k1, k2)
