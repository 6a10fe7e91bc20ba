"""Pairwise squared Euclidean distances between two sets of vectors."""

from keras import ops


def pairwise_squared_distance(x, y):
    """Squared Euclidean distance between every row of `x` and of `y`.

    `d[..., i, j] = |x_i - y_j|^2 = |x_i|^2 - 2 x_i . y_j + |y_j|^2`,
    computed with one matrix product (no `(n, m, features)` intermediate)
    and clipped at zero against rounding.

    Args:
        x: tensor shaped `(..., n, features)`.
        y: tensor shaped `(m, features)`.

    Returns:
        Tensor shaped `(..., n, m)` in the dtype of `x`.

    Examples:

        >>> import numpy as np
        >>> d = pairwise_squared_distance(np.array([[0.0, 0.0], [1.0, 1.0]]),
        ...                               np.array([[0.0, 1.0]]))
        >>> np.asarray(d).ravel().tolist()
        [1.0, 1.0]
    """
    x = ops.convert_to_tensor(x)
    y = ops.cast(y, x.dtype)
    x_sq = ops.sum(ops.square(x), axis=-1, keepdims=True)
    y_sq = ops.sum(ops.square(y), axis=-1)
    cross = ops.matmul(x, ops.transpose(y))
    return ops.maximum(x_sq - 2.0 * cross + y_sq, 0.0)
