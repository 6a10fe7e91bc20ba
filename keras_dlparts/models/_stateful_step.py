"""A training step written once with `Variable.assign`, run on every backend.

Keras's TensorFlow trainer calls `train_step(data)` and lets it update
variables in place. Its JAX trainer calls `train_step(state, data)` with the
values of every variable (JAX arrays are immutable) and expects the new
values back. A model that mixes in `StatefulStep` writes its step once, as
`stateful_train_step(data)` (and `stateful_test_step(data)`), with
`Variable.assign`, `optimizer.apply` and metric updates; on JAX that method
runs inside a `keras.StatelessScope` holding the trainer's state, and the
values it assigned become the new state. This is how Keras's own JAX trainer
updates its metrics.

Optimizer steps go through `apply_gradients(optimizer, gradients,
variables)`: `optimizer.apply` on TensorFlow (gradients are all-reduced
across `tf.distribute` replicas there) and `optimizer.stateless_apply` on
JAX, the call Keras's JAX trainer makes, because a
`keras.optimizers.LossScaleOptimizer` (`mixed_float16`) updates its
variables inside `ops.cond` in `apply`, which JAX cannot trace in a
`StatelessScope`.
"""

import keras


class StatefulStep:
    """Mixin for a `keras.Model` whose training step updates variables itself.

    Subclasses implement `stateful_train_step(data) -> logs` and may
    implement `stateful_test_step(data) -> logs`; gradients inside them come
    from `keras_dlparts._autodiff.value_and_gradients` and optimizer steps
    from `apply_gradients`.
    """

    def stateful_train_step(self, data):
        raise NotImplementedError

    def stateful_test_step(self, data):
        return super().test_step(data)

    def train_step(self, *args):
        if keras.backend.backend() == "jax":
            state, data = args
            return _run_in_state(
                self, self.stateful_train_step, data, state, optimizer=True
            )
        return self.stateful_train_step(*args)

    def test_step(self, *args):
        if keras.backend.backend() == "jax":
            state, data = args
            return _run_in_state(
                self, self.stateful_test_step, data, state, optimizer=False
            )
        return self.stateful_test_step(*args)

    def model_state_variables(self):
        """The variables a forward pass may read besides the trainable ones."""
        return list(self.non_trainable_variables)


def _state_groups(model, optimizer):
    """The variable lists of JAX's trainer state, in its order."""
    groups = [model.trainable_variables, model.non_trainable_variables]
    if optimizer:
        groups.append(model.optimizer.variables)
    groups.append(model.metrics_variables)
    return groups


def _run_in_state(model, step, data, state, optimizer):
    groups = _state_groups(model, optimizer)
    if len(groups) != len(state):
        raise RuntimeError(
            f"Expected a trainer state of {len(groups)} variable lists, "
            f"received {len(state)}."
        )
    mapping = [
        (variable, value)
        for variables, values in zip(groups, state)
        for variable, value in zip(variables, values)
    ]
    with keras.StatelessScope(state_mapping=mapping) as scope:
        logs = step(data)
    new_state = tuple(
        [_current(scope, v, old) for v, old in zip(variables, values)]
        for variables, values in zip(groups, state)
    )
    return logs, new_state


def _current(scope, variable, old_value):
    value = scope.get_current_value(variable)
    return old_value if value is None else value


def apply_gradients(optimizer, gradients, variables):
    """Applies `gradients` to `variables` with `optimizer`, on any backend.

    Args:
        optimizer: a built `keras.optimizers.Optimizer` (possibly a
            `LossScaleOptimizer`); on JAX, `variables` must be the list it
            was built with, in that order.
        gradients: one gradient per variable (scaled by
            `optimizer.scale_loss` where the loss was).
        variables: the trainable `keras.Variable`s to update.
    """
    variables = list(variables)
    if keras.backend.backend() != "jax":
        optimizer.apply(list(gradients), variables)
        return
    new_values, new_optimizer_values = optimizer.stateless_apply(
        [v.value for v in optimizer.variables],
        list(gradients),
        [v.value for v in variables],
    )
    for variable, value in zip(variables, new_values):
        variable.assign(value)
    for variable, value in zip(optimizer.variables, new_optimizer_values):
        variable.assign(value)
