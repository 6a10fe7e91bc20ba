"""Adversarial losses of GANs on discriminator logits, numerically stable."""

import keras
from keras import ops

from keras_dlparts import _validation

#: The GAN objectives both losses accept as `kind`.
GAN_LOSS_KINDS = ("minimax", "non_saturating", "hinge", "least_squares")


def _discriminator_terms(kind, real_logits, fake_logits):
    if kind == "hinge":
        return ops.relu(1.0 - real_logits) + ops.relu(1.0 + fake_logits)
    if kind == "least_squares":
        return 0.5 * ops.square(real_logits - 1.0) + 0.5 * ops.square(
            fake_logits
        )
    # minimax and non-saturating share the discriminator's cross-entropy:
    # -log sigmoid(r) - log(1 - sigmoid(f)) = softplus(-r) + softplus(f).
    return ops.softplus(-real_logits) + ops.softplus(fake_logits)


def _generator_terms(kind, fake_logits):
    if kind == "minimax":
        # log(1 - sigmoid(f)) = -softplus(f), minimised by the generator.
        return -ops.softplus(fake_logits)
    if kind == "non_saturating":
        return ops.softplus(-fake_logits)  # -log sigmoid(f)
    if kind == "hinge":
        return -fake_logits
    return 0.5 * ops.square(fake_logits - 1.0)  # least squares


class _GANLoss(keras.losses.Loss):
    """Shared constructor, validation and config of the two GAN losses."""

    def __init__(
        self,
        kind="non_saturating",
        reduction="sum_over_batch_size",
        name=None,
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.kind = _validation.one_of("kind", kind, GAN_LOSS_KINDS)

    def _logits(self, real_logits, fake_logits):
        real_logits = ops.convert_to_tensor(real_logits, dtype=self.dtype)
        fake_logits = ops.convert_to_tensor(fake_logits, dtype=self.dtype)
        # y_true: the real logits, y_pred: the fake logits.
        _validation.same_shape("y_true", real_logits, "y_pred", fake_logits)
        return real_logits, fake_logits

    def get_config(self):
        config = super().get_config()
        config["kind"] = self.kind
        return config


@keras.saving.register_keras_serializable(package="keras_dlparts")
class GANDiscriminatorLoss(_GANLoss):
    """The discriminator's loss of a GAN, on logits.

    Called as `loss(real_logits, fake_logits)`: the discriminator's raw
    scores (logits, before any sigmoid) on a batch of real and of generated
    samples. Per element, with `r` a real and `f` a fake logit:

    ```
    minimax, non_saturating:  softplus(-r) + softplus(f)
                              = -log D(x) - log(1 - D(G(z)))
    hinge:                    relu(1 - r) + relu(1 + f)
    least_squares:            0.5 (r - 1)^2 + 0.5 f^2
    ```

    where `D = sigmoid(logit)`. Written with `softplus`, the cross-entropy
    stays finite for logits of any size. The real and fake batches must have
    the same shape (a `ValueError` naming `y_true` and `y_pred` otherwise;
    an empty batch gives an empty result, as Keras's losses do).

    Args:
        kind: one of `"minimax"`, `"non_saturating"` (default), `"hinge"`,
            `"least_squares"`.
        reduction: the `keras.losses.Loss` reduction of the per-element
            values (default `"sum_over_batch_size"`, the mean).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: the discriminator's logits on real samples.
        y_pred: its logits on generated samples.

    Returns:
        The reduced loss (a scalar by default).

    Examples:

        >>> import numpy as np
        >>> loss = GANDiscriminatorLoss(kind="hinge")
        >>> float(loss(np.array([[2.0], [0.5]]), np.array([[-2.0], [0.0]])))
        0.75
    """

    def call(self, y_true, y_pred):
        real_logits, fake_logits = self._logits(y_true, y_pred)
        return _discriminator_terms(self.kind, real_logits, fake_logits)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class GANGeneratorLoss(_GANLoss):
    """The generator's loss of a GAN, on the discriminator's logits.

    Called as `loss(real_logits, fake_logits)` like `GANDiscriminatorLoss`;
    the four kinds here depend on the fake logits `f` only (the real logits
    are accepted so both losses share one signature, and must have the
    shape of the fake logits):

    ```
    minimax:         -softplus(f)        = log(1 - D(G(z)))  (saturates)
    non_saturating:  softplus(-f)        = -log D(G(z))
    hinge:           -f
    least_squares:   0.5 (f - 1)^2
    ```

    Args:
        kind: one of `"minimax"`, `"non_saturating"` (default), `"hinge"`,
            `"least_squares"`.
        reduction: the `keras.losses.Loss` reduction (default the mean).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: the discriminator's logits on real samples (unused by these
            kinds; any tensor of the same shape, e.g. zeros, will do).
        y_pred: its logits on generated samples.

    Returns:
        The reduced loss (a scalar by default).

    Examples:

        >>> import numpy as np
        >>> loss = GANGeneratorLoss(kind="least_squares")
        >>> float(loss(np.zeros((2, 1)), np.array([[1.0], [3.0]])))
        1.0
    """

    def call(self, y_true, y_pred):
        _, fake_logits = self._logits(y_true, y_pred)
        return _generator_terms(self.kind, fake_logits)
