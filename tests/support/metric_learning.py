"""Small labelled batches and a shared encoder for the metric-learning losses.

The contract trains `encoder` on `labelled_inputs`: inputs are class
centres plus noise, one or several noisy views per example, and the same
`Dense` layers embed every view (a Siamese encoder), so the loss can fall.
"""

import keras
import numpy as np


def labelled_inputs(seed, batch=8, classes=4, views=None, dim=6, noise=0.3):
    """`(labels, x)`: `x` is `(batch, dim)`, or `(batch, views, dim)`."""
    rng = np.random.default_rng(seed)
    labels = np.arange(batch) * classes // batch  # each half: whole classes
    centres = rng.normal(size=(classes, dim))
    shape = (batch, dim) if views is None else (batch, views, dim)
    noise = noise * rng.normal(size=shape)
    base = centres[labels] if views is None else centres[labels][:, None]
    return labels, (base + noise).astype("float32")


def encoder(input_shape, features=4):
    """A fresh two-layer encoder of the last axis (shared across views)."""
    return keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Dense(16, activation="tanh"),
            keras.layers.Dense(features),
        ]
    )
