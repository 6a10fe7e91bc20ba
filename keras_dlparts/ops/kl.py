"""Kullback-Leibler divergence of a diagonal Gaussian to the standard normal."""

import keras
from keras import ops

from keras_dlparts import _validation


def gaussian_kl_divergence(mean, log_var):
    """KL divergence from `N(mean, exp(log_var))` to `N(0, I)`, per sample.

    For a diagonal Gaussian with mean `mu` and log-variance `log_var`:

    `KL = -0.5 * sum(1 + log_var - mu^2 - exp(log_var))`

    summed over the last axis. It is zero exactly when `mu = 0` and
    `log_var = 0`, and it is the regulariser of a variational autoencoder.

    Args:
        mean: tensor `(..., latent_dim)`, the Gaussian's mean.
        log_var: tensor of the same shape, the log of its variance.

    Mixed precision: 16-bit inputs (float16, bfloat16) are computed, and
    returned, in float32, as Keras losses are under a mixed policy:
    `exp(log_var)` overflows float16 from `log_var > 11`, and bfloat16 sums
    lose the small terms. Other float inputs keep their dtype.

    Returns:
        Tensor of shape `mean.shape[:-1]`: the divergence of every sample
            (float32 for 16-bit inputs).

    Raises:
        ValueError: if `mean` and `log_var` have different static shapes or
            are scalars.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.ops import gaussian_kl_divergence
        >>> kl = gaussian_kl_divergence(np.array([[0.0, 1.0]], "float32"),
        ...                             np.array([[0.0, 0.0]], "float32"))
        >>> np.round(np.asarray(kl), 4).tolist()
        [0.5]
    """
    mean = ops.convert_to_tensor(mean)
    log_var = ops.convert_to_tensor(log_var)
    _validation.min_rank("mean", mean, 1)
    _validation.same_shape("mean", mean, "log_var", log_var)
    dtype = keras.backend.standardize_dtype(mean.dtype)
    if dtype in ("float16", "bfloat16") or "float" not in dtype:
        dtype = "float32"
    mean = ops.cast(mean, dtype)
    log_var = ops.cast(log_var, dtype)
    terms = 1.0 + log_var - ops.square(mean) - ops.exp(log_var)
    return -0.5 * ops.sum(terms, axis=-1)
