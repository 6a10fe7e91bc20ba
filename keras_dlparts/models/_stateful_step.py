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
"""

import keras


class StatefulStep:
    """Mixin for a `keras.Model` whose training step updates variables itself.

    Subclasses implement `stateful_train_step(data) -> logs` and may
    implement `stateful_test_step(data) -> logs`; gradients inside them come
    from `keras_dlparts._autodiff.value_and_gradients`.
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
