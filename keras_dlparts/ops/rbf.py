"""The Gaussian radial basis function kernel."""

import numpy as np
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.ops.distance import check_points
from keras_dlparts.ops.distance import pairwise_squared_distance


def rbf_kernel(x, centers, gamma):
    """Gaussian radial basis functions of `x` around each centre.

    `h_j(x) = exp(-gamma_j * |x - c_j|^2)`.

    Args:
        x: tensor shaped `(..., features)`.
        centers: tensor shaped `(units, features)`.
        gamma: positive width, a Python number or a tensor shaped `()` or
            `(units,)` (one width per centre). A Python number must be a
            positive finite number; a tensor's values are not checked (it
            may be a trained variable or a traced value).

    Returns:
        Tensor shaped `(..., units)` in the dtype of `x`.

    Raises:
        ValueError: when `x` has rank below 2, `centers` is not of rank 2,
            their feature sizes differ, `gamma` is a Python number that is
            not positive and finite, or a tensor of the wrong shape.
        TypeError: when `gamma` is neither a number nor a tensor.

    Examples:

        >>> import numpy as np
        >>> h = rbf_kernel(np.array([[0.0, 0.0]]),
        ...                np.array([[0.0, 0.0], [1.0, 1.0]]), 0.5)
        >>> np.round(np.asarray(h), 4).tolist()
        [[1.0, 0.3679]]
    """
    x = ops.convert_to_tensor(x)
    centers = ops.convert_to_tensor(centers)
    check_points(x, centers, "x", "centers")
    _check_gamma(gamma, centers.shape[0])
    squared = pairwise_squared_distance(x, centers)
    return ops.exp(-ops.cast(gamma, x.dtype) * squared)


def _check_gamma(gamma, units):
    """Python numbers must be positive and finite; tensors fit `(units,)`."""
    if (
        gamma is None
        or isinstance(gamma, (str, bytes, int, float, np.generic))
        or _validation.static_shape(gamma) is None
    ):
        _validation.positive_number("gamma", gamma)
        return
    # A scalar, or one width per centre.
    _validation.broadcastable_mask("gamma", gamma, (units,))
