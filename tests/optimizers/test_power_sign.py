import math

import keras
import numpy as np
import pytest
from support.optimizer_training import SIGN_RULE_CASES
from support.optimizer_training import adam_digits_accuracy
from support.optimizer_training import digits_accuracy
from support.optimizer_training import numpy_reference

from keras_dlparts.optimizers import PowerSign
from keras_dlparts.testing import check_optimizer


def power_sign_step(lr, base=math.e, beta=0.9, decay_steps=None):
    """Bello et al. (2017): w -= lr * base**(f(t) sign(g) sign(m)) * g."""

    def step(w, g, state, t):
        state["m"] = beta * state["m"] + (1 - beta) * g
        f = (
            1.0
            if decay_steps is None
            else 1 - min(t - 1, decay_steps) / decay_steps
        )
        return w - lr * base ** (f * np.sign(g) * np.sign(state["m"])) * g

    return step


def power_sign_reference(lr, base=math.e, beta=0.9, decay_steps=None):
    """`power_sign_step` as a `check_optimizer` reference."""
    return numpy_reference(power_sign_step(lr, base, beta, decay_steps), "m")


@pytest.mark.slow
def test_contract_and_reference():
    check_optimizer(
        lambda: PowerSign(learning_rate=0.05, base=2.0, beta=0.8),
        reference=power_sign_reference(0.05, base=2.0, beta=0.8),
    )


def test_linear_sign_decay_matches_reference():
    check_optimizer(
        lambda: PowerSign(learning_rate=0.05, decay_steps=10),
        reference=power_sign_reference(0.05, decay_steps=10),
        only=["reference", "config"],
    )


def test_sign_disagreement_shrinks_the_step():
    opt = PowerSign(learning_rate=1.0, beta=0.5)
    w = keras.Variable([0.0])
    opt.apply([keras.ops.convert_to_tensor([1.0])], [w])  # m = 0.5: agree
    np.testing.assert_allclose(w.numpy(), [-math.e], rtol=1e-6)
    # m = 0.25 - 0.05 > 0 still, g < 0: disagree, step scaled by 1/e.
    opt.apply([keras.ops.convert_to_tensor([-0.1])], [w])
    np.testing.assert_allclose(w.numpy(), [-math.e + 0.1 / math.e], rtol=1e-6)


@pytest.mark.slow
def test_trains_digits_as_well_as_adam():
    accuracy = digits_accuracy(PowerSign(learning_rate=0.3))
    assert accuracy >= adam_digits_accuracy() - 0.02


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"base": 1.0},
            ValueError,
            "`base` must be a finite number in \\(1.0, inf\\)",
        ),
        ({"base": float("inf")}, ValueError, "`base`"),
        ({"base": None}, TypeError, "`base`"),
    ]
    + SIGN_RULE_CASES,
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        PowerSign(**kwargs)
