"""Magnitude pruning with the polynomial sparsity schedule of Zhu and Gupta.

Works on every backend. The masks are computed with `keras.ops` and applied
with `Variable.assign`, so the pruned model is a plain Keras model (no
wrapper layers) that saves and loads like any other; the optional sparsity
summaries go to TensorBoard through `tf.summary` (TensorFlow is imported
only with a `log_dir`).
"""

import keras
from keras import ops

from keras_dlparts._validation import fraction
from keras_dlparts._validation import names
from keras_dlparts._validation import ordered
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import rate
from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback


def polynomial_sparsity(
    step, target_sparsity, begin_step, end_step, initial_sparsity=0.0
):
    """The sparsity of Zhu and Gupta (2017) at `step`.

    ```
    s_t = s_f + (s_i - s_f) * (1 - (t - t_0) / (t_1 - t_0)) ** 3
    ```

    for `t_0 <= t <= t_1`; 0 before `begin_step` `t_0` and the target `s_f`
    after `end_step` `t_1`.
    """
    if step < begin_step:
        return 0.0
    if step >= end_step:
        return float(target_sparsity)
    progress = (step - begin_step) / (end_step - begin_step)
    return float(
        target_sparsity
        + (initial_sparsity - target_sparsity) * (1 - progress) ** 3
    )


def magnitude_mask(weights, sparsity):
    """Mask keeping all but the `round(sparsity * size)` smallest |weights|.

    Ties are broken by position (the earlier weight is pruned first), as a
    stable sort of `|weights|` would. Returns a boolean tensor shaped like
    `weights`, `False` where a weight is pruned.

    Examples:

        >>> import keras
        >>> mask = magnitude_mask([[0.5, -3.0], [0.1, 2.0]], 0.5)
        >>> keras.ops.convert_to_numpy(mask).tolist()
        [[False, True], [False, True]]
    """
    weights = ops.convert_to_tensor(weights)
    flat = ops.reshape(ops.abs(weights), (-1,))
    size = int(flat.shape[0])
    k = int(round(sparsity * size))
    mask = ops.ones((size,), dtype="bool")
    if k:
        # `top_k` puts the lower index first among equal values.
        _, smallest = ops.top_k(ops.negative(flat), k=k)
        mask = ops.scatter_update(
            mask, ops.expand_dims(smallest, 1), ops.zeros((k,), dtype="bool")
        )
    return ops.reshape(mask, ops.shape(weights))


def inner_layers(layer):
    """Every layer inside `layer` (not `layer` itself), each once.

    A model gives its `layers`; any other layer the layers it holds in its
    attributes, alone or in lists, tuples and dicts (the sublayers Keras
    tracks, such as the projections of `MultiHeadAttention`). Nested
    models and layers are walked in turn, parents before their children.

    Examples:

        >>> inner = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        >>> outer = keras.Sequential([inner, keras.layers.Dense(1)])
        >>> [type(l).__name__ for l in inner_layers(outer)]
        ['Sequential', 'Dense', 'Dense']
    """
    found, seen = [], {id(layer)}

    def children(parent):
        if isinstance(parent, keras.Model):
            return list(parent.layers)
        held, pending = [], list(vars(parent).values())
        while pending:
            value = pending.pop(0)
            if isinstance(value, keras.layers.Layer):
                held.append(value)
            elif isinstance(value, (list, tuple)):
                pending[:0] = list(value)
            elif isinstance(value, dict):
                pending[:0] = list(value.values())
        return held

    def visit(parent):
        for child in children(parent):
            if id(child) not in seen:
                seen.add(id(child))
                found.append(child)
                visit(child)

    visit(layer)
    return found


class MagnitudePruning(SummaryWriterCallback):
    """Prunes the smallest-magnitude kernel weights to a target sparsity.

    Gradual pruning of Zhu and Gupta, "To prune, or not to prune" (2017):
    at the training step `t` (the optimizer's `iterations`) equal to
    `begin_step + k * frequency` (and at `end_step`), each kernel is
    pruned layer by layer to the sparsity (`t_0 = begin_step`,
    `t_1 = end_step`)

    ```
    s_t = s_f + (s_i - s_f) * (1 - (t - t_0) / (t_1 - t_0)) ** 3
    ```

    by zeroing its `round(s_t * size)` smallest weights in absolute value
    (weights pruned earlier stay pruned). After every training batch the
    masks are applied again, so the optimizer cannot regrow a pruned weight;
    after `end_step` the masks stay fixed at `target_sparsity`. At the
    start of every `fit` the masks are initialised from the weights that
    are exactly zero, so a saved and reloaded pruned model, trained further
    with a new `MagnitudePruning`, keeps its zeros. Kernels are the
    trainable `kernel` weights of `Dense`, `Conv*`, `EinsumDense` and
    similar layers, found in nested models and inside other layers too
    (see `inner_layers`); biases and normalisation weights are not pruned.

    Summaries: `pruning/target_sparsity` at every mask update and
    `pruning/sparsity/<layer>` (the measured fraction of zeros) at every
    mask update and every epoch end.
    Use `steps_per_execution=1` (the default) so that the callback sees
    every step. On JAX the weights live in the trainer's state during
    `fit`; the callback reads them through `self.model`, which attaches that
    state to the variables (`model.jax_state_sync()`), so the masked values
    it assigns are the ones the next step starts from.

    Args:
        target_sparsity: float in [0, 1), the final fraction of zeros `s_f`.
        begin_step: int >= 0, the first pruning step `t_0`.
        end_step: int > begin_step, the step `t_1` at which `s_f` is reached.
        frequency: positive int, steps between mask updates.
        initial_sparsity: float in [0, target_sparsity], `s_i`.
        layer_names: `None` (every layer with a `kernel`) or a list of the
            names of the layers to prune; a name without a trainable kernel
            in the model is refused when training starts.
        log_dir: `None` or a TensorBoard run directory.

    Examples:

        >>> import numpy as np, keras
        >>> model = keras.Sequential(
        ...     [keras.Input((8,)), keras.layers.Dense(10)]
        ... )
        >>> model.compile("adam", "mse")
        >>> pruning = MagnitudePruning(
        ...     0.8, begin_step=0, end_step=4, frequency=2
        ... )
        >>> x, y = np.ones((16, 8), "float32"), np.ones((16, 10), "float32")
        >>> _ = model.fit(x, y, batch_size=2, verbose=0, callbacks=[pruning])
        >>> float(np.mean(model.layers[0].kernel.numpy() == 0))
        0.8
    """

    def __init__(
        self,
        target_sparsity,
        begin_step=0,
        end_step=1000,
        frequency=100,
        initial_sparsity=0.0,
        layer_names=None,
        log_dir=None,
    ):
        super().__init__(log_dir, optional=True)
        self.target_sparsity = rate("target_sparsity", target_sparsity)
        self.begin_step = positive_int("begin_step", begin_step, minimum=0)
        self.end_step = positive_int("end_step", end_step)
        ordered(
            "begin_step",
            self.begin_step,
            "end_step",
            self.end_step,
            strict=True,
        )
        self.frequency = positive_int("frequency", frequency)
        self.initial_sparsity = fraction("initial_sparsity", initial_sparsity)
        ordered(
            "initial_sparsity",
            self.initial_sparsity,
            "target_sparsity",
            self.target_sparsity,
        )
        self.layer_names = names("layer_names", layer_names, allow_none=True)
        self.masks = {}

    def sparsity_at(self, step):
        """The scheduled sparsity at `step` (see `polynomial_sparsity`)."""
        return polynomial_sparsity(
            step,
            self.target_sparsity,
            self.begin_step,
            self.end_step,
            self.initial_sparsity,
        )

    def _kernels(self):
        kernels = {}
        for layer in inner_layers(self.model):
            kernel = getattr(layer, "kernel", None)
            if kernel is not None and getattr(kernel, "trainable", False):
                kernels[layer.name] = kernel
        unknown = sorted(set(self.layer_names or ()) - set(kernels))
        if unknown:
            raise ValueError(
                "Argument `layer_names` names layers without a trainable "
                f"kernel in model {self.model.name!r}: {unknown}. Layers "
                f"with one: {sorted(kernels)}"
            )
        if self.layer_names is not None:
            kernels = {
                n: k for n, k in kernels.items() if n in self.layer_names
            }
        if not kernels:
            raise ValueError(
                f"No layer to prune in model {self.model.name!r} "
                f"(layer_names={self.layer_names!r})."
            )
        return kernels

    def _apply_masks(self):
        for name, kernel in self.kernels.items():
            kernel.assign(
                ops.where(
                    self.masks[name],
                    ops.convert_to_tensor(kernel),
                    ops.zeros((), kernel.dtype),
                )
            )

    def _log(self, step, target=None):
        if self.log_dir is None:
            return
        with self.writer.as_default(step=step):
            if target is not None:
                self.summary.scalar("pruning/target_sparsity", target)
            for name, kernel in self.kernels.items():
                self.summary.scalar(
                    f"pruning/sparsity/{name}", _sparsity(kernel)
                )

    def _step(self):
        # On JAX, reading `self.model` inside `fit` attaches the trainer's
        # current state to the variables (`model.jax_state_sync()`), so the
        # kernels read and assigned here are the live ones, and the trainer
        # takes the assigned values into its state for the next step.
        return int(ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_begin(self, logs=None):
        self.kernels = self._kernels()
        self.masks = {
            n: ops.not_equal(ops.convert_to_tensor(k), 0)
            for n, k in self.kernels.items()
        }
        self._at_target = False

    def on_train_batch_begin(self, batch, logs=None):
        step = self._step()
        scheduled = (
            self.begin_step <= step <= self.end_step
            and (step - self.begin_step) % self.frequency == 0
        )
        if scheduled or (step >= self.end_step and not self._at_target):
            sparsity = self.sparsity_at(step)
            for name, kernel in self.kernels.items():
                mask = self.masks[name]
                kept = ops.where(
                    mask,
                    ops.convert_to_tensor(kernel),
                    ops.zeros((), kernel.dtype),
                )
                self.masks[name] = ops.logical_and(
                    mask, magnitude_mask(kept, sparsity)
                )
            self._apply_masks()
            self._at_target = step >= self.end_step
            self._log(step, sparsity)

    def on_train_batch_end(self, batch, logs=None):
        _ = self.model  # on JAX: the trainer's current state, first
        self._apply_masks()

    def on_epoch_end(self, epoch, logs=None):
        self._log(self._step())


def _sparsity(kernel):
    """The fraction of exact zeros in `kernel`, a Python float."""
    zeros = ops.cast(ops.equal(ops.convert_to_tensor(kernel), 0), "float32")
    return float(ops.convert_to_numpy(ops.mean(zeros)))
