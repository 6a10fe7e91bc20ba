"""Cosine similarity, and the package's one safe square root and normalisation.

`safe_sqrt` and `l2_normalize` are shared by every part that takes a norm
(the triplet loss, the Siamese network, the dual encoder, cosine
attention): their values and gradients stay finite and bounded at zero in
float32, float16 and bfloat16.
"""

import keras
from keras import ops

from keras_dlparts import _validation

#: Vectors whose largest component is at most this count as zero vectors
#: (float32, float64 and bfloat16 inputs). The gradient of `l2_normalize`
#: is at most `1 / EPSILON`.
EPSILON = 1e-6
#: The same for float16 inputs: its smallest normal number, so that the
#: gradient (at most 16384) stays below float16's largest value, 65504.
EPSILON_FLOAT16 = 2.0**-14

_LOW_PRECISION = ("float16", "bfloat16")


def norm_floor(dtype):
    """The norm below which a vector of `dtype` counts as zero."""
    dtype = keras.backend.standardize_dtype(dtype)
    return EPSILON_FLOAT16 if dtype == "float16" else EPSILON


def safe_sqrt(squared):
    """`sqrt(squared)`, with value and gradient 0 at and below a small floor.

    The square root is only taken above `norm_floor(dtype) ** 2`, so its
    gradient `1 / (2 sqrt(x))` is bounded (by `0.5 / norm_floor`) and never
    infinite, as it would be at 0, nor NaN under `jit`. Coincident points
    thus have distance 0 and gradient 0.

    Args:
        squared: a non-negative float tensor (e.g. squared distances).

    Returns:
        A tensor shaped and typed like `squared`.
    """
    squared = ops.convert_to_tensor(squared)
    positive = ops.greater(squared, norm_floor(squared.dtype) ** 2)
    safe = ops.where(positive, squared, ops.ones_like(squared))
    return ops.where(positive, ops.sqrt(safe), ops.zeros_like(squared))


def l2_normalize(x, axis=-1):
    """Scales `x` to unit Euclidean length along `axis`, safely.

    A vector whose largest component is at most `EPSILON` (`EPSILON_FLOAT16`
    for float16 inputs) counts as zero: it stays zero, with gradient 0.
    Every other vector is divided by its norm, after scaling by its largest
    component so that the squares neither overflow nor underflow. The
    gradient is therefore finite everywhere and bounded by `1 / EPSILON`
    (16384 for float16, which it fits). 16-bit inputs are normalised in
    float32 and the result cast back. The floor follows the dtype of `x`:
    a float16 tensor cast to float32 first (as a loss does with `y_pred`)
    gets float32's bound, 1e6, which float16 gradients cannot hold; such a
    vector must be shorter than 1.5e-5, which float16 barely represents.

    Args:
        x: float tensor.
        axis: the axis holding the vector components.

    Returns:
        A tensor shaped like `x`, in its dtype (float32 for integer inputs).

    Examples:

        >>> from keras_dlparts.ops.similarity import l2_normalize
        >>> keras.ops.convert_to_numpy(l2_normalize([[3.0, 4.0], [0.0, 0.0]]))
        array([[0.6, 0.8],
               [0. , 0. ]], dtype=float32)
    """
    x = ops.convert_to_tensor(x)
    dtype = keras.backend.standardize_dtype(x.dtype)
    if "float" not in dtype:
        dtype = "float32"
    work = ops.cast(x, "float64" if dtype == "float64" else "float32")
    # Normalising is scale-invariant: dividing by a constant (no gradient)
    # changes neither the value nor the gradient, and keeps squares in range.
    # The divisor stops at 2**100: the reciprocal of a larger one can be
    # subnormal, which XLA on CPU flushes to zero.
    largest = ops.max(ops.abs(work), axis=axis, keepdims=True, initial=0.0)
    nonzero = ops.greater(largest, norm_floor(dtype))
    scale = ops.stop_gradient(ops.minimum(largest, 2.0**100))
    scaled = work / ops.where(nonzero, scale, 1.0)
    square_sum = ops.sum(ops.square(scaled), axis=axis, keepdims=True)
    norm = ops.sqrt(ops.where(nonzero, square_sum, 1.0))
    return ops.cast(ops.where(nonzero, scaled / norm, 0.0), dtype)


def cosine_similarity(a, b, axis=-1):
    """Cosine similarity of `a` and `b` along `axis`.

    `cos(a, b) = l2_normalize(a) . l2_normalize(b)`, in [-1, 1]. A zero
    vector (largest component at most `EPSILON`) has similarity 0 with
    everything; the value and its gradient are finite and bounded, in
    float32, float16 and bfloat16 (see `l2_normalize`). `a` and `b`
    broadcast against each other.

    Args:
        a: tensor of vectors.
        b: tensor of vectors, broadcastable to `a`, with the same size along
            `axis`.
        axis: int, the axis holding the vector components; it is reduced.

    Returns:
        The similarities: the broadcast shape of `a` and `b` without `axis`,
            in the dtype of `a`.

    Raises:
        ValueError: when `a` and `b` differ in size along `axis`, their
            shapes do not broadcast, or `axis` is out of range.
        TypeError: when `axis` is not an integer.

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
    _check_axis(a, "a", axis)
    _check_axis(b, "b", axis)
    _validation.same_axis_size(("a", a), ("b", b), axis=axis)
    _validation.broadcast_compatible(("a", a), ("b", b))
    b = ops.cast(b, a.dtype)
    return ops.sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis=axis)


def _check_axis(x, name, axis):
    _validation.min_rank(name, x, 1)
    _validation.axis_index("axis", axis, len(x.shape))
