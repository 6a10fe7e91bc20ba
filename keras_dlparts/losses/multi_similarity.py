"""Multi-similarity loss (Wang et al., 2019) on labels and embeddings."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.losses import _in_batch


@keras.saving.register_keras_serializable(package="keras_dlparts")
class MultiSimilarityLoss(keras.losses.Loss):
    """Multi-similarity loss with its pair mining (Wang et al., 2019).

    "Multi-Similarity Loss with General Pair Weighting". With `S` the
    cosine similarities of the L2-normalised embeddings, `P_i` the
    positives of anchor `i` (same label, not `i`) and `N_i` its negatives:

    - mining keeps a negative `k` if `S_ik + epsilon > min_{j in P_i} S_ij`
      and a positive `j` if `S_ij - epsilon < max_{k in N_i} S_ik`;
    - on the kept pairs,

    ```
    loss_i = 1/alpha log(1 + sum_pos exp(-alpha (S_ij - base)))
           + 1/beta  log(1 + sum_neg exp(beta (S_ik - base)))
    ```

    and the loss is the mean of `loss_i` over the anchors that have a
    positive in the batch (all of them in a class-balanced batch, as in the
    paper); 0 when none has. Each `log(1 + sum exp)` is a log-sum-exp with
    the 1 as an extra zero logit, so large `beta` neither overflows nor
    gives NaN gradients; float16 embeddings are computed in float32. The
    authors' code skips anchors whose mined positives or negatives are
    empty; here such an anchor keeps its other term, as in the paper's
    formula.

    The loss is one value for the whole batch (the pairs come from the
    batch), so `sample_weight` is not meaningful.

    Args:
        alpha: positive finite float, the positives' scale. Defaults to
            `2.0`.
        beta: positive finite float, the negatives' scale. Defaults to
            `50.0`.
        base: finite float, the similarity margin `lambda`. Defaults to
            `0.5`.
        epsilon: non-negative finite float, the mining margin. Defaults
            to `0.1`.
        reduction: the `keras.losses.Loss` reduction (of the batch's single
            value).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: class labels, shape `(batch,)` or `(batch, 1)`.
        y_pred: embeddings, shape `(batch, features)`.

    Returns:
        The loss, a scalar.

    Raises:
        ValueError: when `y_pred` is not `(batch, features)`, `y_true` not
            `(batch,)` or `(batch, 1)`, or their batch sizes differ.

    Examples:

        >>> import numpy as np
        >>> loss = MultiSimilarityLoss(alpha=2.0, beta=10.0, base=0.5)
        >>> labels = np.array([0, 0, 1, 1])
        >>> embeddings = np.array([[1.0, 0.0], [0.6, 0.8],
        ...                        [0.8, 0.6], [0.0, 1.0]])
        >>> # anchors 0 and 3 keep their positive (S = 0.6) and the negative
        >>> # with S = 0.8 (not S = 0 < 0.6 - epsilon); anchors 1 and 2 keep
        >>> # their positive and both negatives (S = 0.96 and 0.8)
        >>> round(float(loss(labels, embeddings)), 4)
        0.6911
    """

    def __init__(
        self,
        alpha=2.0,
        beta=50.0,
        base=0.5,
        epsilon=0.1,
        reduction="sum_over_batch_size",
        name="multi_similarity_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha = _validation.positive_number("alpha", alpha)
        self.beta = _validation.positive_number("beta", beta)
        self.base = _validation.number("base", base)
        self.epsilon = _validation.non_negative_number("epsilon", epsilon)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        embeddings = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        _validation.check_layout("y_pred", embeddings, ("batch", "features"))
        labels = _in_batch.labels_vector(y_true)
        _validation.same_batch_size(("y_true", labels), ("y_pred", embeddings))
        if _validation.batch_size(embeddings) == 0:
            return ops.zeros((), embeddings.dtype)  # no pair in the batch
        similarity = _in_batch.cosine_matrix(embeddings)
        same = ops.equal(labels[:, None], labels[None, :])
        positive = ops.logical_and(
            same, _in_batch.not_self(ops.shape(labels)[0])
        )
        negative = ops.logical_not(same)
        has_positive = ops.any(positive, axis=1, keepdims=True)
        has_negative = ops.any(negative, axis=1, keepdims=True)
        # Cosines lie in [-1, 1]: 2 and -2 stand for "no such pair".
        hardest_positive = ops.min(
            ops.where(positive, similarity, 2.0), axis=1, keepdims=True
        )
        hardest_negative = ops.max(
            ops.where(negative, similarity, -2.0), axis=1, keepdims=True
        )
        kept_negative = ops.logical_and(
            ops.logical_and(negative, has_positive),
            ops.greater(similarity + self.epsilon, hardest_positive),
        )
        kept_positive = ops.logical_and(
            ops.logical_and(positive, has_negative),
            ops.less(similarity - self.epsilon, hardest_negative),
        )
        positive_term = _in_batch.log1p_sum_exp(
            -self.alpha * (similarity - self.base), kept_positive
        )
        negative_term = _in_batch.log1p_sum_exp(
            self.beta * (similarity - self.base), kept_negative
        )
        per_anchor = positive_term / self.alpha + negative_term / self.beta
        return _in_batch.masked_mean(per_anchor, has_positive[:, 0])

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "alpha": self.alpha,
                "beta": self.beta,
                "base": self.base,
                "epsilon": self.epsilon,
                "dtype": self._dtype_argument,
            }
        )
        return config
