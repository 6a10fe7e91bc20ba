"""The Gaussian radial basis function kernel."""

from keras import ops

from keras_dlparts.ops.distance import pairwise_squared_distance


def rbf_kernel(x, centers, gamma):
    """Gaussian radial basis functions of `x` around each centre.

    `h_j(x) = exp(-gamma_j * |x - c_j|^2)`.

    Args:
        x: tensor shaped `(..., features)`.
        centers: tensor shaped `(units, features)`.
        gamma: positive width, a scalar or a tensor shaped `(units,)`
            (one width per centre).

    Returns:
        Tensor shaped `(..., units)` in the dtype of `x`.

    Examples:

        >>> import numpy as np
        >>> h = rbf_kernel(np.array([[0.0, 0.0]]),
        ...                np.array([[0.0, 0.0], [1.0, 1.0]]), 0.5)
        >>> np.round(np.asarray(h), 4).tolist()
        [[1.0, 0.3679]]
    """
    x = ops.convert_to_tensor(x)
    squared = pairwise_squared_distance(x, centers)
    return ops.exp(-ops.cast(gamma, x.dtype) * squared)
