"""Cosine similarity between feature vectors."""

import keras
from keras import ops

#: Vectors shorter than this count as zero vectors (their similarity is 0).
EPSILON = 1e-12


def l2_normalize(x, axis=-1):
    """Scales `x` to unit Euclidean length along `axis`, safely.

    `x / max(|x|, eps)` with `eps = 1e-12`: a zero vector stays zero, and
    neither the value nor its gradient is ever NaN (the norm's square root
    is never taken at zero). 16-bit inputs are normalised in float32 and the
    result is cast back.

    Args:
        x: tensor.
        axis: the axis holding the vector components.

    Returns:
        A tensor shaped and typed like `x`.

    Examples:

        >>> from keras_dlparts.ops.similarity import l2_normalize
        >>> keras.ops.convert_to_numpy(l2_normalize([[3.0, 4.0], [0.0, 0.0]]))
        array([[0.6, 0.8],
               [0. , 0. ]], dtype=float32)
    """
    x = ops.convert_to_tensor(x)
    dtype = keras.backend.standardize_dtype(x.dtype)
    if dtype not in ("float32", "float64"):
        x = ops.cast(x, "float32")
    square_sum = ops.sum(ops.square(x), axis=axis, keepdims=True)
    inv_norm = ops.rsqrt(ops.maximum(square_sum, EPSILON**2))
    return ops.cast(x * inv_norm, dtype)


def cosine_similarity(a, b, axis=-1):
    """Cosine similarity of `a` and `b` along `axis`.

    `cos(a, b) = a . b / (max(|a|, eps) max(|b|, eps))` with `eps = 1e-12`,
    in [-1, 1]. A zero vector has similarity 0 with everything (no NaN, in
    the value or its gradient). `a` and `b` broadcast against each other.

    Args:
        a: tensor of vectors.
        b: tensor of vectors, broadcastable to `a`, with the same size along
            `axis`.
        axis: the axis holding the vector components; it is reduced.

    Returns:
        The similarities: the broadcast shape of `a` and `b` without `axis`,
            in the dtype of `a`.

    Raises:
        ValueError: when `a` and `b` differ in size along `axis`.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.ops import cosine_similarity
        >>> a = [[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]
        >>> b = [[0.0, 2.0], [2.0, 2.0], [1.0, 0.0]]
        >>> np.round(keras.ops.convert_to_numpy(cosine_similarity(a, b)), 4)
        array([0., 1., 0.], dtype=float32)
    """
    a = ops.convert_to_tensor(a)
    b = ops.convert_to_tensor(b)
    a_dim, b_dim = _dim(a, axis), _dim(b, axis)
    if a_dim is not None and b_dim is not None and a_dim != b_dim:
        raise ValueError(
            "Arguments `a` and `b` must have the same size along `axis`="
            f"{axis}. Received: a.shape={tuple(a.shape)}, "
            f"b.shape={tuple(b.shape)}"
        )
    b = ops.cast(b, a.dtype)
    return ops.sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis=axis)


def _dim(x, axis):
    shape = tuple(x.shape)
    if not shape or not -len(shape) <= axis < len(shape):
        raise ValueError(
            f"Argument `axis`={axis} is out of range for an input of shape "
            f"{shape}."
        )
    return shape[axis]
