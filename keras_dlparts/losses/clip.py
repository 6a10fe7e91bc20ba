"""CLIP's symmetric cross-entropy over an image-text similarity matrix."""

import keras
from keras import ops

from keras_dlparts import _validation


@keras.saving.register_keras_serializable(package="keras_dlparts")
class CLIPLoss(keras.losses.Loss):
    """Symmetric contrastive loss of CLIP (Radford et al., 2021).

    In a batch of `n` matching (image, text) pairs, image `i` must pick out
    text `i` among the `n` texts and text `i` must pick out image `i`. With
    `s` the `(n, n)` similarity matrix (rows images, columns texts, matching
    pairs on the diagonal) and `logits = s / temperature`:

    ```
    loss_i = (CE(row i of logits, i) + CE(column i of logits, i)) / 2
    CE(l, i) = logsumexp(l) - l_i
    ```

    and the reduction (the mean by default) averages over the pairs.

    Temperature, given or learned: a Keras loss cannot own a trained
    variable (the optimizer only sees the model's weights), so a *learned*
    temperature lives in the model that computes `y_pred`. Then pass
    `temperature=None`: `y_pred` are the logits, already scaled by the
    model's learned `1 / temperature` (CLIP learns `log(1 / temperature)`,
    clipped at 100), and the temperature is trained, saved and restored
    with the model. With a fixed `temperature` (e.g. `0.07`), `y_pred` are
    the similarities (typically cosines of L2-normalised embeddings) and the
    loss divides them by it.

    Args:
        temperature: `None` (default: `y_pred` are logits) or a positive
            finite float dividing the similarities.
        reduction: the `keras.losses.Loss` reduction of the per-pair values
            (default `"sum_over_batch_size"`, the mean).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: ignored: the matching pairs are on the diagonal. Keras
            needs targets in `fit`, so pass any array with one row per pair,
            e.g. `np.zeros(n)`.
        y_pred: the `(n, n)` similarity or logit matrix.

    Raises:
        ValueError: when `y_pred` is not square or `y_true` does not have
            one row per pair (static shapes).

    Returns:
        The reduced loss (a scalar by default).

    Examples:

        >>> import numpy as np
        >>> loss = CLIPLoss(temperature=0.5)
        >>> similarities = np.array([[1.0, 0.0], [0.0, 1.0]])
        >>> round(float(loss(np.zeros(2), similarities)), 4)  # log(1 + e**-2)
        0.1269
    """

    def __init__(
        self,
        temperature=None,
        reduction="sum_over_batch_size",
        name="clip_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if temperature is not None:
            temperature = _validation.positive_number(
                "temperature", temperature
            )
        self.temperature = temperature
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        logits = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        shape = tuple(logits.shape)
        _validation.check_layout("y_pred", shape, ("batch", "batch"))
        if None not in shape and shape[0] != shape[1]:
            raise ValueError(
                "Argument `y_pred` must be the square (batch, batch) "
                "similarity matrix of the pairs. "
                f"Received: y_pred.shape={shape}"
            )
        _validation.min_rank("y_true", y_true, 1)
        _validation.same_batch_size(("y_true", y_true), ("y_pred", logits))
        if self.temperature is not None:
            logits = logits / self.temperature
        matching = ops.diagonal(logits)
        image_to_text = ops.logsumexp(logits, axis=1) - matching
        text_to_image = ops.logsumexp(logits, axis=0) - matching
        return 0.5 * (image_to_text + text_to_image)

    def get_config(self):
        config = super().get_config()
        config.update(
            {"temperature": self.temperature, "dtype": self._dtype_argument}
        )
        return config
