"""A streaming weighted mean over images of a per-image score."""

import keras
from keras import ops

from keras_dlparts import _validation


class ImageMean(keras.metrics.Mean):
    """The weighted mean of `score(y_true, y_pred)` over every image seen.

    Subclasses set `score` (a `staticmethod`), a function of
    `(y_true, y_pred, **options, names)` returning one value per image,
    and `self.options`, its keyword arguments (also the config).
    """

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self.score(
            y_true, y_pred, **self.options, names=("y_true", "y_pred")
        )
        if sample_weight is not None:
            sample_weight = ops.convert_to_tensor(sample_weight)
            _validation.batch_vector("sample_weight", sample_weight)
            _validation.same_batch_size(
                ("y_true", y_true), ("sample_weight", sample_weight)
            )
            sample_weight = ops.reshape(sample_weight, (-1,))
        return super().update_state(
            ops.cast(values, self.dtype), sample_weight=sample_weight
        )

    def get_config(self):
        return {**super().get_config(), **self.options}
