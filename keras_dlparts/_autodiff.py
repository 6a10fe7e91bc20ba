"""Gradients with the active backend's own autodiff, in one place.

`value_and_gradients` is what `tf.GradientTape` is on TensorFlow and
`jax.value_and_grad` on JAX, for code written once with Keras variables:
a model's own training step (two optimizers) or a callback that inspects
gradients. Each backend is imported only when it is the active one.
"""

import keras


def value_and_gradients(loss_fn, variables, state_variables=()):
    """Evaluates `loss_fn()` and the gradient of its loss w.r.t. `variables`.

    Args:
        loss_fn: callable with no arguments returning `(loss, aux)`: a
            scalar tensor and any nest of tensors to hand back unchanged.
        variables: the `keras.Variable`s to differentiate against.
        state_variables: the other variables `loss_fn` updates
            (batch-norm statistics, seed generator states). On JAX their
            values go into the differentiated function and their updates
            come out of it and are assigned, so that a step written with
            `Variable.assign` behaves alike on every backend. Other
            variables `loss_fn` reads (the weights of a network held
            fixed, a loss scale) are read with their current values, also
            inside a `keras.StatelessScope` such as the JAX trainer's
            state; their updates inside `loss_fn` are dropped on JAX.

    Returns:
        `((loss, aux), gradients)`, one gradient per variable (`None` where
        the loss does not depend on it, on TensorFlow).

    Examples:

        >>> import keras
        >>> w = keras.Variable([1.0, 2.0])
        >>> (loss, _), (grad,) = value_and_gradients(
        ...     lambda: (keras.ops.sum(w * w), None), [w])
        >>> keras.ops.convert_to_numpy(grad).tolist()
        [2.0, 4.0]
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return _tensorflow_value_and_gradients(loss_fn, variables)
    if backend == "jax":
        return _jax_value_and_gradients(loss_fn, variables, state_variables)
    raise NotImplementedError(
        "keras_dlparts computes gradients on the TensorFlow and JAX "
        f"backends. Received: backend={backend!r}"
    )


def _tensorflow_value_and_gradients(loss_fn, variables):
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss, aux = loss_fn()
    return (loss, aux), tape.gradient(loss, list(variables))


def _jax_value_and_gradients(loss_fn, variables, state_variables):
    import jax

    variables = list(variables)
    differentiated = {id(v) for v in variables}
    state_variables = [
        v for v in state_variables if id(v) not in differentiated
    ]
    state_values = [v.value for v in state_variables]

    def pure_loss(values):
        mapping = list(zip(variables, values))
        mapping += list(zip(state_variables, state_values))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            _inherit_enclosing_values(scope)
            loss, aux = loss_fn()
        updates = [scope.get_current_value(v) for v in state_variables]
        return loss, (aux, updates)

    (loss, (aux, updates)), gradients = jax.value_and_grad(
        pure_loss, has_aux=True
    )([v.value for v in variables])
    for variable, value in zip(state_variables, updates):
        variable.assign(value)
    return (loss, aux), gradients


def _inherit_enclosing_values(scope):
    """Lets `scope` read the values of the scope it was entered in.

    A variable read in a `keras.StatelessScope` takes the scope's value,
    else its own stored value, which Keras's JAX trainer clears during
    `fit` (the values travel in the trainer's state, held by the enclosing
    scope of a `StatefulStep`). Without this, a variable `loss_fn` reads
    but does not differentiate would read a placeholder there.
    """
    enclosing = getattr(scope, "original_scope", None)
    if enclosing is None:
        return
    for key, value in enclosing.state_mapping.items():
        scope.state_mapping.setdefault(key, value)
