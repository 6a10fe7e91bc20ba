"""Cohen's kappa (unweighted, linear or quadratic) as a stateful metric."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.metrics.confusion import ConfusionMatrixMetric


@keras.saving.register_keras_serializable(package="keras_dlparts")
class CohenKappa(ConfusionMatrixMetric):
    """Cohen's kappa (Cohen, 1960): agreement between two raters.

    Accumulates the weighted confusion matrix `C` (rows: `y_true`, columns:
    the predicted class) over every batch seen; `result()` is

    ```
    P = C / sum(C),   E = outer(rowsum(P), colsum(P))
    kappa = 1 - sum(W * P) / sum(W * E)
    ```

    with disagreement weights `W[i, j]` = `[i != j]` (`weightage=None`),
    `|i - j|` ("linear") or `(i - j)^2` ("quadratic"), as
    `sklearn.metrics.cohen_kappa_score(..., weights=weightage)`. Kappa is 1
    for complete agreement, 0 for chance agreement and negative below it;
    where it is undefined (no data, or `sum(W * E) = 0`) the result is 0,
    as scikit-learn's with `replace_undefined_by=0.0`.

    Args:
        num_classes: int >= 2, the number of classes (ratings `0 ..
            num_classes - 1`).
        weightage: None, "linear" or "quadratic" (for ordinal ratings).
        sparse_labels: bool, `y_true` holds integer labels `(batch,)` or
            `(batch, 1)` rather than one-hot rows `(batch, num_classes)`.
        name, dtype: base `Metric` arguments.

    Call arguments (`update_state`):
        y_true: labels, as `sparse_labels` says.
        y_pred: scores `(batch, num_classes)` (their argmax is taken), or
            values `(batch,)` / `(batch, 1)`, rounded and clipped into
            `[0, num_classes - 1]`: labels, regression outputs (what
            TensorFlow Addons' `regression=True` did) or, for two classes,
            probabilities (thresholded at 0.5).
        sample_weight: optional `(batch,)` or `(batch, 1)` weights of the
            examples.

    A wrong layout or batch size raises a `ValueError` naming the
    argument; so do eager labels outside `[0, num_classes)` (in a compiled
    call such a label adds nothing).

    Examples:

        >>> import numpy as np
        >>> kappa = CohenKappa(num_classes=5, sparse_labels=True)
        >>> kappa.update_state(np.array([4, 4, 3, 4, 2, 4, 1, 1]),
        ...                    np.array([4, 4, 3, 4, 4, 2, 1, 1]))
        >>> round(float(kappa.result()), 4)
        0.619
    """

    def __init__(
        self,
        num_classes,
        weightage=None,
        sparse_labels=False,
        name="cohen_kappa",
        dtype=None,
    ):
        super().__init__(num_classes, sparse_labels, name=name, dtype=dtype)
        self.weightage = _validation.one_of(
            "weightage", weightage, (None, "linear", "quadratic")
        )

    def result(self):
        total, observed = self._confusion_shares()
        expected = ops.outer(ops.sum(observed, axis=1), ops.sum(observed, 0))
        index = ops.arange(self.num_classes, dtype="float32")
        distance = ops.abs(index[:, None] - index[None, :])
        if self.weightage is None:
            weights = ops.cast(distance > 0, "float32")
        elif self.weightage == "linear":
            weights = distance
        else:
            weights = distance * distance
        chance = ops.sum(weights * expected)
        kappa = 1.0 - ops.sum(weights * observed) / ops.maximum(chance, 1e-30)
        kappa = ops.where((total > 0) & (chance > 0), kappa, 0.0)
        return ops.cast(kappa, self.dtype)

    def get_config(self):
        config = super().get_config()
        # The key order of the configs written before this base class.
        sparse_labels = config.pop("sparse_labels")
        return {
            **config,
            "weightage": self.weightage,
            "sparse_labels": sparse_labels,
        }
