"""RAdam's learning-rate warmup and decay (TensorFlow Addons' options)."""

import keras
import numpy as np
import pytest
from optimizers.test_radam import radam_reference
from support.optimizer_training import fit_linear_least_squares
from support.optimizer_training import linear_least_squares_reference

from keras_dlparts.optimizers import RAdam
from keras_dlparts.testing import check_optimizer


def warmup_lr(lr, total_steps, warmup_proportion, min_lr):
    """TFA's `RectifiedAdam` learning rate at step `t` (from 1)."""
    warmup = total_steps * warmup_proportion
    decay_steps = max(total_steps - warmup, 1)

    def at(t):
        if t <= warmup:
            return lr * t / warmup
        return lr - (lr - min_lr) * min(t - warmup, decay_steps) / decay_steps

    return at


# 20 reference steps: 4 of warmup, 8 of decay, 8 at min_lr.
WARMUP = dict(total_steps=12, warmup_proportion=1 / 3, min_lr=0.015625)


@pytest.mark.parametrize(
    "options",
    [
        WARMUP,
        dict(WARMUP, warmup_proportion=0.0),
        dict(WARMUP, warmup_proportion=1.0),
        dict(total_steps=7, warmup_proportion=0.25, min_lr=0.0),
    ],
)
def test_matches_reference(options):
    check_optimizer(
        lambda: RAdam(learning_rate=0.125, beta_2=0.875, **options),
        reference=radam_reference(warmup_lr(0.125, **options), beta_2=0.875),
        only=["reference", "config"],
    )


def test_learning_rate_ramps_up_then_down():
    lr = warmup_lr(1.0, 10, 0.2, 0.1)
    steps = [lr(t) for t in range(1, 13)]
    np.testing.assert_allclose(steps[:3], [0.5, 1.0, 1 - 0.9 / 8])
    np.testing.assert_allclose(steps[-3:], [0.1, 0.1, 0.1])
    # The optimizer takes momentum steps of lr_t * m_hat at first (rho_t <= 4
    # for t <= 5 with beta_2 = 0.999): g = 1 gives m_hat = 1.
    opt = RAdam(learning_rate=1.0, total_steps=10, warmup_proportion=0.2)
    w = keras.Variable([0.0])
    moves = []
    for _ in range(3):
        before = float(w.numpy()[0])
        opt.apply([keras.ops.convert_to_tensor([1.0])], [w])
        moves.append(before - float(w.numpy()[0]))
    np.testing.assert_allclose(moves, [0.5, 1.0, 1 - 1 / 8], rtol=1e-6)


def test_default_keeps_the_constant_learning_rate():
    config = RAdam().get_config()
    assert config["total_steps"] == 0
    assert config["warmup_proportion"] == 0.1
    assert config["min_lr"] == 0.0


def test_fit_follows_the_numpy_rule_with_a_schedule():
    # The warmup scales the schedule's value, as in TFA.
    schedule = keras.optimizers.schedules.ExponentialDecay(0.125, 1, 0.5)
    options = dict(total_steps=8, warmup_proportion=0.25, min_lr=0.0)
    base = warmup_lr(1.0, **options)
    actual = fit_linear_least_squares(
        RAdam(schedule, beta_2=0.875, **options), 10
    )
    expected = linear_least_squares_reference(
        radam_reference(
            lambda t: 0.125 * 0.5 ** (t - 1) * base(t), beta_2=0.875
        ),
        10,
    )
    np.testing.assert_allclose(actual, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"total_steps": -1}, ValueError, "`total_steps` must be an integer"),
        ({"total_steps": 10.0}, TypeError, "`total_steps` must be an integer"),
        ({"warmup_proportion": 1.5}, ValueError, "`warmup_proportion`"),
        ({"warmup_proportion": "x"}, TypeError, "`warmup_proportion`"),
        ({"min_lr": -0.1}, ValueError, "`min_lr`"),
        ({"min_lr": float("nan")}, ValueError, "`min_lr`"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        RAdam(**kwargs)
