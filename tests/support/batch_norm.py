"""Makes batch normalisation's moving statistics follow training quickly.

The contract's fit checks evaluate in inference mode after only a few
steps; with the default momentum (0.99) the moving statistics have hardly
left their initial values by then, so the inference-mode loss can rise
while the training-mode loss falls. Tiny test models use a low momentum.
"""

import keras
import numpy as np


def fast_batch_norm(model, momentum=0.5):
    """Sets `momentum` on each BatchNormalization inside `model`; returns it."""
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = momentum
    return model


def randomise_weights(layer, seed=0):
    """Random weights for a numerical check, with positive BN variances."""
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [
            np.abs(rng.normal(size=w.shape)) + 0.5
            if "variance" in w.path
            else rng.normal(scale=0.3, size=w.shape)
            for w in layer.weights
        ]
    )
