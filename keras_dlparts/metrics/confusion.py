"""Class labels and a weighted confusion matrix from a batch (keras.ops).

`ConfusionMatrixMetric`, the base of `CohenKappa` and
`MatthewsCorrelationCoefficient`, accumulates them. Labels come as
integer labels `(batch,)` or `(batch, 1)` (`sparse_labels=True`) or one-hot
rows `(batch, num_classes)`; predictions as scores `(batch, num_classes)`
(their argmax is taken) or as values `(batch,)` / `(batch, 1)`, which are
rounded and clipped into `[0, num_classes - 1]` (labels, regression outputs
and, for two classes, probabilities thresholded at 0.5).
"""

import keras
from keras import ops

from keras_dlparts import _validation


def _layout(name, value, num_classes, sparse):
    """Raises ValueError unless `value` has the layout its kind expects."""
    shape = _validation.static_shape(value)
    if sparse:
        _validation.batch_vector(name, value)
        return
    if shape is not None and (
        len(shape) != 2 or shape[1] not in (num_classes, None)
    ):
        raise ValueError(
            f"Argument `{name}` must have shape (batch, {num_classes}), one "
            f"row per example (pass `sparse_labels=True` for integer "
            f"labels). Received: {name}.shape={shape}"
        )


def class_indices(y_true, y_pred, num_classes, sparse_labels):
    """`(true, pred)` int32 class indices `(batch,)` of a batch.

    Raises ValueError naming the argument when a layout is wrong or the
    batch sizes differ; known (eager) labels outside `[0, num_classes)`
    are refused too.
    """
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    _layout("y_true", y_true, num_classes, sparse_labels)
    pred_shape = _validation.static_shape(y_pred)
    scores = (
        pred_shape is not None
        and len(pred_shape) == 2
        and pred_shape[1] not in (1, None)
    )
    _layout("y_pred", y_pred, num_classes, sparse=not scores)
    _validation.same_batch_size(("y_true", y_true), ("y_pred", y_pred))
    if sparse_labels:
        _validation.values_in(
            "y_true",
            y_true,
            range(num_classes),
            f"class labels in [0, {num_classes})",
        )
        true = ops.reshape(y_true, (-1,))
    else:
        true = ops.argmax(y_true, axis=-1)
    if scores:
        pred = ops.argmax(y_pred, axis=-1)
    else:
        pred = ops.round(ops.cast(ops.reshape(y_pred, (-1,)), "float32"))
        pred = ops.clip(pred, 0.0, num_classes - 1.0)
    return ops.cast(true, "int32"), ops.cast(pred, "int32")


def confusion_matrix(true, pred, num_classes, sample_weight=None):
    """The `(num_classes, num_classes)` float32 confusion matrix of a batch.

    Rows are true classes, columns predicted ones; each example adds its
    `sample_weight` (`(batch,)` or `(batch, 1)`, default 1). A label
    outside `[0, num_classes)` adds nothing.
    """
    true_hot = ops.one_hot(true, num_classes, dtype="float32")
    pred_hot = ops.one_hot(pred, num_classes, dtype="float32")
    if sample_weight is not None:
        sample_weight = ops.convert_to_tensor(sample_weight)
        _validation.batch_vector("sample_weight", sample_weight)
        _validation.same_batch_size(
            ("y_true", true), ("sample_weight", sample_weight)
        )
        weight = ops.cast(ops.reshape(sample_weight, (-1, 1)), "float32")
        true_hot = true_hot * weight
    return ops.matmul(ops.transpose(true_hot), pred_hot)


class ConfusionMatrixMetric(keras.metrics.Metric):
    """Base of the metrics computed from the accumulated confusion matrix.

    `update_state(y_true, y_pred, sample_weight=None)` adds the batch's
    weighted confusion matrix to the `confusion` variable (see
    `class_indices` and `confusion_matrix`); subclasses compute `result()`
    from `_confusion_shares()`.
    """

    def __init__(self, num_classes, sparse_labels, name, dtype):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = _validation.positive_int(
            "num_classes", num_classes, minimum=2
        )
        self.sparse_labels = _validation.boolean("sparse_labels", sparse_labels)
        self.confusion = self.add_variable(
            (self.num_classes, self.num_classes),
            "zeros",
            "float32",
            name="confusion",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        true, pred = class_indices(
            y_true, y_pred, self.num_classes, self.sparse_labels
        )
        self.confusion.assign_add(
            confusion_matrix(true, pred, self.num_classes, sample_weight)
        )

    def _confusion_shares(self):
        """`(total, shares)`: the confusion matrix's sum, and the matrix
        divided by it (zeros while it is empty)."""
        confusion = ops.convert_to_tensor(self.confusion)
        total = ops.sum(confusion)
        return total, confusion / ops.maximum(total, 1e-30)

    def reset_state(self):
        self.confusion.assign(ops.zeros(self.confusion.shape, "float32"))

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "sparse_labels": self.sparse_labels,
        }
