"""Tests of keras_dlparts.losses.CRFLoss on pairwise CRF scores."""

import itertools

import keras
import numpy as np
import pytest

from keras_dlparts.losses import CRFLoss
from keras_dlparts.testing import check_loss

rng = np.random.default_rng(0)
# Any (batch, steps, tags, tags) tensor is a pairwise CRF: psi[b, t, i, j]
# scores tag i at step t - 1 followed by tag j at step t (row 0 at t = 0).
# An even batch: TensorFlow's MirroredStrategy fails on uneven splits.
SCORES = rng.normal(size=(6, 3, 3, 3)).astype("float32")
TAGS = rng.integers(0, 3, size=(6, 3))


def _numpy_nll(tags, scores):
    """Mean negative log-likelihood, every path enumerated."""
    tags = np.asarray(tags).reshape(scores.shape[:2]).astype(int)
    steps, n = scores.shape[1:3]

    def score(psi, path):
        previous = (0,) + tuple(path[:-1])
        return sum(psi[t, previous[t], path[t]] for t in range(steps))

    nll = []
    for psi, gold in zip(np.asarray(scores, "float64"), tags):
        every = [
            score(psi, p) for p in itertools.product(range(n), repeat=steps)
        ]
        log_z = np.log(np.sum(np.exp(every)))
        nll.append(log_z - score(psi, gold))
    return np.mean(nll)


@pytest.mark.slow
def test_value_equals_enumeration():
    got = float(CRFLoss()(TAGS, SCORES))
    np.testing.assert_allclose(got, _numpy_nll(TAGS, SCORES), rtol=1e-5)
    # Tags with a trailing axis of 1 (as Keras datasets often give them).
    got = float(CRFLoss()(TAGS[..., None], SCORES))
    np.testing.assert_allclose(got, _numpy_nll(TAGS, SCORES), rtol=1e-5)


@pytest.mark.slow
def test_the_loss_is_at_least_zero_and_zero_only_for_a_certain_path():
    certain = np.full((1, 3, 3, 3), -50.0, "float32")
    certain[0, :, :, 1] = 0.0  # tag 1 at every step, whatever came before
    assert float(CRFLoss()(np.ones((1, 3)), certain)) < 1e-6
    assert float(CRFLoss()(np.zeros((1, 3)), certain)) > 100
    assert float(CRFLoss()(TAGS, SCORES)) > 0


@pytest.mark.slow
def test_contract_with_numpy_reference():
    check_loss(CRFLoss, TAGS, SCORES, reference=_numpy_nll)


@pytest.mark.parametrize(
    "y_true, y_pred, match",
    [
        (TAGS, SCORES[..., 0], "y_pred"),
        (TAGS[:, :2], SCORES, "y_true"),
        (TAGS[:, :, None, None], SCORES, "y_true"),
    ],
)
def test_bad_shapes_name_the_argument(y_true, y_pred, match):
    with pytest.raises(ValueError, match=match):
        CRFLoss()(y_true, y_pred)


def test_config_round_trip():
    loss = CRFLoss(reduction="sum", name="tags_nll")
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    assert isinstance(clone, CRFLoss)
    assert clone.get_config() == loss.get_config()
