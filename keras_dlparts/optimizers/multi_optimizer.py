"""MultiOptimizer: one optimizer per group of layers."""

import keras

from keras_dlparts import _validation
from keras_dlparts.optimizers import _wrapping


def _paths_of(index, layers):
    """The variable paths a group's layers (or given paths) stand for."""
    name = f"optimizers_and_layers[{index}][1]"
    if isinstance(layers, keras.layers.Layer):
        layers = [layers]
    if not isinstance(layers, (list, tuple)) or not layers:
        raise TypeError(
            f"Argument `{name}` must be a layer, a model, or a non-empty list "
            f"of layers or of variable paths. Received: {layers!r}"
        )
    if all(isinstance(layer, str) for layer in layers):
        return [str(path) for path in layers]
    paths = []
    for layer in layers:
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(
                f"Argument `{name}` must list layers or variable paths "
                f"(strings), not a mix or other objects. Received: {layer!r}"
            )
        if not layer.weights:
            raise ValueError(
                f"Argument `{name}`: layer '{layer.name}' has no weights "
                "yet. Build it first (e.g. in a model with a `keras.Input`)."
            )
        paths.extend(w.path for w in layer.weights)
    return paths


def _check_pairs(optimizers_and_layers):
    if not isinstance(optimizers_and_layers, (list, tuple)) or not (
        optimizers_and_layers
    ):
        raise TypeError(
            "Argument `optimizers_and_layers` must be a non-empty list of "
            "(optimizer, layers) pairs. Received: "
            f"optimizers_and_layers={optimizers_and_layers!r}"
        )
    optimizers, groups, owner = [], [], {}
    for index, pair in enumerate(optimizers_and_layers):
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            raise TypeError(
                "Argument `optimizers_and_layers` must hold (optimizer, "
                f"layers) pairs. Received at index {index}: {pair!r}"
            )
        optimizer, layers = pair
        if isinstance(optimizer, dict):
            optimizer = keras.optimizers.deserialize(optimizer)
        _validation.keras_object(
            f"optimizers_and_layers[{index}][0]",
            optimizer,
            keras.optimizers.Optimizer,
        )
        if any(optimizer is other for other in optimizers):
            raise ValueError(
                "Argument `optimizers_and_layers` must give each optimizer "
                f"once; the optimizer at index {index} appears before."
            )
        paths = _paths_of(index, layers)
        for path in paths:
            if path in owner and owner[path] != index:
                raise ValueError(
                    "Argument `optimizers_and_layers` must give each "
                    f"variable to one optimizer; '{path}' is in groups "
                    f"{owner[path]} and {index}."
                )
            owner[path] = index
        optimizers.append(optimizer)
        groups.append(paths)
    return optimizers, groups, owner


@keras.saving.register_keras_serializable(package="keras_dlparts")
class MultiOptimizer(_wrapping.WrapperOptimizer):
    """Trains each group of layers with its own optimizer.

    Discriminative fine-tuning (Howard and Ruder, 2018) trains the layers
    of a pre-trained network with smaller learning rates than the new head.
    `MultiOptimizer` takes `(optimizer, layers)` pairs and, at every step,
    hands each optimizer the gradients of its layers' variables: each
    optimizer keeps its own slots, step counter, learning rate (or
    schedule), gradient clipping, weight decay and EMA. Every trainable
    variable must belong to exactly one group.

    Groups are recorded as variable paths (`"model/dense/kernel"`; a path
    also matches a variable by its trailing part, `"dense/kernel"`), so the
    layers must be built when the optimizer is made, and `get_config()`
    holds the serialized optimizers with their paths: a compiled model
    saves and reloads (`safe_mode=True`) with its `MultiOptimizer`, whose
    inner optimizers' variables are stored under its child `optimizers`.
    Callbacks that set `optimizer.learning_rate` do not reach the inner
    optimizers: give those learning-rate schedules instead.

    Args:
        optimizers_and_layers: a list of `(optimizer, layers)` pairs; each
            optimizer is a `keras.optimizers.Optimizer` (or its serialized
            form) and `layers` a layer, a model, a list of them, or a list
            of variable paths.
        name: String, the name of the optimizer.

    References:
        - [Howard and Ruder, 2018, Universal Language Model Fine-tuning for
          Text Classification](https://arxiv.org/abs/1801.06146)

    Examples:

        >>> import keras
        >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8),
        ...                           keras.layers.Dense(1)])
        >>> optimizer = MultiOptimizer([
        ...     (keras.optimizers.Adam(1e-4), model.layers[0]),  # the body
        ...     (keras.optimizers.Adam(1e-2), model.layers[1]),  # the head
        ... ])
        >>> model.compile(optimizer=optimizer, loss="mse")
        >>> [len(paths) for _, paths in optimizer.get_config()[
        ...     "optimizers_and_layers"]]
        [2, 2]
    """

    def __init__(self, optimizers_and_layers, name="multi_optimizer", **kwargs):
        _wrapping.refuse_optimizer_arguments(
            "MultiOptimizer", "the optimizers it holds", kwargs
        )
        optimizers, groups, owner = _check_pairs(optimizers_and_layers)
        super().__init__(learning_rate=0.0, name=name)
        self.optimizers = optimizers
        self.variable_paths = groups
        self._owner = owner

    def _find_group(self, path):
        """The group of the variable at `path`, or None if it has none.

        A recorded path matches exactly or by its trailing part: a model
        reloaded from a file names its variables `"dense/kernel"` where the
        original had `"model/dense/kernel"` (and the other way round).
        """
        if path in self._owner:
            return self._owner[path]
        groups = {
            group
            for recorded, group in self._owner.items()
            if recorded.endswith("/" + path) or path.endswith("/" + recorded)
        }
        if len(groups) > 1:
            raise ValueError(
                f"MultiOptimizer: the variable '{path}' matches paths of "
                f"groups {sorted(groups)}; give full variable paths."
            )
        return groups.pop() if groups else None

    def build(self, var_list):
        """Finds every variable's group and builds each optimizer."""
        if self.built:
            return
        self._group_of = {v.path: self._find_group(v.path) for v in var_list}
        missing = [p for p, group in self._group_of.items() if group is None]
        if missing:
            raise ValueError(
                "MultiOptimizer has no optimizer for the variables "
                f"{missing}: add their layers to a group of "
                "`optimizers_and_layers` (or make them non-trainable)."
            )
        super().build(var_list)
        for index, optimizer in enumerate(self.optimizers):
            optimizer.build(self._group(index, var_list))

    def _group(self, index, variables):
        return [v for v in variables if self._group_of[v.path] == index]

    def _wrapped_optimizers(self):
        return self.optimizers

    def apply(self, grads, trainable_variables=None):
        """Applies each group's gradients with the group's optimizer."""
        pairs = self._gradient_pairs(grads, trainable_variables)
        for index, optimizer in enumerate(self.optimizers):
            group = [
                (g, v) for g, v in pairs if self._group_of[v.path] == index
            ]
            if group:
                optimizer.apply(*zip(*group))
        self.iterations.assign_add(1)

    def finalize_variable_values(self, var_list):
        for index, optimizer in enumerate(self.optimizers):
            optimizer.finalize_variable_values(self._group(index, var_list))

    def get_config(self):
        return {
            "name": self.name,
            "optimizers_and_layers": [
                [keras.optimizers.serialize(optimizer), list(paths)]
                for optimizer, paths in zip(
                    self.optimizers, self.variable_paths, strict=True
                )
            ],
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        pairs = [
            (
                keras.optimizers.deserialize(
                    optimizer, custom_objects=custom_objects
                ),
                paths,
            )
            for optimizer, paths in config.pop("optimizers_and_layers")
        ]
        return cls(pairs, **config)
