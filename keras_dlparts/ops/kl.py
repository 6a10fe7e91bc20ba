"""Kullback-Leibler divergence of a diagonal Gaussian to the standard normal."""

from keras import ops


def gaussian_kl_divergence(mean, log_var):
    """KL divergence from `N(mean, exp(log_var))` to `N(0, I)`, per sample.

    For a diagonal Gaussian with mean `mu` and log-variance `log_var`:

    `KL = -0.5 * sum(1 + log_var - mu^2 - exp(log_var))`

    summed over the last axis. It is zero exactly when `mu = 0` and
    `log_var = 0`, and it is the regulariser of a variational autoencoder.

    Args:
        mean: tensor `(..., latent_dim)`, the Gaussian's mean.
        log_var: tensor of the same shape, the log of its variance.

    Returns:
        Tensor of shape `mean.shape[:-1]`: the divergence of every sample.

    Raises:
        ValueError: if `mean` and `log_var` have different static shapes.

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
    if tuple(mean.shape) != tuple(log_var.shape):
        raise ValueError(
            "Arguments `mean` and `log_var` must have the same shape. "
            f"Received: mean.shape={tuple(mean.shape)}, "
            f"log_var.shape={tuple(log_var.shape)}"
        )
    log_var = ops.cast(log_var, mean.dtype)
    terms = 1.0 + log_var - ops.square(mean) - ops.exp(log_var)
    return -0.5 * ops.sum(terms, axis=-1)
