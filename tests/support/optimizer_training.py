"""Shared helpers of the optimizer tests: NumPy trajectories and a digits MLP."""

import functools

import keras
import numpy as np

from keras_dlparts.data import load_digits


def numpy_reference(step_fn, *slots):
    """Turns a NumPy update rule into a `check_optimizer` reference.

    `step_fn(w, g, state, t)` returns the new weights; `t` counts steps from
    1 and `state` is a dict holding a zero array per name in `slots`.
    """

    def reference(w, gradient_fn, steps):
        state = {name: np.zeros_like(w) for name in slots}
        out = []
        for t in range(1, steps + 1):
            w = step_fn(w, gradient_fn(w, t - 1), state, t)
            out.append(np.array(w))
        return np.stack(out)

    return reference


def digits_accuracy(optimizer, epochs=12, seed=0):
    """Test accuracy of a small MLP trained on the digits with `optimizer`."""
    (x_train, y_train), (x_test, y_test) = load_digits(as_images=False)
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(10),
        ]
    )
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)[1]


@functools.lru_cache(maxsize=None)
def adam_digits_accuracy():
    """The accuracy Adam (learning rate 1e-2) reaches with `digits_accuracy`."""
    return digits_accuracy(keras.optimizers.Adam(1e-2))
