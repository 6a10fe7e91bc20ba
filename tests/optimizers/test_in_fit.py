"""Each optimizer inside `model.fit`'s compiled step follows its NumPy rule.

The same trajectory on every backend: on JAX the update runs inside the
trainer's jitted, stateless step, on TensorFlow inside a `tf.function`.
"""

import keras
import numpy as np
import pytest
from optimizers.test_add_sign import add_sign_reference
from optimizers.test_lookahead import lookahead_reference
from optimizers.test_power_sign import power_sign_reference
from optimizers.test_power_sign import power_sign_step
from optimizers.test_radam import radam_reference
from support.optimizer_training import fit_linear_least_squares
from support.optimizer_training import linear_least_squares_reference

from keras_dlparts.optimizers import AddSign
from keras_dlparts.optimizers import Lookahead
from keras_dlparts.optimizers import PowerSign
from keras_dlparts.optimizers import RAdam


def sgd_step(lr):
    def step(w, g, state, t):
        return w - lr * g

    return step


CASES = {
    "add_sign": (
        lambda: AddSign(
            learning_rate=0.05, alpha=0.5, beta=0.75, decay_steps=8
        ),
        add_sign_reference(0.05, alpha=0.5, beta=0.75, decay_steps=8),
    ),
    "power_sign": (
        lambda: PowerSign(learning_rate=0.05, beta=0.75),
        power_sign_reference(0.05, beta=0.75),
    ),
    # beta_2 = 0.875: momentum steps first, rectified Adam steps from t = 5.
    "radam": (
        lambda: RAdam(learning_rate=0.0625, beta_1=0.875, beta_2=0.875),
        radam_reference(0.0625, beta_1=0.875, beta_2=0.875),
    ),
    "lookahead_sgd": (
        lambda: Lookahead(
            keras.optimizers.SGD(0.25), sync_period=3, slow_step_size=0.5
        ),
        lookahead_reference(sgd_step(0.25), 3, 0.5),
    ),
    "lookahead_power_sign": (
        lambda: Lookahead(
            PowerSign(learning_rate=0.05, beta=0.75),
            sync_period=4,
            slow_step_size=0.375,
        ),
        lookahead_reference(power_sign_step(0.05, beta=0.75), 4, 0.375, "m"),
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.slow
def test_fit_follows_the_numpy_rule(name):
    optimizer_fn, reference = CASES[name]
    steps = 12
    actual = fit_linear_least_squares(optimizer_fn(), steps)
    expected = linear_least_squares_reference(reference, steps)
    assert actual.shape == expected.shape == (steps, 18)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    # The weights moved: a non-trivial trajectory.
    assert np.max(np.abs(np.diff(actual, axis=0))) > 1e-3
