"""Pairwise squared Euclidean distances between two sets of vectors."""

from keras import ops

from keras_dlparts import _validation


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

    Raises:
        ValueError: when `x` has rank below 2, `y` is not of rank 2, or
            their feature sizes differ (static shapes).

    Examples:

        >>> import numpy as np
        >>> d = pairwise_squared_distance(np.array([[0.0, 0.0], [1.0, 1.0]]),
        ...                               np.array([[0.0, 1.0]]))
        >>> np.asarray(d).ravel().tolist()
        [1.0, 1.0]
    """
    x = ops.convert_to_tensor(x)
    y = ops.cast(y, x.dtype)
    check_points(x, y, "x", "y")
    x_sq = ops.sum(ops.square(x), axis=-1, keepdims=True)
    y_sq = ops.sum(ops.square(y), axis=-1)
    cross = ops.matmul(x, ops.transpose(y))
    return ops.maximum(x_sq - 2.0 * cross + y_sq, 0.0)


def check_points(x, y, x_name, y_name):
    """Raises ValueError naming the argument unless `x` is `(..., n, f)`
    and `y` is `(m, f)` (static shapes; unknown sizes pass)."""
    _validation.min_rank(x_name, x, 2)
    _validation.check_rank(y_name, y, 2)
    _validation.same_axis_size((x_name, x), (y_name, y), axis=-1)
