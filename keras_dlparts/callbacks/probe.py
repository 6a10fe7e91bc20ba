"""Probe models that read inner layer outputs of a Functional/Sequential model.

The probes are plain Keras models, used by the TensorBoard callbacks on
every backend.
"""

import keras


def find_layer(model, name):
    """Returns the layer called `name` in `model` or in its nested models."""
    for layer in model.layers:
        if layer.name == name:
            return layer
        if hasattr(layer, "layers"):
            found = find_layer(layer, name)
            if found is not None:
                return found
    return None


def probe_model(model, outputs):
    """A `keras.Model` from `model`'s inputs to the symbolic `outputs`.

    A single input stays a single tensor (not a one-element list), so the
    probe is called exactly like `model`.
    """
    inputs = model.inputs
    if len(inputs) == 1:
        inputs = inputs[0]
    return keras.Model(inputs, outputs)
