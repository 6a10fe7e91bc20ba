import keras
import numpy as np
import pytest
from support.optimizer_training import KERAS_ARGUMENT_CASES
from support.optimizer_training import adam_digits_accuracy
from support.optimizer_training import digits_accuracy
from support.optimizer_training import fit_linear_least_squares
from support.optimizer_training import linear_least_squares_reference
from support.optimizer_training import numpy_reference

from keras_dlparts.optimizers import Yogi
from keras_dlparts.testing import check_optimizer

# Values exact in float32 (Keras casts Python floats through float32).
EXACT = dict(
    learning_rate=0.0625,
    beta_1=0.875,
    beta_2=1 - 2**-6,
    epsilon=2**-10,
    initial_accumulator_value=2**-20,
)


def yogi_reference(
    lr,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-3,
    l1=0.0,
    l2=0.0,
    initial_accumulator_value=1e-6,
    activation="sign",
):
    """Algorithm 2 of Zaheer et al. (2018), Adam's bias-corrected step size
    and the L1/L2 proximal step of TensorFlow Addons."""

    def step(w, g, state, t):
        if t == 1:
            state["v"] = np.full_like(w, initial_accumulator_value)
        state["m"] = beta_1 * state["m"] + (1 - beta_1) * g
        if activation == "sign":
            s = np.sign(g**2 - state["v"])
        else:
            s = np.tanh(10 * (g**2 - state["v"]))
        state["v"] = state["v"] + (1 - beta_2) * s * g**2
        lr_t = lr * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        a = lr_t / (np.sqrt(state["v"]) + epsilon)
        w = w - a * state["m"]
        return np.sign(w) * np.maximum(np.abs(w) - l1 * a, 0) / (1 + l2 * a)

    return numpy_reference(step, "m", "v")


def _reference(**kwargs):
    args = dict(EXACT, **kwargs)
    return yogi_reference(
        args.pop("learning_rate"),
        l1=args.pop("l1_regularization_strength", 0.0),
        l2=args.pop("l2_regularization_strength", 0.0),
        **args,
    )


@pytest.mark.slow
def test_contract_and_reference():
    check_optimizer(lambda: Yogi(**EXACT), reference=_reference())


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"activation": "tanh"},
        {"l1_regularization_strength": 0.0625},
        {
            "l1_regularization_strength": 0.0625,
            "l2_regularization_strength": 0.25,
        },
        {"l2_regularization_strength": 0.25, "beta_1": 0.0},
    ],
)
def test_matches_reference(kwargs):
    check_optimizer(
        lambda: Yogi(**dict(EXACT, **kwargs)),
        reference=_reference(**kwargs),
        only=["reference", "config"],
    )


def test_second_moment_moves_additively():
    # v = 1e-6 + (1 - beta_2) g**2 after one step: not Adam's average.
    opt = Yogi(learning_rate=0.1, beta_2=0.5, initial_accumulator_value=1.0)
    w = keras.Variable([0.0, 0.0])
    opt.apply([keras.ops.convert_to_tensor([3.0, 0.5])], [w])
    # sign(9 - 1) = 1, sign(0.25 - 1) = -1.
    v = opt.variables[-1].numpy()
    np.testing.assert_allclose(v, [1 + 0.5 * 9, 1 - 0.5 * 0.25], rtol=1e-6)


def test_fit_follows_the_numpy_rule():
    actual = fit_linear_least_squares(Yogi(**EXACT), 12)
    expected = linear_least_squares_reference(_reference(), 12)
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)
    assert np.max(np.abs(np.diff(actual, axis=0))) > 1e-3


@pytest.mark.slow
def test_trains_digits_as_well_as_adam():
    accuracy = digits_accuracy(Yogi(learning_rate=1e-2))
    assert accuracy >= adam_digits_accuracy() - 0.02


def test_defaults_are_tensorflow_addons_ones():
    config = Yogi().get_config()
    assert float(config["learning_rate"]) == pytest.approx(0.01)
    assert (config["beta_1"], config["beta_2"]) == (0.9, 0.999)
    assert config["epsilon"] == 1e-3
    assert config["initial_accumulator_value"] == 1e-6
    assert config["activation"] == "sign"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"beta_1": 1.0}, ValueError, "`beta_1` must be a float in \\[0, 1\\)"),
        ({"beta_2": -0.1}, ValueError, "`beta_2`"),
        ({"epsilon": 0.0}, ValueError, "`epsilon` must be a positive"),
        (
            {"l1_regularization_strength": -1.0},
            ValueError,
            "`l1_regularization_strength`",
        ),
        (
            {"l2_regularization_strength": "x"},
            TypeError,
            "`l2_regularization_strength`",
        ),
        (
            {"initial_accumulator_value": 0.0},
            ValueError,
            "`initial_accumulator_value` must be a positive",
        ),
        ({"activation": "relu"}, ValueError, "`activation`"),
    ]
    + KERAS_ARGUMENT_CASES,
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Yogi(**kwargs)
