"""Shared parts of the optimizers that drive other optimizers.

A wrapper lists its inner optimizers' variables after its own in
`variables` (the JAX trainer and `tf.train.Checkpoint` need them all), but
`.keras` and `.weights.h5` files save each inner optimizer on its own, as a
child of the wrapper: the wrapper stores only its own variables, so that
each variable is kept once.
"""

import warnings

import keras


def save_own_variables(own_variables, store):
    """Stores the wrapper's `own_variables` in `store`, by position."""
    for i, variable in enumerate(own_variables):
        store[str(i)] = variable.numpy()


def load_own_variables(optimizer_name, own_variables, store):
    """Loads what `save_own_variables` stored; warns on a count mismatch."""
    if len(store.keys()) != len(own_variables):
        warnings.warn(
            f"Skipping variable loading for optimizer '{optimizer_name}', "
            f"because it has {len(own_variables)} variables whereas the "
            f"saved optimizer has {len(store.keys())} variables.",
            stacklevel=3,
        )
        return
    for i, variable in enumerate(own_variables):
        variable.assign(store[str(i)])


def refuse_optimizer_arguments(wrapper, source, kwargs):
    """Raises ValueError if `kwargs` holds arguments a wrapper takes from
    `source` (its inner optimizers)."""
    if kwargs:
        raise ValueError(
            f"{wrapper} takes its optimizer arguments from {source}; set "
            "them there. Received: "
            + ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
        )


class WrapperOptimizer(keras.optimizers.Optimizer):
    """Base of the optimizers that drive the optimizers they hold.

    A subclass lists those in `_wrapped_optimizers()` (a method: a property
    would be saved as one more child of the optimizer). `variables` lists
    the wrapper's own variables, then theirs; files store only its own.
    """

    # Lookahead once stored its inner optimizer's variables after its own:
    # such a store loads too (the inner optimizer loads its own copy).
    _loads_stores_with_inner_variables = False

    @property
    def variables(self):
        """This optimizer's own variables, then those it drives'."""
        return super().variables + [
            v for opt in self._wrapped_optimizers() for v in opt.variables
        ]

    def save_own_variables(self, store):
        """Saves this optimizer's own variables (see `variables`)."""
        save_own_variables(super().variables, store)

    def load_own_variables(self, store):
        """Loads this optimizer's own variables (see `save_own_variables`)."""
        own = super().variables
        if self._loads_stores_with_inner_variables and len(store.keys()) == len(
            self.variables
        ):
            store = {str(i): store[str(i)] for i in range(len(own))}
        load_own_variables(self.name, own, store)

    def _gradient_pairs(self, grads, trainable_variables):
        """The `(gradient, variable)` pairs of `apply`'s arguments, without
        the `None` gradients; builds the optimizer on the first call."""
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    f"{type(self).__name__}: pass `trainable_variables` on "
                    "the first call, or call `build(trainable_variables)` "
                    "first."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        return [
            (g, v)
            for g, v in zip(grads, trainable_variables, strict=True)
            if g is not None
        ]


class InnerOptimizerWrapper(WrapperOptimizer):
    """Base of the optimizers that drive one `inner_optimizer`.

    The inner optimizer holds the learning rate and the other optimizer
    arguments; the config holds it serialized, then the subclass's own
    arguments.
    """

    def __init__(self, inner_optimizer, name, **optimizer_arguments):
        super().__init__(learning_rate=0.0, name=name, **optimizer_arguments)
        self.inner_optimizer = inner_optimizer

    def _wrapped_optimizers(self):
        return [self.inner_optimizer]

    def build(self, var_list):
        """Builds the inner optimizer, then this one."""
        if self.built:
            return
        self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        # The other optimizer arguments live in the inner optimizer's config.
        return {
            "name": self.name,
            "inner_optimizer": keras.optimizers.serialize(self.inner_optimizer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        inner = keras.optimizers.deserialize(
            config.pop("inner_optimizer"), custom_objects=custom_objects
        )
        return cls(inner, **config)
