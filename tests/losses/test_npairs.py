import numpy as np
import pytest
from support.backend import gradients
from support.metric_learning import encoder
from support.metric_learning import labelled_inputs

from keras_dlparts.losses import NPairsLoss
from keras_dlparts.testing import check_loss


def npairs_reference(l2_regularization):
    """Sohn (2016), eq. 6 with the same-class positives as soft targets,
    anchor by anchor in float64, plus the L2 regulariser."""

    def reference(labels, pairs):
        labels = np.ravel(labels)
        p = np.asarray(pairs, "float64")
        anchors, positives = p[:, 0], p[:, 1]
        n = len(labels)
        losses = []
        for i in range(n):
            logits = [anchors[i] @ positives[j] for j in range(n)]
            top = max(logits)
            log_z = top + np.log(sum(np.exp(x - top) for x in logits))
            targets = [j for j in range(n) if labels[j] == labels[i]]
            losses.append(np.mean([log_z - logits[j] for j in targets]))
        norms = [
            anchors[i] @ anchors[i] + positives[i] @ positives[i]
            for i in range(n)
        ]
        return np.mean(losses) + l2_regularization / 4 * np.mean(norms)

    return reference


def sohn_one_pair_per_class(pairs):
    """Sohn (2016), eq. 6, one pair per class:
    `mean_i log(1 + sum_{j != i} exp(f_i.f_j+ - f_i.f_i+))`."""
    p = np.asarray(pairs, "float64")
    s = p[:, 0] @ p[:, 1].T
    n = len(s)
    return np.mean(
        [
            np.log1p(sum(np.exp(s[i, j] - s[i, i]) for j in range(n) if j != i))
            for i in range(n)
        ]
    )


def tfa_npairs(labels, pairs, reg_lambda):
    """TFA's `npairs_loss` on the similarity matrix, plus the L2 term of
    TensorFlow contrib's `npairs_loss(labels, anchor, positive, reg_lambda)`,
    transcribed to NumPy."""
    p = np.asarray(pairs, "float64")
    anchor, positive = p[:, 0], p[:, 1]
    reg_anchor = np.mean(np.sum(anchor**2, 1))
    reg_positive = np.mean(np.sum(positive**2, 1))
    l2loss = 0.25 * reg_lambda * (reg_anchor + reg_positive)
    y_pred = anchor @ positive.T
    y_true = np.ravel(labels).astype("float64")[:, None]
    y_true = (y_true == y_true.T).astype("float64")
    y_true /= y_true.sum(1, keepdims=True)
    shifted = y_pred - y_pred.max(1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    return l2loss + np.mean(-(y_true * log_softmax).sum(1))


LABELS, X = labelled_inputs(4, views=2, noise=0.5)
rng = np.random.default_rng(0)
PAIRS = rng.normal(size=(8, 2, 4)).astype("float32")
PAIRS[1, 1] = PAIRS[1, 0]  # an anchor equal to its positive
PAIRS[3, 0] = 0.0  # a zero embedding


@pytest.mark.slow
def test_contract():
    check_loss(
        lambda: NPairsLoss(l2_regularization=0.01),
        LABELS,
        PAIRS,
        reference=npairs_reference(0.01),
        build_fn=lambda: encoder((2, 6)),
        x=X,
        y=LABELS,
    )


@pytest.mark.slow
def test_config_and_finite_gradients_under_xla_and_float16():
    check_loss(
        lambda: NPairsLoss(),
        LABELS,
        4 * PAIRS,
        only=["config", "finite_gradients"],
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("l2_regularization", [0.0, 0.002, 0.5])
@pytest.mark.slow
def test_matches_reference_and_tfa(seed, l2_regularization):
    r = np.random.default_rng(seed)
    labels = r.integers(0, 5, size=(10, 1))  # some classes repeat
    pairs = r.normal(size=(10, 2, 6)).astype("float32")
    loss = NPairsLoss(l2_regularization=l2_regularization)
    value, (gradient,) = gradients(lambda p: loss(labels, p), pairs)
    expected = npairs_reference(l2_regularization)(labels, pairs)
    assert float(value) == pytest.approx(expected, rel=1e-5)
    assert expected == pytest.approx(
        tfa_npairs(labels, pairs, l2_regularization)
    )
    assert np.all(np.isfinite(gradient))


@pytest.mark.parametrize("seed", range(3))
def test_one_pair_per_class_is_sohns_formula(seed):
    pairs = np.random.default_rng(seed).normal(size=(6, 2, 3))
    pairs = pairs.astype("float32")
    value = NPairsLoss(l2_regularization=0.0)(np.arange(6), pairs)
    assert float(value) == pytest.approx(sohn_one_pair_per_class(pairs), 1e-5)


def test_same_class_positives_are_not_negatives():
    # Pairs 0 and 1 share a class: each of the two anchors targets both
    # positives (weights 1/2), not only its own with the other a negative.
    pairs = np.array(
        [
            [[1.0, 0.0], [10.0, 0.0]],
            [[0.5, 0.0], [8.0, 0.0]],
            [[0.0, 1.0], [0.0, 10.0]],
        ]
    )
    value = NPairsLoss(l2_regularization=0.0)([0, 0, 2], pairs)

    def lse(*x):
        return np.log(np.sum(np.exp(x)))

    # logits: row 0 (10, 8, 0), row 1 (5, 4, 0), row 2 (0, 0, 10)
    rows = [lse(10, 8, 0) - 9, lse(5, 4, 0) - 4.5, lse(0, 0, 10) - 10]
    assert float(value) == pytest.approx(np.mean(rows), rel=1e-6)
    own_positive_only = [lse(10, 8, 0) - 10, lse(5, 4, 0) - 4, rows[2]]
    assert float(value) != pytest.approx(np.mean(own_positive_only))


@pytest.mark.slow
def test_large_inner_products_are_finite_in_float16():
    pairs = (30 * PAIRS).astype("float16")  # inner products in the 1000s
    loss = NPairsLoss()
    value, (gradient,) = gradients(lambda p: loss(LABELS, p), pairs)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    assert float(value) == pytest.approx(
        npairs_reference(0.002)(LABELS, pairs), rel=1e-3
    )


def test_empty_batch_gives_zero():
    assert float(NPairsLoss()(np.zeros(0), np.zeros((0, 2, 3)))) == 0.0


def test_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="`l2_regularization` must be"):
        NPairsLoss(l2_regularization=-0.1)
    with pytest.raises(TypeError, match="`l2_regularization` must be"):
        NPairsLoss(l2_regularization="0.1")
    with pytest.raises(ValueError, match=r"`y_pred` must have shape"):
        NPairsLoss()(LABELS, PAIRS[:, 0])
    with pytest.raises(ValueError, match="must have size 2 along axis 1"):
        NPairsLoss()(LABELS, np.ones((8, 3, 4)))
    with pytest.raises(ValueError, match=r"`y_true` must have shape"):
        NPairsLoss()(np.ones((8, 2)), PAIRS)
    with pytest.raises(ValueError, match="same batch size"):
        NPairsLoss()(LABELS[:6], PAIRS)
