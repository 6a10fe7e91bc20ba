"""What a model needs to resume with `keras.callbacks.BackupAndRestore`.

A resumed run ends bit-identical to an uninterrupted one only if the
backup holds every state training reads: weights, optimizer state and the
random state. Keras saves a layer's weights but not the states of its
`keras.random.SeedGenerator`s, so a resumed model would draw other codes,
noise and dropout masks. `SeedState` stores them with the model's own
weights. `BackupAndRestore` also needs a built model before the first
step; `BuildOnFit` builds a model whose input size is known only from the
data.
"""

import numpy as np

_PREFIX = "seed_state_"


def seed_states(model):
    """The state variables of every `SeedGenerator` in `model`'s tree.

    `model.variables` lists all of a model's state, seed states included,
    and `model.weights` all but the seed states; the order is fixed by the
    model's structure.
    """
    weights = {id(v) for v in model.weights}
    return [v for v in model.variables if id(v) not in weights]


def known_output_shape(model):
    """The output shape of a built single-output functional model, or None.

    A subclassed model or a bare layer has no symbolic outputs: its output
    shape is known only once it is called.
    """
    outputs = getattr(model, "outputs", None) if model.built else None
    if not isinstance(outputs, (list, tuple)) or len(outputs) != 1:
        return None
    return tuple(outputs[0].shape)


class SeedState:
    """Mixin for a `keras.Model`: its weights files hold its seed states too.

    `save_own_variables` adds the states of the `SeedGenerator`s of the
    whole model under the keys `"seed_state_0"`, `"seed_state_1"`, ...,
    next to Keras's `"0"`, `"1"`, ... of the model's own weights;
    `load_own_variables` restores them. A file without these keys (saved
    before they existed) loads the weights and leaves the seed states as
    they are.
    """

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for i, state in enumerate(seed_states(self)):
            store[f"{_PREFIX}{i}"] = state

    def load_own_variables(self, store):
        keys = list(store.keys())
        saved = [key for key in keys if key.startswith(_PREFIX)]
        own = {key: store[key] for key in keys if not key.startswith(_PREFIX)}
        super().load_own_variables(own)
        if not saved:
            return
        states = seed_states(self)
        if len(saved) != len(states):
            raise ValueError(
                f"Model '{self.name}' has {len(states)} random seed states; "
                f"the weights file holds {len(saved)}."
            )
        for i, state in enumerate(states):
            value = np.asarray(store[f"{_PREFIX}{i}"])
            state.assign(value.astype(state.dtype))


class BuildOnFit:
    """Mixin for a `keras.Model` built from the shape of its inputs.

    `fit(x, ...)` with an array `x` builds an unbuilt model on
    `(None,) + x.shape[1:]` before training starts, so that callbacks that
    need a built model (`keras.callbacks.BackupAndRestore`) see one. Other
    inputs (a `tf.data.Dataset`, a generator) build the model at the first
    step, as before; call `model.build((None, input_dim))` first to resume
    such a run.
    """

    def fit(self, x=None, *args, **kwargs):
        if not self.built and hasattr(x, "shape") and len(x.shape) >= 1:
            self.build((None,) + tuple(x.shape[1:]))
        return super().fit(x, *args, **kwargs)
