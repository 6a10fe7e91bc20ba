"""Barron's general and adaptive robust loss, for a fixed shape and scale."""

import math

import keras
from keras import ops

from keras_dlparts import _validation


def robust_loss(x, alpha, scale):
    """Barron's loss `rho(x, alpha, c)` elementwise, for a Python `alpha`.

    The special cases are the limits of the general form; computing the
    general form with `expm1`/`log1p` keeps it accurate, and free of NaN,
    as `alpha` approaches 0 or 2 without reaching them.
    """
    z2 = ops.square(x / scale)
    if alpha == 2:
        return 0.5 * z2
    if alpha == 0:
        return ops.log1p(0.5 * z2)
    if alpha == -math.inf:
        return -ops.expm1(-0.5 * z2)
    if alpha == math.inf:
        return ops.expm1(0.5 * z2)
    b = abs(alpha - 2.0)
    return (b / alpha) * ops.expm1(0.5 * alpha * ops.log1p(z2 / b))


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RobustLoss(keras.losses.Loss):
    """Barron's general robust loss (Barron, 2019) with fixed shape and scale.

    One loss whose shape `alpha` moves continuously between the familiar
    robust losses. For the residual `x = y_pred - y_true` and scale `c`:

    ```
    rho(x, alpha, c) = |alpha - 2| / alpha
                       * (((x / c)**2 / |alpha - 2| + 1)**(alpha / 2) - 1)
    ```

    and its limits:

    ```
    alpha = 2      0.5 (x/c)^2                       (L2)
    alpha = 1      sqrt((x/c)^2 + 1) - 1             (pseudo-Huber, Charbonnier)
    alpha = 0      log(0.5 (x/c)^2 + 1)              (Cauchy, Lorentzian)
    alpha = -2     2 (x/c)^2 / ((x/c)^2 + 4)         (Geman-McClure)
    alpha = -inf   1 - exp(-0.5 (x/c)^2)             (Welsch, Leclerc)
    ```

    Smaller `alpha` cuts the influence of outliers more; `c` sets the size of
    a residual below which the loss is roughly quadratic. `alpha = 0` and
    `alpha = 2` use the closed forms; values near them use the general form
    computed with `expm1`/`log1p`, which tends smoothly to the limits (no
    0/0, no NaN). The per-sample loss is the mean over the last axis, as for
    `keras.losses.MeanSquaredError`.

    Args:
        alpha: float shape parameter, any real number or `-inf`/`inf` (not
            NaN). Defaults to `1.0`.
        scale: positive finite float `c`. Defaults to `1.0`.
        reduction: the `keras.losses.Loss` reduction (default the mean).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: targets.
        y_pred: predictions, same shape (as in Keras's losses, a trailing
            axis of size 1 on one of them is dropped to match the other).

    Raises:
        ValueError: when the static shapes of `y_true` and `y_pred` differ.

    Returns:
        The reduced loss (a scalar by default).

    Examples:

        >>> import numpy as np
        >>> loss = RobustLoss(alpha=1.0, scale=1.0)
        >>> round(float(loss(np.zeros((1, 2)), np.array([[0.0, 1.0]]))), 4)
        0.2071
    """

    def __init__(
        self,
        alpha=1.0,
        scale=1.0,
        reduction="sum_over_batch_size",
        name="robust_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if alpha not in (-math.inf, math.inf) or isinstance(alpha, bool):
            alpha = _validation.number("alpha", alpha)
        scale = _validation.positive_number("scale", scale)
        self.alpha = float(alpha)
        self.scale = float(scale)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        y_pred = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        y_true = ops.cast(y_true, self.dtype)
        y_true, y_pred = _same_rank(y_true, y_pred)
        _validation.same_shape("y_true", y_true, "y_pred", y_pred)
        values = robust_loss(y_pred - y_true, self.alpha, self.scale)
        return ops.mean(values, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "alpha": self.alpha,
                "scale": self.scale,
                "dtype": self._dtype_argument,
            }
        )
        return config


def _same_rank(y_true, y_pred):
    """Drops a trailing axis of size 1 where the ranks differ by one."""
    true_rank, pred_rank = len(y_true.shape), len(y_pred.shape)
    if true_rank == pred_rank + 1 and y_true.shape[-1] == 1:
        y_true = ops.squeeze(y_true, axis=-1)
    elif pred_rank == true_rank + 1 and y_pred.shape[-1] == 1:
        y_pred = ops.squeeze(y_pred, axis=-1)
    return y_true, y_pred
