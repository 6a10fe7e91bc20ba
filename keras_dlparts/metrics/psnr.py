"""Peak signal-to-noise ratio as a streaming metric."""

import keras

from keras_dlparts import _validation
from keras_dlparts.metrics._image_mean import ImageMean
from keras_dlparts.ops.image_quality import psnr_values


@keras.saving.register_keras_serializable(package="keras_dlparts")
class PSNR(ImageMean):
    """Peak signal-to-noise ratio, averaged over images, in decibels.

    Each image contributes `10 log10(max_val^2 / MSE)`, its MSE taken over
    height, width and channels (`keras_dlparts.ops.psnr`, as
    `tf.image.psnr` computes it); `result()` is the mean over all images
    seen, weighted by `sample_weight`. A pair of identical images makes it
    `+inf`, as in `tf.image.psnr` and scikit-image.

    Args:
        max_val: positive number, the dynamic range of the images (1.0 for
            images in [0, 1], 255 for 8-bit ones).
        name, dtype: base `Metric` arguments.

    Call arguments (`update_state`):
        y_true, y_pred: images `(batch, height, width, channels)` of one
            shape.
        sample_weight: optional `(batch,)` weights of the images.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.metrics import PSNR
        >>> metric = PSNR()
        >>> a = np.zeros((2, 4, 4, 1), "float32")
        >>> metric.update_state(a, a + np.array([0.1, 0.01])[:, None, None,
        ...                                                  None])
        >>> round(float(metric.result()), 4)  # (20 + 40) / 2
        30.0
    """

    score = staticmethod(psnr_values)

    def __init__(self, max_val=1.0, name="psnr", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.options = {
            "max_val": _validation.positive_number("max_val", max_val)
        }
