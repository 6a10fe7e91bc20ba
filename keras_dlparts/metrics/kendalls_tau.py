"""Kendall's tau-b over a capped buffer of examples as a stateful metric."""

import keras
from keras import ops

from keras_dlparts import _validation

_BLOCK = 256  # rows of a pair matrix compared at a time


def _replicas():
    """`(index, count)` of the `tf.distribute` replica running this code.

    Each replica of a TensorFlow strategy keeps its own copy of a metric's
    variables and their sum is read back, so replicas fill disjoint parts
    of the buffer; `count` is that of the strategy in a cross-replica
    context. JAX's trainer updates metrics with the whole batch: `(0, 1)`.
    """
    if keras.backend.backend() != "tensorflow":
        return 0, 1
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None:  # cross-replica: the strategy's replicas
        return 0, tf.distribute.get_strategy().num_replicas_in_sync
    if context.num_replicas_in_sync == 1:
        return 0, 1
    return context.replica_id_in_sync_group, context.num_replicas_in_sync


def _pair_sums(rows, columns):
    """Sums over ordered pairs (row i, column j) of `w_i w_j` times
    `sign(dx) sign(dy)`, `|sign(dx)|` and `|sign(dy)|`.

    `rows` and `columns` are `(x, y, w)` float32 vectors. Rows are compared
    `_BLOCK` at a time, up to the last row of non-zero weight (padded to
    whole blocks, at least one).
    """
    x, y, w = rows
    count = ops.shape(x)[0]
    pad = ops.zeros((_BLOCK - count % _BLOCK,), "float32")  # >= 1 block
    x, y, w = (ops.concatenate([v, pad]) for v in (x, y, w))
    cx, cy, cw = (v[None, :] for v in columns)

    def block(i, sums):
        start = (i * _BLOCK,)
        xi, yi, wi = (
            ops.slice(v, start, (_BLOCK,))[:, None] for v in (x, y, w)
        )
        dx, dy = ops.sign(xi - cx), ops.sign(yi - cy)
        pair = wi * cw
        return (
            sums[0] + ops.sum(pair * dx * dy),
            sums[1] + ops.sum(pair * ops.abs(dx)),
            sums[2] + ops.sum(pair * ops.abs(dy)),
        )

    used = ops.max(
        ops.where(w != 0, ops.arange(1, ops.shape(w)[0] + 1), 0), initial=0
    )
    zero = ops.zeros((), "float32")
    return ops.fori_loop(
        0, (used + _BLOCK - 1) // _BLOCK, block, (zero, zero, zero)
    )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class KendallsTau(keras.metrics.Metric):
    """Kendall's tau-b (Kendall, 1945) between targets and predictions.

    A capped buffer: the metric keeps the first `max_samples` examples
    `(y_true, y_pred, sample_weight)` it sees in fixed-size variables, and
    compares each newly stored example with those stored before it,
    adding up over the pairs:

    ```
    S = sum_{i<j} w_i w_j sign(x_i - x_j) sign(y_i - y_j)
    A = sum_{i<j} w_i w_j [x_i != x_j],   B = sum_{i<j} w_i w_j [y_i != y_j]
    tau_b = S / sqrt(A B)
    ```

    This is `scipy.stats.kendalltau` (its default tau-b) of all examples
    while at most `max_samples` have been seen, with each example repeated
    `sample_weight` times for whole-number weights. Examples beyond the cap
    are counted in `seen` but left out: `result()` is then tau-b of the
    first `max_samples` (shuffle the data, or raise the cap, to cover it
    all). Where tau-b is undefined (fewer than two distinct values of
    either) the result is 0 (SciPy: NaN).

    Memory is `O(max_samples)`; an update takes `O(batch max_samples)` time
    and `result()` `O(1)`. Under a `tf.distribute` strategy of `R`
    replicas, each replica keeps its first `max_samples // R` examples and
    `result()` compares all stored pairs (`O(max_samples^2)`). Values are
    compared in float32. Unlike TensorFlow Addons' `KendallsTauB`, which
    bins values into histograms between given bounds, nothing is binned.

    Args:
        max_samples: int >= 2, the capacity of the buffer.
        name, dtype: base `Metric` arguments.

    Call arguments (`update_state`):
        y_true: targets `(batch,)` or `(batch, 1)`.
        y_pred: predictions `(batch,)` or `(batch, 1)`.
        sample_weight: optional non-negative `(batch,)` or `(batch, 1)`
            weights of the examples (0 leaves an example out).

    A wrong layout or batch size raises a `ValueError` naming the argument.

    Examples:

        >>> import numpy as np
        >>> tau = KendallsTau()
        >>> tau.update_state(np.array([12, 2, 1, 12, 2]),
        ...                  np.array([1, 4, 7, 1, 0]))
        >>> round(float(tau.result()), 4)
        -0.4714
    """

    def __init__(self, max_samples=4096, name="kendalls_tau", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.max_samples = _validation.positive_int(
            "max_samples", max_samples, minimum=2
        )
        shape = (self.max_samples,)
        self.true_values = self.add_variable(
            shape, "zeros", "float32", name="true_values"
        )
        self.pred_values = self.add_variable(
            shape, "zeros", "float32", name="pred_values"
        )
        self.weights_buffer = self.add_variable(
            shape, "zeros", "float32", name="weights_buffer"
        )
        self.seen = self.add_variable((), "zeros", "float32", name="seen")
        # S, A and B over the ordered pairs of stored examples.
        self.pair_sums = self.add_variable(
            (3,), "zeros", "float32", name="pair_sums"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.convert_to_tensor(y_true)
        y_pred = ops.convert_to_tensor(y_pred)
        named = [("y_true", y_true), ("y_pred", y_pred)]
        if sample_weight is not None:
            sample_weight = ops.convert_to_tensor(sample_weight)
            named.append(("sample_weight", sample_weight))
        for name, value in named:
            _validation.batch_vector(name, value)
        _validation.same_batch_size(*named)
        true = ops.cast(ops.reshape(y_true, (-1,)), "float32")
        pred = ops.cast(ops.reshape(y_pred, (-1,)), "float32")
        weight = (
            ops.ones_like(true)
            if sample_weight is None
            else ops.cast(ops.reshape(sample_weight, (-1,)), "float32")
        )
        replica, replicas = _replicas()
        share = self.max_samples // replicas
        stored = ops.cast(ops.minimum(self.seen, float(share)), "int32")
        batch = ops.shape(true)[0]
        # The examples of this batch that fit into this replica's part.
        weight = ops.where(ops.arange(batch) < share - stored, weight, 0.0)
        # Slot k of the part takes example k - stored, when there is one.
        source = ops.arange(share, dtype="int32") - stored
        takes = (source >= 0) & (source < batch)
        index = ops.clip(source, 0, batch)  # `batch`: the padding below
        start = ops.cast(replica, "int32") * share
        buffers = []
        for variable, values in (
            (self.true_values, true),
            (self.pred_values, pred),
            (self.weights_buffer, weight),
        ):
            padded = ops.concatenate([values, ops.zeros((1,), "float32")])
            current = ops.convert_to_tensor(variable)
            old = ops.slice(current, (start,), (share,))
            new = ops.where(takes, ops.take(padded, index), old)
            buffers.append(ops.slice_update(current, (start,), new))
            variable.assign(buffers[-1])
        # Ordered pairs: (new, old) and (old, new) are twice (new, all)
        # less (new, new) once.
        batch_values = (true, pred, weight)
        with_all = ops.stack(_pair_sums(batch_values, buffers))
        within = ops.stack(_pair_sums(batch_values, batch_values))
        self.pair_sums.assign_add(2.0 * with_all - within)
        self.seen.assign_add(ops.cast(batch, "float32"))

    def result(self):
        if _replicas()[1] > 1:
            # Replicas' sums miss the pairs across replicas: all pairs.
            buffers = [
                ops.convert_to_tensor(v)
                for v in (
                    self.true_values,
                    self.pred_values,
                    self.weights_buffer,
                )
            ]
            s, a, b = _pair_sums(buffers, buffers)
        else:
            s, a, b = ops.unstack(ops.convert_to_tensor(self.pair_sums))
        defined = (a > 0) & (b > 0)
        tau = s / ops.sqrt(ops.where(defined, a * b, 1.0))
        tau = ops.where(defined, ops.clip(tau, -1.0, 1.0), 0.0)
        return ops.cast(tau, self.dtype)

    def reset_state(self):
        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, variable.dtype))

    def get_config(self):
        return {**super().get_config(), "max_samples": self.max_samples}
