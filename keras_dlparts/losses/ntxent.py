"""NT-Xent, SimCLR's contrastive loss (Chen et al., 2020), on two views."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.losses.supervised_contrastive import flatten_views
from keras_dlparts.losses.supervised_contrastive import supervised_contrastive


@keras.saving.register_keras_serializable(package="keras_dlparts")
class NTXentLoss(keras.losses.Loss):
    """Normalised temperature-scaled cross-entropy of SimCLR (Chen et al.,
    2020).

    `y_pred` holds two augmented views of each of `N` examples. Each of
    the `2N` views is an anchor whose positive is the other view of its
    example, among the `2N - 1` other views; with `sim` the cosine
    similarity:

    ```
    loss_i = -log(exp(sim(z_i, z_j(i)) / temperature)
                  / sum_{k != i} exp(sim(z_i, z_k) / temperature))
    ```

    and the loss is the mean over the `2N` anchors. This is
    `SupervisedContrastiveLoss` with every example its own class (tested).
    The `(batch, 2, features)` layout keeps the two views of an example in
    one row, so a data-parallel split gives each device whole pairs (a
    concatenated `(2N, features)` batch would split view 1 from view 2);
    each device contrasts its pairs with its own share of the batch.

    The loss is one value for the whole batch (the batch is the contrast
    set), so `sample_weight` is not meaningful.

    Args:
        temperature: positive finite float. Defaults to `0.5`.
        reduction: the `keras.losses.Loss` reduction (of the batch's single
            value).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: ignored (the positives are the two views). Keras needs
            targets in `fit`: pass any array with one row per example, e.g.
            `np.zeros(batch)`.
        y_pred: embeddings of the two views, `(batch, 2, features)`.

    Returns:
        The loss, a scalar.

    Raises:
        ValueError: when `y_pred` is not `(batch, 2, features)` or `y_true`
            does not have one row per example (static shapes).

    Examples:

        >>> import numpy as np
        >>> loss = NTXentLoss(temperature=1.0)
        >>> views = np.array([[[1.0, 0.0], [1.0, 0.0]],
        ...                   [[0.0, 1.0], [0.0, 1.0]]])
        >>> # each view: its pair has cosine 1, the two others 0:
        >>> # -log(e / (e + 2))
        >>> round(float(loss(np.zeros(2), views)), 4)
        0.5514
    """

    def __init__(
        self,
        temperature=0.5,
        reduction="sum_over_batch_size",
        name="ntxent_loss",
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
            "y_pred", embeddings, ("batch", "views", "features")
        )
        _validation.axis_size(
            "y_pred", embeddings, 1, expected=2, why=" (two views)"
        )
        _validation.min_rank("y_true", y_true, 1)
        _validation.same_batch_size(("y_true", y_true), ("y_pred", embeddings))
        if _validation.batch_size(embeddings) == 0:
            return ops.zeros((), embeddings.dtype)
        examples = ops.repeat(ops.arange(ops.shape(embeddings)[0]), 2)
        return supervised_contrastive(
            examples, flatten_views(embeddings), self.temperature
        )

    def get_config(self):
        config = super().get_config()
        config.update(
            {"temperature": self.temperature, "dtype": self._dtype_argument}
        )
        return config
