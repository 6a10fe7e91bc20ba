"""Shared code of the in-batch metric-learning losses.

Label and embedding checks, the cosine similarity matrix of a batch, and
the stable masked log-sum-exp and cross-entropy that
`TripletLoss`, `MultiSimilarityLoss`, `SupervisedContrastiveLoss`,
`NTXentLoss` and `NPairsLoss` are written with.
"""

from keras import ops

from keras_dlparts import _validation
from keras_dlparts.ops.similarity import l2_normalize


def labels_vector(y_true):
    """`y_true` as a `(batch,)` tensor of labels; `(batch, 1)` is squeezed."""
    labels = _validation.batch_vector("y_true", ops.convert_to_tensor(y_true))
    if len(labels.shape) == 2:
        labels = ops.squeeze(labels, axis=-1)
    return labels


def cosine_matrix(embeddings):
    """`(n, n)` cosine similarities of the rows of `embeddings` (safe at 0)."""
    unit = l2_normalize(embeddings)
    return ops.matmul(unit, ops.transpose(unit))


def not_self(n):
    """`(n, n)` boolean mask, False on the diagonal."""
    return ops.logical_not(ops.cast(ops.eye(n), "bool"))


def masked_logsumexp(x, mask):
    """`log(sum(exp(x)))` over the True entries of `mask`, along the last axis.

    Stable: shifted by the row's largest selected entry (without gradient),
    and the entries left out never reach `exp`, so their values (even huge
    ones) give neither overflow nor NaN gradients. A row with no selected
    entry gives a finite meaningless value, with zero gradient: the caller
    leaves it out.
    """
    low = ops.min(x, axis=-1, keepdims=True)
    shift = ops.stop_gradient(
        ops.max(ops.where(mask, x, low), axis=-1, keepdims=True)
    )
    terms = ops.where(mask, ops.exp(ops.where(mask, x, shift) - shift), 0.0)
    total = ops.sum(terms, axis=-1)
    has_any = ops.greater(total, 0.0)
    return ops.where(
        has_any, ops.log(ops.where(has_any, total, 1.0)), 0.0
    ) + ops.squeeze(shift, axis=-1)


def log1p_sum_exp(x, mask):
    """`log(1 + sum(exp(x)))` over the True entries of `mask` (last axis).

    The 1 is an extra zero logit, so the log-sum-exp stays stable; a row
    with no selected entry gives `log(1) = 0`.
    """
    zero = ops.zeros_like(x[..., :1])
    return masked_logsumexp(
        ops.concatenate([zero, x], axis=-1),
        ops.concatenate([ops.ones_like(mask[..., :1]), mask], axis=-1),
    )


def soft_cross_entropy(logits, targets, support):
    """Per-row cross-entropy of the softmax over `support` against targets.

    `targets` are non-negative weights, normalised per row (the mean of the
    targets' logits): `logsumexp_support(l) - sum(t * l) / sum(t)`. Rows
    without a target give 0 (the caller leaves them out).
    """
    targets = ops.cast(targets, logits.dtype)
    count = ops.sum(targets, axis=-1)
    target_mean = ops.sum(targets * logits, axis=-1) / ops.maximum(count, 1.0)
    values = masked_logsumexp(logits, support) - target_mean
    return ops.where(ops.greater(count, 0.0), values, 0.0)


def masked_mean(values, mask):
    """Mean of `values` where `mask` is True; 0 when it is nowhere True."""
    mask = ops.cast(mask, values.dtype)
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)
