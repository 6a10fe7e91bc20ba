"""The negative log-likelihood of a linear-chain CRF, as a Keras loss."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.ops import crf as crf_ops


@keras.saving.register_keras_serializable(package="keras_dlparts")
class CRFLoss(keras.losses.Loss):
    """Negative log-likelihood of tag sequences under a linear-chain CRF.

    Trains `keras_dlparts.layers.CRF`: `y_pred` is the layer's output, the
    CRF in pairwise form (unary, transition and boundary scores, with the
    mask as identity steps), so the loss needs nothing else and a plain
    `model.compile(loss=CRFLoss())` works. Per sequence:

    ```
    loss = log Z - score(y_true)
    ```

    with `log Z` from the forward algorithm; the default reduction averages
    over the sequences of the batch. The tags at masked steps are ignored
    (pad them with anything, e.g. 0 or -1).

    Args:
        reduction: the `keras.losses.Loss` reduction (default the mean).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: integer tags `(batch, steps)` (or `(batch, steps, 1)`).
        y_pred: the `CRF` layer's scores `(batch, steps, num_tags,
            num_tags)`.

    Returns:
        The reduced loss (a scalar by default).

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import CRF
        >>> from keras_dlparts.losses import CRFLoss
        >>> scores = CRF(2, use_kernel=False, chain_initializer="zeros")(
        ...     np.zeros((1, 3, 2), "float32"))
        >>> loss = CRFLoss()(np.array([[0, 1, 1]]), scores)  # 1 of 8 paths
        >>> bool(np.isclose(float(loss), np.log(8)))
        True
    """

    def __init__(
        self, reduction="sum_over_batch_size", name="crf_loss", dtype=None
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true = ops.convert_to_tensor(y_true)
        _validation.check_layout(
            "y_pred", y_pred, ("batch", "steps", "num_tags", "num_tags")
        )
        if len(y_true.shape) == 3 and y_true.shape[-1] == 1:
            y_true = ops.squeeze(y_true, axis=-1)
        _validation.check_layout("y_true", y_true, ("batch", "steps"))
        _validation.same_shape(
            "y_true", y_true, "y_pred[..., 0, 0]", tuple(y_pred.shape[:2])
        )
        padding = crf_ops.padding_steps(y_pred)
        gold = crf_ops.path_score(y_pred, y_true, padding)
        return crf_ops.log_partition(y_pred) - gold

    def get_config(self):
        return {**super().get_config(), "dtype": self._dtype_argument}
