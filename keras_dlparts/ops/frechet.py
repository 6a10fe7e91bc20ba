"""The Frechet distance between Gaussians fitted to two feature sets."""

import warnings

import keras
from keras import ops

from keras_dlparts import _validation


def frechet_distance(features_a, features_b):
    """Frechet distance between Gaussians fitted to two sets of features.

    With means `mu1`, `mu2` and (unbiased) covariances `S1`, `S2` of the
    rows of `features_a` and `features_b`:

    `d^2 = |mu1 - mu2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))`

    the squared 2-Wasserstein distance of the two Gaussians, as FID
    computes it on Inception features (Heusel et al., 2017). The trace of
    the matrix square root comes from symmetric eigen-decompositions,
    `Tr((S1 S2)^(1/2)) = sum sqrt(eig(S1^(1/2) S2 S1^(1/2)))`, so no
    general `sqrtm` is needed; eigenvalues below zero (round-off of
    singular or near-singular covariances, e.g. fewer rows than features or
    dead ReLU units) are clipped to zero, with no added `eps`.

    The sums run in float64 where the backend allows it (TensorFlow; JAX
    with `jax_enable_x64`), else in float32, where the distance matches a
    float64 computation to a relative `2e-5` for full-rank covariances of
    a few dozen features and `1e-3` for singular ones (64 features, 20
    rows: the square roots of round-off-sized eigenvalues add up).

    Args:
        features_a: `(n_a, d)` features, `n_a >= 2`.
        features_b: `(n_b, d)` features, `n_b >= 2`.

    Returns:
        A float scalar tensor (float64 or float32, as above), `>= 0` up
        to round-off.

    Raises:
        ValueError: if an input is not 2-D, has fewer than 2 rows, or the
            feature sizes differ.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.ops import frechet_distance
        >>> a = np.random.default_rng(0).normal(size=(500, 3))
        >>> d_same = float(frechet_distance(a, a))
        >>> d_shift = float(frechet_distance(a, a + 2.0))  # |mu1-mu2|^2 = 12
        >>> round(d_same, 4), round(d_shift, 4)
        (0.0, 12.0)
    """
    for name, value in (("features_a", features_a), ("features_b", features_b)):
        _validation.check_rank(name, value, 2)
        shape = _validation.static_shape(value)
        if shape is not None and shape[0] is not None and shape[0] < 2:
            raise ValueError(
                f"Argument `{name}` must have at least 2 rows (a covariance "
                f"needs them). Received: {name}.shape={shape}"
            )
    shape_a = _validation.static_shape(features_a)
    shape_b = _validation.static_shape(features_b)
    if None not in (shape_a, shape_b) and shape_a[1] != shape_b[1]:
        raise ValueError(
            "Arguments `features_a` and `features_b` must have the same "
            f"number of features. Received: features_a.shape={shape_a}, "
            f"features_b.shape={shape_b}"
        )
    dtype = _widest_float()
    mean_a, cov_a = _moments(ops.cast(features_a, dtype))
    mean_b, cov_b = _moments(ops.cast(features_b, dtype))
    values, vectors = ops.eigh(cov_a)
    root_a = ops.matmul(
        vectors * ops.sqrt(ops.maximum(values, 0.0))[None, :],
        ops.transpose(vectors),
    )
    middle = ops.matmul(root_a, ops.matmul(cov_b, root_a))
    middle = (middle + ops.transpose(middle)) / 2.0  # symmetric round-off
    trace_root = ops.sum(ops.sqrt(ops.maximum(ops.eigh(middle)[0], 0.0)))
    return (
        ops.sum(ops.square(mean_a - mean_b))
        + ops.trace(cov_a)
        + ops.trace(cov_b)
        - 2.0 * trace_root
    )


def _moments(features):
    """Mean and unbiased covariance (as `np.cov(rowvar=False)`) of rows."""
    n = ops.cast(ops.shape(features)[0], features.dtype)
    mean = ops.mean(features, axis=0)
    centred = features - mean[None, :]
    return mean, ops.matmul(ops.transpose(centred), centred) / (n - 1.0)


def _widest_float():
    """float64 if the backend keeps it (JAX does only with x64 enabled)."""
    with warnings.catch_warnings():  # JAX warns that it truncates
        warnings.simplefilter("ignore")
        probe = ops.zeros((), "float64")
    return keras.backend.standardize_dtype(probe.dtype)
