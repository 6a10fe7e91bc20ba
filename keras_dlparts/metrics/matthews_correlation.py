"""The multi-class Matthews correlation coefficient as a stateful metric."""

import keras
from keras import ops

from keras_dlparts.metrics.confusion import ConfusionMatrixMetric


@keras.saving.register_keras_serializable(package="keras_dlparts")
class MatthewsCorrelationCoefficient(ConfusionMatrixMetric):
    """Matthews correlation coefficient (Matthews, 1975), multi-class.

    Accumulates the weighted confusion matrix `C` (rows: `y_true`, columns:
    the predicted class) over every batch seen; `result()` is Gorodkin's
    (2004) `R_K`, with `c = trace(C)`, `s = sum(C)`, `t` the row sums and
    `p` the column sums:

    ```
    MCC = (c s - t . p) / sqrt((s^2 - p . p) (s^2 - t . t))
    ```

    the phi coefficient `(TP TN - FP FN) / sqrt(...)` for two classes, as
    `sklearn.metrics.matthews_corrcoef`. It is 1 for perfect predictions,
    0 for chance and at least -1; where it is undefined (no data, or one
    class only in `y_true` or in the predictions) the result is 0, as
    scikit-learn's.

    Args:
        num_classes: int >= 2, the number of classes.
        sparse_labels: bool, `y_true` holds integer labels `(batch,)` or
            `(batch, 1)` rather than one-hot rows `(batch, num_classes)`.
        name, dtype: base `Metric` arguments.

    Call arguments (`update_state`):
        y_true: labels, as `sparse_labels` says.
        y_pred: scores `(batch, num_classes)` (their argmax is taken), or
            values `(batch,)` / `(batch, 1)`, rounded and clipped into
            `[0, num_classes - 1]`: labels or, for two classes,
            probabilities (thresholded at 0.5).
        sample_weight: optional `(batch,)` or `(batch, 1)` weights of the
            examples.

    A wrong layout or batch size raises a `ValueError` naming the
    argument; so do eager labels outside `[0, num_classes)` (in a compiled
    call such a label adds nothing).

    Examples:

        >>> import numpy as np
        >>> mcc = MatthewsCorrelationCoefficient(num_classes=2)
        >>> mcc.update_state(np.array([[0, 1], [0, 1], [0, 1], [1, 0]]),
        ...                  np.array([[0, 1], [1, 0], [0, 1], [0, 1]]))
        >>> round(float(mcc.result()), 4)
        -0.3333
    """

    def __init__(
        self,
        num_classes,
        sparse_labels=False,
        name="matthews_correlation_coefficient",
        dtype=None,
    ):
        super().__init__(num_classes, sparse_labels, name=name, dtype=dtype)

    def result(self):
        # The formula divided by s^2: fractions keep float32 sums small.
        total, share = self._confusion_shares()
        true, pred = ops.sum(share, axis=1), ops.sum(share, axis=0)
        covariance = ops.trace(share) - ops.sum(true * pred)
        spread = (1.0 - ops.sum(pred * pred)) * (1.0 - ops.sum(true * true))
        mcc = covariance / ops.sqrt(ops.maximum(spread, 1e-30))
        mcc = ops.where((total > 0) & (spread > 0), mcc, 0.0)
        return ops.cast(ops.clip(mcc, -1.0, 1.0), self.dtype)
