"""Scaled dot-product attention and the masked softmax it rests on."""

import keras
from keras import ops

from keras_dlparts import _validation

_LOW_PRECISION = ("float16", "bfloat16")


def large_negative(dtype):
    """A large negative number that `dtype` can represent (`-0.7 * max`).

    Masked scores are replaced by it before the softmax: it is finite (no
    `inf - inf = NaN`) and far below any real score in that dtype.
    """
    dtype = keras.backend.standardize_dtype(dtype)
    limits = {"float16": 65504.0, "bfloat16": 3.38e38, "float32": 3.40e38}
    return -0.7 * limits.get(dtype, 1.79e308)


def masked_softmax(scores, mask=None, axis=-1):
    """Softmax of `scores` over `axis` in which masked entries get exactly 0.

    `softmax(where(mask, s, -big))`, then masked entries set to 0, so a row
    whose entries are all masked is all zeros (not uniform). 16-bit scores
    are normalised in float32 (no overflow in `exp` or the sum) and the
    weights cast back to the scores' dtype.

    Args:
        scores: float tensor.
        mask: `None` or a boolean tensor broadcastable to `scores`; `True`
            keeps an entry, `False` masks it.
        axis: int or tuple of ints, the axes normalised over.

    Returns:
        Weights shaped and typed like `scores`, summing to 1 over `axis`
            wherever at least one entry is unmasked.

    Examples:

        >>> from keras_dlparts.ops.attention import masked_softmax
        >>> keras.ops.convert_to_numpy(masked_softmax(
        ...     [[0.0, 0.0, 5.0], [1.0, 2.0, 3.0]],
        ...     [[True, True, False], [False, False, False]]))
        array([[0.5, 0.5, 0. ],
               [0. , 0. , 0. ]], dtype=float32)
    """
    scores = ops.convert_to_tensor(scores)
    rank = len(scores.shape)
    if isinstance(axis, (tuple, list)):
        axis = tuple(a % rank for a in axis)
        axis = axis[0] if len(axis) == 1 else axis
    dtype = keras.backend.standardize_dtype(scores.dtype)
    logits = ops.cast(scores, "float32") if dtype in _LOW_PRECISION else scores
    if mask is None:
        return ops.cast(ops.softmax(logits, axis=axis), dtype)
    mask = ops.cast(mask, "bool")
    logits = ops.where(mask, logits, large_negative(logits.dtype))
    logits = logits - ops.stop_gradient(
        ops.max(logits, axis=axis, keepdims=True)
    )
    weights = ops.exp(logits)
    weights = weights / ops.sum(weights, axis=axis, keepdims=True)
    return ops.cast(ops.where(mask, weights, 0.0), dtype)


def scaled_dot_product_attention(query, key, value, mask=None):
    """Scaled dot-product attention, returning the output and the weights.

    `weights = softmax(q k^T / sqrt(d))` over the keys (the last axis),
    `output = weights v`. Masked keys get exactly zero weight; a query whose
    keys are all masked gets all-zero weights and a zero output.

    Args:
        query: tensor `(..., T, d)`.
        key: tensor `(..., S, d)`.
        value: tensor `(..., S, d_v)`.
        mask: `None` or a boolean tensor broadcastable to `(..., T, S)`;
            `True` where query `t` may attend to key `s`.

    Returns:
        A tuple `(output, weights)`: `output` of shape `(..., T, d_v)` and
            `weights` of shape `(..., T, S)`, in the dtype of `query`.

    Raises:
        ValueError: when an input has rank below 2, `query` and `key` differ
            in their last dimension, `key` and `value` in their length, the
            leading (batch) axes of the inputs do not broadcast together,
            or `mask` does not broadcast to `(..., T, S)` (static shapes).

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.ops import scaled_dot_product_attention
        >>> q = np.array([[[1.0, 0.0]]], "float32")
        >>> k = np.array([[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]], "float32")
        >>> v = np.array([[[1.0], [2.0], [3.0]]], "float32")
        >>> mask = [True, True, False]
        >>> out, w = scaled_dot_product_attention(q, k, v, mask=mask)
        >>> np.round(keras.ops.convert_to_numpy(w), 4)
        array([[[0.6698, 0.3302, 0.    ]]], dtype=float32)
        >>> np.round(keras.ops.convert_to_numpy(out), 4)
        array([[[1.3302]]], dtype=float32)
    """
    query = ops.convert_to_tensor(query)
    key = ops.convert_to_tensor(key)
    value = ops.convert_to_tensor(value)
    dtype = keras.backend.standardize_dtype(query.dtype)
    named = (("query", query), ("key", key), ("value", value))
    for name, tensor in named:
        _validation.min_rank(name, tensor, 2)
    _validation.broadcast_compatible(
        *((name, _validation.static_shape(t)[:-2]) for name, t in named)
    )
    # 16-bit inputs are attended in float32: no overflow in q k^T.
    work = "float32" if dtype in _LOW_PRECISION else dtype
    query = ops.cast(query, work)
    key = ops.cast(key, work)
    value = ops.cast(value, work)
    depth = query.shape[-1]
    if None not in (key.shape[-1], depth) and key.shape[-1] != depth:
        raise ValueError(
            "Arguments `query` and `key` must have the same last dimension. "
            f"Received: query.shape={tuple(query.shape)}, "
            f"key.shape={tuple(key.shape)}"
        )
    if None not in (key.shape[-2], value.shape[-2]) and (
        key.shape[-2] != value.shape[-2]
    ):
        raise ValueError(
            "Arguments `key` and `value` must have the same length (axis -2). "
            f"Received: key.shape={tuple(key.shape)}, "
            f"value.shape={tuple(value.shape)}"
        )
    if mask is not None:
        scores_shape = tuple(query.shape[:-1]) + (key.shape[-2],)
        mask = ops.convert_to_tensor(mask)
        _validation.broadcast_compatible(
            ("mask", mask), ("scores", scores_shape)
        )
        if len(mask.shape) > len(scores_shape):
            raise ValueError(
                f"Argument `mask` must broadcast to (..., T, S) = "
                f"{scores_shape}. Received: mask.shape={tuple(mask.shape)}"
            )
    scale = ops.rsqrt(ops.cast(ops.shape(query)[-1], work))
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) * scale
    weights = masked_softmax(scores, mask)
    output = ops.matmul(weights, value)
    return ops.cast(output, dtype), ops.cast(weights, dtype)
