"""Multi-class N-pair loss (Sohn, 2016) on labelled (anchor, positive) pairs."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.losses import _in_batch


@keras.saving.register_keras_serializable(package="keras_dlparts")
class NPairsLoss(keras.losses.Loss):
    """Multi-class N-pair loss (Sohn, 2016), on (anchor, positive) pairs.

    "Improved Deep Metric Learning with Multi-class N-pair Loss
    Objective". `y_pred[:, 0]` are the anchors `f_i` and `y_pred[:, 1]`
    their positives `f_i+` (another example of the same class); `y_true`
    are the pairs' class labels. Each anchor must pick out its positive
    among the `N` positives of the batch by the inner products `f_i . f_j+`
    (not normalised, as in the paper). Positives of the same class as the
    anchor are not negatives: the targets are the label-equality matrix,
    normalised per row, as in TensorFlow Addons' `npairs_loss`:

    ```
    logits = f @ f+^T                 t_ij = [y_i == y_j] / #{j: y_j == y_i}
    loss = mean_i(logsumexp_j(logits_ij) - sum_j t_ij logits_ij)
           + l2_regularization / 4 * (mean_i |f_i|^2 + mean_i |f_i+|^2)
    ```

    With one pair per class this is the paper's
    `mean_i log(1 + sum_{j != i} exp(f_i . f_j+ - f_i . f_i+))`; the L2 term
    is the paper's regulariser with TensorFlow's (contrib) `npairs_loss`
    scaling, so `l2_regularization=0.002` matches its default. The
    log-sum-exp is shifted by each row's largest logit, so inner products
    in the thousands stay finite; float16 embeddings are computed in
    float32.

    The loss is one value for the whole batch (the other pairs are the
    negatives), so `sample_weight` is not meaningful.

    Args:
        l2_regularization: non-negative finite float, the weight of the
            embeddings' squared norms. Defaults to `0.002`.
        reduction: the `keras.losses.Loss` reduction (of the batch's single
            value).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: class labels of the pairs, `(batch,)` or `(batch, 1)`.
        y_pred: embeddings `(batch, 2, features)`: anchor, then positive.

    Returns:
        The loss, a scalar.

    Raises:
        ValueError: when `y_pred` is not `(batch, 2, features)`, `y_true`
            not `(batch,)` or `(batch, 1)`, or their batch sizes differ.

    Examples:

        >>> import numpy as np
        >>> loss = NPairsLoss(l2_regularization=0.0)
        >>> pairs = np.array([[[1.0, 0.0], [2.0, 0.0]],
        ...                   [[0.0, 1.0], [0.0, 2.0]]])
        >>> # anchor 0: logits (2, 0), target column 0: log(1 + e**-2)
        >>> round(float(loss(np.array([0, 1]), pairs)), 4)
        0.1269
    """

    def __init__(
        self,
        l2_regularization=0.002,
        reduction="sum_over_batch_size",
        name="npairs_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.l2_regularization = _validation.non_negative_number(
            "l2_regularization", l2_regularization
        )
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        pairs = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        _validation.check_layout("y_pred", pairs, ("batch", "pair", "features"))
        _validation.axis_size(
            "y_pred", pairs, 1, expected=2, why=" (anchor, positive)"
        )
        labels = _in_batch.labels_vector(y_true)
        _validation.same_batch_size(("y_true", labels), ("y_pred", pairs))
        if _validation.batch_size(pairs) == 0:
            return ops.zeros((), pairs.dtype)
        anchors, positives = pairs[:, 0], pairs[:, 1]
        logits = ops.matmul(anchors, ops.transpose(positives))
        same = ops.equal(labels[:, None], labels[None, :])
        cross_entropy = _in_batch.soft_cross_entropy(
            logits, same, ops.ones_like(same)
        )
        squared_norms = ops.sum(ops.square(pairs), axis=-1)  # (batch, 2)
        penalty = (
            0.25
            * self.l2_regularization
            * ops.sum(ops.mean(squared_norms, axis=0))
        )
        return ops.mean(cross_entropy) + penalty

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "l2_regularization": self.l2_regularization,
                "dtype": self._dtype_argument,
            }
        )
        return config
