import keras
import numpy as np
import pytest
from support.optimizer_training import KERAS_ARGUMENT_CASES
from support.optimizer_training import adam_digits_accuracy
from support.optimizer_training import digits_accuracy
from support.optimizer_training import numpy_reference

from keras_dlparts.optimizers import RAdam
from keras_dlparts.testing import check_optimizer


def radam_reference(lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, threshold=4.0):
    """Algorithm 2 of Liu et al. (2019), with epsilon added to v_hat.

    `lr` is a number or a function of the step `t` (counted from 1).
    """
    rho_inf = 2 / (1 - beta_2) - 1

    def step(w, g, state, t):
        lr_t = lr(t) if callable(lr) else lr
        state["m"] = beta_1 * state["m"] + (1 - beta_1) * g
        state["v"] = beta_2 * state["v"] + (1 - beta_2) * g**2
        m_hat = state["m"] / (1 - beta_1**t)
        rho_t = rho_inf - 2 * t * beta_2**t / (1 - beta_2**t)
        if rho_t <= threshold:
            return w - lr_t * m_hat
        v_hat = np.sqrt(state["v"] / (1 - beta_2**t))
        r_t = np.sqrt(
            (rho_t - 4)
            * (rho_t - 2)
            * rho_inf
            / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        )
        return w - lr_t * r_t * m_hat / (v_hat + epsilon)

    return numpy_reference(step, "m", "v")


@pytest.mark.slow
def test_contract_and_reference():
    # beta_2 = 0.875 puts the switch to the rectified step inside the 20
    # steps (rho_t > 4 from t = 5). Keras casts Python-float hyperparameters
    # through float32: values exact in float32 keep the float64 comparison
    # free of that rounding.
    check_optimizer(
        lambda: RAdam(learning_rate=0.0625, beta_1=0.875, beta_2=0.875),
        reference=radam_reference(0.0625, beta_1=0.875, beta_2=0.875),
    )


@pytest.mark.slow
def test_long_average_and_tfa_threshold_match_reference():
    beta_2 = 1 - 2**-10  # rho_t > 5 from t = 6
    check_optimizer(
        lambda: RAdam(learning_rate=0.0625, beta_2=beta_2, sma_threshold=5.0),
        reference=radam_reference(0.0625, beta_2=beta_2, threshold=5.0),
        only=["reference"],
    )


def test_first_steps_are_momentum_steps():
    # rho_t <= 4 for t <= 5 with beta_2 = 0.999: un-adapted momentum steps.
    opt = RAdam(learning_rate=0.1)
    w = keras.Variable([0.0])
    for _ in range(3):
        opt.apply([keras.ops.convert_to_tensor([2.0])], [w])
    np.testing.assert_allclose(w.numpy(), [-0.6], rtol=1e-6)


@pytest.mark.slow
def test_trains_digits_as_well_as_adam():
    accuracy = digits_accuracy(RAdam(learning_rate=1e-2))
    assert accuracy >= adam_digits_accuracy() - 0.02


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"beta_1": 1.0}, ValueError, "`beta_1` must be a float in \\[0, 1\\)"),
        (
            {"beta_2": -0.5},
            ValueError,
            "`beta_2` must be a float in \\[0, 1\\)",
        ),
        (
            {"epsilon": -1e-7},
            ValueError,
            "`epsilon` must be a positive finite number",
        ),
        (
            {"epsilon": float("nan")},
            ValueError,
            "`epsilon` must be a positive finite number",
        ),
        ({"epsilon": 0.0}, ValueError, "`epsilon`"),
        (
            {"sma_threshold": 3.0},
            ValueError,
            "`sma_threshold` must be a finite number in \\[4",
        ),
        ({"sma_threshold": float("inf")}, ValueError, "`sma_threshold`"),
    ]
    + KERAS_ARGUMENT_CASES,
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        RAdam(**kwargs)


@pytest.mark.parametrize(
    "learning_rate", [0.5, 1, 0.5 * np.ones((), "float32")]
)
def test_learning_rate_numbers_become_floats(learning_rate):
    assert float(RAdam(learning_rate).learning_rate) == float(learning_rate)


def test_learning_rate_schedules_and_callables_are_accepted():
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 1, 0.5)
    np.testing.assert_allclose(float(RAdam(schedule).learning_rate), 0.1)
    assert float(RAdam(lambda: 0.25).learning_rate) == 0.25
