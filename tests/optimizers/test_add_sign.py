import keras
import numpy as np
import pytest
from support.optimizer_training import SIGN_RULE_CASES
from support.optimizer_training import adam_digits_accuracy
from support.optimizer_training import digits_accuracy
from support.optimizer_training import numpy_reference

from keras_dlparts.optimizers import AddSign
from keras_dlparts.testing import check_optimizer


def add_sign_reference(lr, alpha=1.0, beta=0.9, decay_steps=None):
    """Bello et al. (2017): w -= lr * (alpha + f(t) sign(g) sign(m)) * g."""

    def step(w, g, state, t):
        state["m"] = beta * state["m"] + (1 - beta) * g
        f = (
            1.0
            if decay_steps is None
            else 1 - min(t - 1, decay_steps) / decay_steps
        )
        return w - lr * (alpha + f * np.sign(g) * np.sign(state["m"])) * g

    return numpy_reference(step, "m")


@pytest.mark.slow
def test_contract_and_reference():
    check_optimizer(
        lambda: AddSign(learning_rate=0.05, alpha=0.5, beta=0.8),
        reference=add_sign_reference(0.05, alpha=0.5, beta=0.8),
    )


def test_linear_sign_decay_matches_reference():
    check_optimizer(
        lambda: AddSign(learning_rate=0.05, decay_steps=12),
        reference=add_sign_reference(0.05, decay_steps=12),
        only=["reference", "config"],
    )


def test_sign_disagreement_cancels_the_step():
    opt = AddSign(learning_rate=1.0, beta=0.5)
    w = keras.Variable([0.0])
    opt.apply([keras.ops.convert_to_tensor([1.0])], [w])  # agree: 2 * g
    np.testing.assert_allclose(w.numpy(), [-2.0])
    opt.apply([keras.ops.convert_to_tensor([-0.1])], [w])  # disagree: 0 * g
    np.testing.assert_allclose(w.numpy(), [-2.0])


@pytest.mark.slow
@pytest.mark.learning
def test_trains_digits_as_well_as_adam():
    accuracy = digits_accuracy(AddSign(learning_rate=0.3))
    assert accuracy >= adam_digits_accuracy() - 0.02


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"alpha": -1.0}, ValueError, "`alpha` must be a finite number >= 0"),
        (
            {"alpha": float("nan")},
            ValueError,
            "`alpha` must be a finite number >= 0",
        ),
        ({"alpha": float("inf")}, ValueError, "`alpha`"),
        ({"alpha": "x"}, TypeError, "`alpha` must be a number"),
    ]
    + SIGN_RULE_CASES,
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        AddSign(**kwargs)
