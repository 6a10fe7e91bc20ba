"""SWA: stochastic weight averaging, and the batch-norm statistics refresh."""

import keras
import numpy as np
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.callbacks.pruning import inner_layers
from keras_dlparts.optimizers import _wrapping


def _check_inner_optimizer(inner_optimizer):
    _validation.keras_object(
        "inner_optimizer", inner_optimizer, keras.optimizers.Optimizer
    )
    if isinstance(inner_optimizer, keras.optimizers.LossScaleOptimizer):
        raise TypeError(
            "Argument `inner_optimizer` must be a plain optimizer, not a "
            "LossScaleOptimizer (for mixed precision, wrap SWA in the "
            "LossScaleOptimizer instead, as `compile` does). Received: "
            f"inner_optimizer={inner_optimizer!r}"
        )
    steps = inner_optimizer.gradient_accumulation_steps
    if steps is not None:
        raise ValueError(
            "Argument `inner_optimizer` must have "
            "`gradient_accumulation_steps`=None: SWA counts applied steps. "
            f"Received: inner_optimizer.gradient_accumulation_steps={steps!r}"
        )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class SWA(_wrapping.InnerOptimizerWrapper):
    """Wraps an optimizer with stochastic weight averaging (Izmailov et al.).

    The inner optimizer trains the model as usual; SWA keeps the running
    average of the weights taken every `average_period` steps from step
    `start_averaging` on (steps counted from 0, the snapshot taken after
    the step's update, as in TensorFlow Addons):

    ```
    variable = inner_update(variable, g)            # every step t
    if t >= start_averaging and (t - start_averaging) % average_period == 0:
        n = (t - start_averaging) // average_period  # snapshots so far
        average = (average * n + variable) / (n + 1)
    ```

    Training goes on with the inner optimizer's weights; at the end,
    `assign_average_vars(model.trainable_variables)` puts the averages in
    the model. A model with batch normalization then needs its moving
    statistics recomputed for the averaged weights: call
    `update_batch_norm_statistics(model, x)` (the paper's extra pass over
    the data). The inner optimizer's learning rate (or schedule; a cyclic
    one is the paper's choice), clipping, weight decay and EMA apply; its
    `gradient_accumulation_steps` is not supported. Setting
    `learning_rate` sets the inner optimizer's.

    Args:
        inner_optimizer: a `keras.optimizers.Optimizer` instance (or its
            serialized form) that trains the weights.
        start_averaging: integer >= 0, the step of the first snapshot.
            Defaults to `0`.
        average_period: positive integer, the steps between snapshots.
            Defaults to `10`.
        name: String, the name of the optimizer.

    References:
        - [Izmailov et al., 2018, Averaging Weights Leads to Wider Optima
          and Better Generalization](https://arxiv.org/abs/1803.05407)

    Examples:

        >>> import keras
        >>> opt = SWA(keras.optimizers.SGD(1.0), average_period=2)
        >>> w = keras.Variable([0.0])
        >>> for _ in range(3):  # w: -1, -2, -3; snapshots at steps 0 and 2
        ...     opt.apply([keras.ops.convert_to_tensor([1.0])], [w])
        >>> opt.assign_average_vars([w])
        >>> float(w.numpy()[0])
        -2.0
    """

    def __init__(
        self,
        inner_optimizer,
        start_averaging=0,
        average_period=10,
        name="swa",
        **kwargs,
    ):
        if isinstance(inner_optimizer, dict):
            inner_optimizer = keras.optimizers.deserialize(inner_optimizer)
        _check_inner_optimizer(inner_optimizer)
        _wrapping.refuse_optimizer_arguments("SWA", "`inner_optimizer`", kwargs)
        start_averaging = _validation.positive_int(
            "start_averaging", start_averaging, minimum=0
        )
        average_period = _validation.positive_int(
            "average_period", average_period
        )
        super().__init__(inner_optimizer, name=name)
        self.start_averaging = start_averaging
        self.average_period = average_period

    def build(self, var_list):
        """Builds the inner optimizer and one average per variable."""
        if self.built:
            return
        super().build(var_list)
        self._averages = self.add_optimizer_variables(var_list, "average")

    def apply(self, grads, trainable_variables=None):
        """The inner optimizer's step, then the averages' update."""
        pairs = self._gradient_pairs(grads, trainable_variables)
        if pairs:
            grads, variables = (list(x) for x in zip(*pairs))
            self.inner_optimizer.apply(grads, variables)
            # Runs `update_step` on each variable, through tf.distribute's
            # cross-replica update on TensorFlow.
            self._backend_update_step(grads, variables, self.learning_rate)
        self.iterations.assign_add(1)

    def update_step(self, gradient, variable, learning_rate):
        """Folds the freshly updated `variable` into its average on schedule."""
        average = self._averages[self._get_variable_index(variable)]
        since_start = ops.convert_to_tensor(self.iterations) - (
            self.start_averaging
        )
        snapshot = ops.logical_and(
            ops.greater_equal(since_start, 0),
            ops.equal(since_start % self.average_period, 0),
        )
        count = ops.cast(
            ops.maximum(since_start, 0) // self.average_period, variable.dtype
        )
        current = ops.convert_to_tensor(average)
        folded = (current * count + ops.convert_to_tensor(variable)) / (
            count + 1.0
        )
        self.assign(average, ops.where(snapshot, folded, current))

    def assign_average_vars(self, var_list):
        """Sets the variables of `var_list` to their SWA averages.

        Raises:
            ValueError: before the first snapshot (no average yet).
        """
        if int(ops.convert_to_numpy(self.iterations)) <= self.start_averaging:
            raise ValueError(
                "SWA has no average yet: the first snapshot is taken at step "
                f"`start_averaging`={self.start_averaging} (counted from 0); "
                f"{int(ops.convert_to_numpy(self.iterations))} steps were "
                "taken."
            )
        for variable in var_list:
            average = self._averages[self._get_variable_index(variable)]
            variable.assign(average)

    def get_config(self):
        return {
            **super().get_config(),
            "start_averaging": self.start_averaging,
            "average_period": self.average_period,
        }


def _batches(data, batch_size):
    """The input batches of `data`: an array or an iterable of batches."""
    if isinstance(data, np.ndarray) or ops.is_tensor(data):
        size = int(data.shape[0])
        for start in range(0, size, batch_size):
            yield data[start : start + batch_size]
        return
    for batch in data:
        yield batch[0] if isinstance(batch, (tuple, list)) else batch


def update_batch_norm_statistics(model, data, batch_size=32, steps=None):
    """Recomputes the moving statistics of `model`'s batch normalization.

    After `SWA.assign_average_vars` the weights are an average that no
    training step has seen, so the moving means and variances of the
    `BatchNormalization` layers no longer fit them. As in the paper (and
    PyTorch's `update_bn`), this runs the model in training mode over
    `data` and sets each moving mean and variance to the plain average of
    the batch means and variances it sees (the layers' momentum is
    restored afterwards). Other weights do not change.

    Args:
        model: a built `keras.Model` (or layer) containing the
            `BatchNormalization` layers, at any depth.
        data: the inputs: an array or tensor cut into batches of
            `batch_size`, or an iterable of batches (a `tf.data.Dataset`,
            a `keras.utils.PyDataset`, a list); in a batch that is a tuple
            or list, the first element is the input.
        batch_size: positive integer, the batch size when `data` is an
            array. Defaults to `32`.
        steps: `None` (all of `data`) or a positive integer, the number of
            batches to use.

    Returns:
        The number of batches used.

    Examples:

        >>> import keras, numpy as np
        >>> model = keras.Sequential([keras.Input((2,)),
        ...                           keras.layers.BatchNormalization()])
        >>> x = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0], [6.0, 7.0]])
        >>> update_batch_norm_statistics(model, x, batch_size=2)
        2
        >>> model.layers[0].moving_mean.numpy().tolist()
        [3.0, 4.0]
    """
    _validation.keras_object("model", model, keras.layers.Layer)
    batch_size = _validation.positive_int("batch_size", batch_size)
    if steps is not None:
        steps = _validation.positive_int("steps", steps)
    if not model.built:
        raise ValueError(
            "Argument `model` must be built (called once, or made with a "
            f"`keras.Input`). Received: model={model.name!r}, not built"
        )
    layers = [
        layer
        for layer in [model, *inner_layers(model)]
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    if isinstance(data, (str, bytes)) or not (
        isinstance(data, np.ndarray)
        or ops.is_tensor(data)
        or hasattr(data, "__iter__")
    ):
        raise TypeError(
            "Argument `data` must be an array, a tensor or an iterable of "
            f"batches. Received: data of type {type(data).__name__}"
        )
    momenta = [layer.momentum for layer in layers]
    saved = [
        (layer.moving_mean.numpy(), layer.moving_variance.numpy())
        for layer in layers
    ]
    count = 0
    try:
        for layer in layers:
            for statistic in (layer.moving_mean, layer.moving_variance):
                statistic.assign(np.zeros(statistic.shape, statistic.dtype))
        for batch in _batches(data, batch_size):
            if steps is not None and count == steps:
                break
            count += 1
            # moving = (count - 1) / count * moving + batch / count: the
            # running plain average of the batch statistics.
            for layer in layers:
                layer.momentum = (count - 1) / count
            model(batch, training=True)
    finally:
        for layer, momentum in zip(layers, momenta, strict=True):
            layer.momentum = momentum
    if count == 0:
        for layer, (mean, variance) in zip(layers, saved, strict=True):
            layer.moving_mean.assign(mean)
            layer.moving_variance.assign(variance)
        raise ValueError(
            "Argument `data` must hold at least one batch. Received: no batch"
        )
    return count
