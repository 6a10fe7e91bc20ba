"""Structural similarity as a streaming metric."""

import keras

from keras_dlparts import _validation
from keras_dlparts.metrics._image_mean import ImageMean
from keras_dlparts.ops.image_quality import ssim_values


@keras.saving.register_keras_serializable(package="keras_dlparts")
class SSIM(ImageMean):
    """Structural similarity (Wang et al., 2004), averaged over images.

    Each image contributes its SSIM, the Gaussian-windowed index of
    `keras_dlparts.ops.ssim` averaged over the valid region and the
    channels: `tf.image.ssim` with the same arguments, and scikit-image's
    `structural_similarity(gaussian_weights=True, sigma=1.5,
    use_sample_covariance=False, data_range=max_val, channel_axis=-1)` for
    the defaults (see `ops.ssim` for why the two croppings agree).
    `result()` is the mean over all images seen, weighted by
    `sample_weight`.

    Args:
        max_val: positive number, the dynamic range of the images.
        filter_size: positive integer, the side of the Gaussian window;
            images must be at least this high and wide.
        filter_sigma: positive number, the window's standard deviation.
        k1, k2: positive numbers, the stabilising constants
            `C1 = (k1 max_val)^2` and `C2 = (k2 max_val)^2`.
        name, dtype: base `Metric` arguments.

    Call arguments (`update_state`):
        y_true, y_pred: images `(batch, height, width, channels)` of one
            shape.
        sample_weight: optional `(batch,)` weights of the images.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.metrics import SSIM
        >>> metric = SSIM()
        >>> a = np.random.default_rng(0).random((2, 16, 16, 3))
        >>> metric.update_state(a, a)
        >>> round(float(metric.result()), 4)
        1.0
    """

    score = staticmethod(ssim_values)

    def __init__(
        self,
        max_val=1.0,
        filter_size=11,
        filter_sigma=1.5,
        k1=0.01,
        k2=0.03,
        name="ssim",
        dtype=None,
    ):
        super().__init__(name=name, dtype=dtype)
        self.options = {
            "max_val": _validation.positive_number("max_val", max_val),
            "filter_size": _validation.positive_int("filter_size", filter_size),
            "filter_sigma": _validation.positive_number(
                "filter_sigma", filter_sigma
            ),
            "k1": _validation.positive_number("k1", k1),
            "k2": _validation.positive_number("k2", k2),
        }
