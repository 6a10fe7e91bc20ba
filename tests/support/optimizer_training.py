"""Shared helpers of the optimizer tests: NumPy trajectories, a digits MLP."""

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


def fit_linear_least_squares(optimizer, steps, seed=0):
    """Trains `Dense(3)` on a fixed least-squares problem with `model.fit`.

    Full batches, no shuffling, one step per epoch: the optimizer runs
    inside the backend's compiled training step. Returns the flat float64
    weights `[kernel.ravel(), bias]` after every step.
    """
    x, y, w0 = _linear_problem(seed)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(3)])
    model.set_weights([w0[:15].reshape(5, 3), w0[15:]])
    model.compile(optimizer, "mse")
    trajectory = []

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            kernel, bias = self.model.get_weights()
            trajectory.append(np.concatenate([kernel.ravel(), bias]))

    model.fit(
        x,
        y,
        batch_size=len(x),
        epochs=steps,
        shuffle=False,
        verbose=0,
        callbacks=[Record()],
    )
    return np.asarray(trajectory, "float64")


def linear_least_squares_reference(reference, steps, seed=0):
    """A `numpy_reference` run on the problem of `fit_linear_least_squares`."""
    x, y, w0 = (a.astype("float64") for a in _linear_problem(seed))

    def gradient_fn(w, t):
        kernel, bias = w[:15].reshape(5, 3), w[15:]
        residual = 2.0 * (x @ kernel + bias - y) / y.size  # d mean((xW+b-y)^2)
        return np.concatenate([(x.T @ residual).ravel(), residual.sum(0)])

    return reference(w0, gradient_fn, steps)


def _linear_problem(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(8, 5)).astype("float32")
    y = rng.normal(size=(8, 3)).astype("float32")
    w0 = rng.normal(size=18).astype("float32")
    return x, y, w0


#: Bad values of the arguments every Keras optimizer takes, with the error
#: and message each of ours must give: (kwargs, error class, regex).
KERAS_ARGUMENT_CASES = [
    (
        {"learning_rate": float("nan")},
        ValueError,
        "`learning_rate` must be a positive",
    ),
    ({"learning_rate": 0.0}, ValueError, "`learning_rate` must be a positive"),
    ({"learning_rate": "x"}, TypeError, "`learning_rate` must be a number"),
    ({"weight_decay": -0.1}, ValueError, "`weight_decay`"),
    ({"clipnorm": float("inf")}, ValueError, "`clipnorm`"),
    ({"ema_momentum": 1.5, "use_ema": True}, ValueError, "`ema_momentum`"),
    (
        {"gradient_accumulation_steps": 1},
        ValueError,
        "`gradient_accumulation_steps`",
    ),
]


#: Bad `beta` and `decay_steps` of the sign-rule optimizers (AddSign,
#: PowerSign), plus the Keras optimizer arguments they all take.
SIGN_RULE_CASES = [
    ({"beta": -0.1}, ValueError, "`beta` must be a float in \\[0, 1\\)"),
    ({"beta": float("nan")}, ValueError, "`beta`"),
    (
        {"decay_steps": 2.5},
        TypeError,
        "`decay_steps` must be a positive integer",
    ),
    (
        {"decay_steps": 0},
        ValueError,
        "`decay_steps` must be a positive integer",
    ),
] + KERAS_ARGUMENT_CASES
