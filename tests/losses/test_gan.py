"""Tests of keras_dlparts.losses.GANDiscriminatorLoss and GANGeneratorLoss."""

import keras
import numpy as np
import pytest
from support.backend import gradients
from support.backend import jit

from keras_dlparts.losses import GANDiscriminatorLoss
from keras_dlparts.losses import GANGeneratorLoss

KINDS = ("minimax", "non_saturating", "hinge", "least_squares")


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _numpy_d(kind, r, f):
    """The textbook formulas on probabilities D = sigmoid(logit)."""
    if kind in ("minimax", "non_saturating"):
        return np.mean(-np.log(_sigmoid(r)) - np.log(1.0 - _sigmoid(f)))
    if kind == "hinge":
        return np.mean(np.maximum(0, 1 - r) + np.maximum(0, 1 + f))
    return np.mean(0.5 * (r - 1) ** 2 + 0.5 * f**2)


def _numpy_g(kind, f):
    if kind == "minimax":
        return np.mean(np.log(1.0 - _sigmoid(f)))
    if kind == "non_saturating":
        return np.mean(-np.log(_sigmoid(f)))
    if kind == "hinge":
        return np.mean(-f)
    return np.mean(0.5 * (f - 1) ** 2)


@pytest.mark.parametrize("kind", KINDS)
def test_matches_numpy_formulas(kind):
    rng = np.random.default_rng(0)
    r = rng.normal(scale=2.0, size=(16, 1))
    f = rng.normal(scale=2.0, size=(16, 1))
    d = float(GANDiscriminatorLoss(kind)(r, f))
    g = float(GANGeneratorLoss(kind)(np.zeros_like(f), f))
    assert d == pytest.approx(_numpy_d(kind, r, f), rel=1e-5, abs=1e-6)
    assert g == pytest.approx(_numpy_g(kind, f), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("kind", ["minimax", "non_saturating"])
def test_stable_for_huge_logits(kind):
    big = np.array([[500.0], [-500.0]], "float32")
    d = float(GANDiscriminatorLoss(kind)(big, -big))
    g = float(GANGeneratorLoss(kind)(big, big))
    assert np.isfinite(d) and np.isfinite(g)
    # Half the batch is perfectly classified, half maximally wrong: 500 each.
    assert d == pytest.approx(500.0, rel=1e-5)


def test_non_saturating_gradient_does_not_vanish_where_minimax_does():
    # A confident discriminator (fake logit -10): the minimax generator
    # gradient is sigmoid(f) ~ 4.5e-5, the non-saturating one ~ -1.
    f = np.array([[-10.0]], "float32")
    grads = {}
    for kind in ("minimax", "non_saturating"):
        _, (grad,) = gradients(
            lambda f, kind=kind: GANGeneratorLoss(kind)(
                keras.ops.zeros_like(f), f
            ),
            f,
        )
        grads[kind] = float(grad[0, 0])
    assert grads["minimax"] == pytest.approx(-_sigmoid(-10.0), rel=1e-4)
    assert grads["non_saturating"] == pytest.approx(
        _sigmoid(-10.0) - 1, rel=1e-4
    )


def test_config_round_trip_and_serialization():
    for cls in (GANDiscriminatorLoss, GANGeneratorLoss):
        loss = cls(kind="hinge", name="adv", reduction="sum")
        clone = cls.from_config(loss.get_config())
        assert clone.get_config() == loss.get_config()
        restored = keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(loss)
        )
        assert type(restored) is cls and restored.kind == "hinge"
        r, f = np.ones((3, 1)), -np.ones((3, 1))
        assert float(restored(r, f)) == pytest.approx(float(loss(r, f)))


def test_jit_compile_and_float16_inputs():
    loss = GANDiscriminatorLoss("least_squares")
    fn = jit(lambda r, f: loss(r, f))
    r = np.full((4, 1), 1.0, "float16")
    f = np.full((4, 1), 0.5, "float16")
    out = fn(r, f)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    assert float(out) == pytest.approx(0.125)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Argument `kind` must be one of"):
        GANDiscriminatorLoss(kind="wasserstein")
    with pytest.raises(ValueError, match="kind"):
        GANGeneratorLoss(kind="hing")
    with pytest.raises(ValueError, match="same shape"):
        GANDiscriminatorLoss()(np.zeros((2, 1)), np.zeros((2, 3)))


def test_mismatched_batches_name_the_arguments():
    for cls in (GANDiscriminatorLoss, GANGeneratorLoss):
        with pytest.raises(ValueError, match="`y_true` and `y_pred` must have"):
            cls()(np.zeros((4, 1)), np.zeros((3, 1)))
        with pytest.raises(ValueError, match=r"`kind`"):
            cls(kind=None)
        empty = cls()(np.zeros((0, 1)), np.zeros((0, 1)))
        assert np.all(np.isfinite(np.asarray(empty)))
