"""Supervised contrastive loss (Khosla et al., 2020) on labels and views."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.losses import _in_batch


def supervised_contrastive(labels, embeddings, temperature):
    """`L^sup_out` over the rows of `embeddings`, each row an anchor.

    Args:
        labels: `(n,)` labels of the rows.
        embeddings: `(n, features)` tensor (not yet normalised).
        temperature: positive float.

    Returns:
        The mean over the anchors that have a positive (0 if none has).
    """
    logits = _in_batch.cosine_matrix(embeddings) / temperature
    others = _in_batch.not_self(ops.shape(labels)[0])
    positive = ops.logical_and(
        ops.equal(labels[:, None], labels[None, :]), others
    )
    per_anchor = _in_batch.soft_cross_entropy(logits, positive, others)
    return _in_batch.masked_mean(per_anchor, ops.any(positive, axis=1))


def flatten_views(embeddings):
    """`(batch, views, features)` -> `(batch * views, features)`, views kept
    next to each other; `(batch, features)` is returned as is."""
    if len(embeddings.shape) == 3:
        return ops.reshape(embeddings, (-1, ops.shape(embeddings)[-1]))
    return embeddings


@keras.saving.register_keras_serializable(package="keras_dlparts")
class SupervisedContrastiveLoss(keras.losses.Loss):
    """Supervised contrastive loss, `L^sup_out` of Khosla et al. (2020).

    Every embedding (every view of every example) is an anchor `i`. With
    `z` the L2-normalised embeddings, `P(i)` the other embeddings with the
    label of `i` and `A(i)` all the other embeddings:

    ```
    loss_i = -1/|P(i)| sum_{p in P(i)} log(
        exp(z_i . z_p / temperature)
        / sum_{a in A(i)} exp(z_i . z_a / temperature))
    ```

    and the loss is the mean over the anchors with at least one positive
    (anchors alone in their class are left out; 0 when none has one). The
    log-softmax is computed stably in float32, also for float16 inputs.
    The authors' code also multiplies by `temperature / base_temperature`
    (1 with their defaults); pass a different `temperature` instead.
    `NTXentLoss` is this loss with every example its own class.

    The loss is one value for the whole batch (the other embeddings of the
    batch are the contrast set), so `sample_weight` is not meaningful.

    Args:
        temperature: positive finite float. Defaults to `0.1`.
        reduction: the `keras.losses.Loss` reduction (of the batch's single
            value).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: class labels of the examples, `(batch,)` or `(batch, 1)`.
        y_pred: embeddings, `(batch, features)`, or `(batch, views,
            features)` for several augmented views of each example (all
            views of an example share its label).

    Returns:
        The loss, a scalar.

    Raises:
        ValueError: when `y_pred` is not `(batch, features)` or `(batch,
            views, features)`, `y_true` not `(batch,)` or `(batch, 1)`, or
            their batch sizes differ.

    Examples:

        >>> import numpy as np
        >>> loss = SupervisedContrastiveLoss(temperature=1.0)
        >>> labels = np.array([0, 1])
        >>> views = np.array([[[1.0, 0.0], [1.0, 0.0]],
        ...                   [[0.0, 1.0], [0.0, 1.0]]])
        >>> # each view: positive cosine 1, negatives 0 and 0:
        >>> # -log(e / (e + 2))
        >>> round(float(loss(labels, views)), 4)
        0.5514
    """

    def __init__(
        self,
        temperature=0.1,
        reduction="sum_over_batch_size",
        name="supervised_contrastive_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.temperature = _validation.positive_number(
            "temperature", temperature
        )
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        embeddings = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        _validation.check_layout(
            "y_pred",
            embeddings,
            ("batch", "features"),
            ("batch", "views", "features"),
        )
        labels = _in_batch.labels_vector(y_true)
        _validation.same_batch_size(("y_true", labels), ("y_pred", embeddings))
        if len(embeddings.shape) == 3:
            views = _validation.axis_size("y_pred", embeddings, 1)
            labels = ops.repeat(labels, views, axis=0)
        if _validation.batch_size(embeddings) == 0:
            return ops.zeros((), embeddings.dtype)
        return supervised_contrastive(
            labels, flatten_views(embeddings), self.temperature
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {"temperature": self.temperature, "dtype": self._dtype_argument}
        )
        return config
