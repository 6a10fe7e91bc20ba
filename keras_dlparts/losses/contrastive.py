"""Contrastive loss of Siamese networks on pair labels and distances."""

import keras
from keras import ops

from keras_dlparts import _validation


def _pair_vector(x, name, dtype):
    """Returns `x` as a `(batch,)` tensor, from `(batch,)` or `(batch, 1)`."""
    x = _validation.batch_vector(name, ops.convert_to_tensor(x, dtype=dtype))
    return ops.squeeze(x, axis=-1) if len(x.shape) == 2 else x


@keras.saving.register_keras_serializable(package="keras_dlparts")
class ContrastiveLoss(keras.losses.Loss):
    """Contrastive loss of Siamese pairs (Hadsell, Chopra and LeCun, 2006).

    Pulls similar pairs together and pushes dissimilar pairs at least
    `margin` apart. For a label `y` (1 similar, 0 dissimilar) and the
    distance `d >= 0` the network computed between the pair's embeddings:

    ```
    loss = y * d**2 + (1 - y) * max(margin - d, 0)**2
    ```

    Conventions: this is TensorFlow Addons' `ContrastiveLoss`
    (`tfa.losses.contrastive_loss`, 1 = similar, no factor 1/2), so TFA code
    ports unchanged. The paper writes `Y = 0` for similar pairs and halves
    both terms: its loss is half of this one with the labels flipped, and
    keras.io's Siamese example uses the flipped labels too. `y_pred` is a
    *distance*, not a similarity or a probability: compute it (e.g. the
    Euclidean distance of the two embeddings) in the model.

    Labels are checked when their values are known (NumPy or Python
    inputs, eager tensors): anything but 0 and 1 raises a `ValueError`
    naming `y_true`. Inside a compiled function (`fit`, `jit`) the values
    are unknown when the graph is built and are not checked: other labels
    then give meaningless (possibly negative) losses. A dissimilar pair at
    any distance costs 0, also where `d**2` overflows (no `0 * inf`).

    Args:
        margin: positive finite float, the distance beyond which dissimilar
            pairs cost nothing. Defaults to `1.0`.
        reduction: the `keras.losses.Loss` reduction of the per-pair values
            (default `"sum_over_batch_size"`, the mean).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: pair labels, 1 similar and 0 dissimilar, shape `(batch,)` or
            `(batch, 1)`.
        y_pred: distances of the pairs, same batch size.

    Raises:
        ValueError: when `y_true` or `y_pred` is not `(batch,)` or
            `(batch, 1)`, their batch sizes differ, or known labels are not
            0 or 1.

    Returns:
        The reduced loss (a scalar by default).

    Examples:

        >>> loss = ContrastiveLoss(margin=1.0)
        >>> # similar at distance 0.5: 0.25; dissimilar at 0.25: 0.75**2
        >>> float(loss([1, 0], [0.5, 0.25]))
        0.40625
    """

    def __init__(
        self,
        margin=1.0,
        reduction="sum_over_batch_size",
        name="contrastive_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = _validation.positive_number("margin", margin)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        y_pred = _pair_vector(y_pred, "y_pred", self.dtype)
        y_true = _pair_vector(y_true, "y_true", self.dtype)
        _validation.same_batch_size(("y_true", y_true), ("y_pred", y_pred))
        _validation.values_in("y_true", y_true, (0, 1), "labels 0 or 1")
        # Each term only where its weight is nonzero: `0 * inf` would be NaN
        # for a dissimilar pair whose squared distance overflows.
        similar = ops.where(y_true > 0, y_true * ops.square(y_pred), 0.0)
        hinge = ops.square(ops.relu(self.margin - y_pred))
        dissimilar = ops.where(y_true < 1, (1.0 - y_true) * hinge, 0.0)
        return similar + dissimilar

    def get_config(self):
        config = super().get_config()
        config.update({"margin": self.margin, "dtype": self._dtype_argument})
        return config
