"""Saving helpers of the optimizers that drive other optimizers.

A wrapper lists its inner optimizers' variables after its own in
`variables` (the JAX trainer and `tf.train.Checkpoint` need them all), but
`.keras` and `.weights.h5` files save each inner optimizer on its own, as a
child of the wrapper: the wrapper stores only its own variables, so that
each variable is kept once.
"""

import warnings


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
