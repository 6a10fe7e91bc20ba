import numpy as np
import pytest
from support.backend import gradients
from support.metric_learning import encoder
from support.metric_learning import labelled_inputs

from keras_dlparts.losses import MultiSimilarityLoss
from keras_dlparts.testing import check_loss


def multi_similarity_reference(alpha=2.0, beta=50.0, base=0.5, epsilon=0.1):
    """Wang et al. (2019), eq. 12-14, anchor by anchor in float64."""

    def reference(labels, embeddings):
        labels = np.ravel(labels)
        e = np.asarray(embeddings, "float64")
        norms = np.linalg.norm(e, axis=1, keepdims=True)
        unit = np.where(norms > 0, e / np.where(norms > 0, norms, 1), 0.0)
        s = unit @ unit.T
        losses = []
        for i in range(len(labels)):
            pos = [
                s[i, j]
                for j in range(len(labels))
                if j != i and labels[j] == labels[i]
            ]
            neg = [
                s[i, k] for k in range(len(labels)) if labels[k] != labels[i]
            ]
            if not pos:
                continue
            kept_neg = [x for x in neg if x + epsilon > min(pos)]
            kept_pos = [x for x in pos if neg and x - epsilon < max(neg)]
            loss = (
                np.log1p(sum(np.exp(-alpha * (x - base)) for x in kept_pos))
                / alpha
                + np.log1p(sum(np.exp(beta * (x - base)) for x in kept_neg))
                / beta
            )
            losses.append(loss)
        return np.mean(losses) if losses else 0.0

    return reference


LABELS, X = labelled_inputs(1, noise=1.0)
EMBEDDINGS = np.random.default_rng(1).normal(size=(8, 4)).astype("float32")
EMBEDDINGS[1] = EMBEDDINGS[0]  # coincident
EMBEDDINGS[2] = 0.0  # a zero vector: the normalisation is safe


@pytest.mark.slow
def test_contract():
    check_loss(
        lambda: MultiSimilarityLoss(beta=10.0),
        LABELS,
        EMBEDDINGS,
        reference=multi_similarity_reference(beta=10.0),
        build_fn=lambda: encoder((6,)),
        x=X,
        y=LABELS,
    )


@pytest.mark.slow
def test_config_and_finite_gradients_under_xla_and_float16():
    check_loss(
        lambda: MultiSimilarityLoss(alpha=3.0, beta=40.0, base=0.4),
        LABELS,
        EMBEDDINGS,
        only=["config", "finite_gradients"],
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"alpha": 1.0, "beta": 10.0, "base": 0.0, "epsilon": 0.3}],
)
@pytest.mark.slow
def test_matches_reference_with_mining(seed, kwargs):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, size=(16, 1))
    embeddings = rng.normal(size=(16, 5)).astype("float32")
    expected = multi_similarity_reference(**kwargs)(labels, embeddings)
    value, (gradient,) = gradients(
        lambda e: MultiSimilarityLoss(**kwargs)(labels, e), embeddings
    )
    assert float(value) == pytest.approx(expected, rel=1e-5, abs=1e-6)
    assert np.all(np.isfinite(gradient))


@pytest.mark.slow
def test_mining_drops_easy_pairs():
    # Every positive is more similar than every negative by more than
    # epsilon: nothing is mined and the loss is exactly 0.
    embeddings = np.array([[1.0, 0.0], [1.0, 0.1], [0.0, 1.0], [0.1, 1.0]])
    assert float(MultiSimilarityLoss()(np.array([0, 0, 1, 1]), embeddings)) == 0
    # With a large epsilon every pair is kept.
    loose = MultiSimilarityLoss(epsilon=2.0)(np.array([0, 0, 1, 1]), embeddings)
    assert float(loose) == pytest.approx(
        multi_similarity_reference(epsilon=2.0)([0, 0, 1, 1], embeddings),
        rel=1e-5,
    )
    assert float(loose) > 0


@pytest.mark.slow
def test_large_beta_is_finite_in_float16():
    # beta (S - base) = 500: a plain exp overflows float32.
    loss = MultiSimilarityLoss(beta=1000.0, base=0.5)
    embeddings = np.array([[1, 0], [0, 1], [1, 0.01], [0.01, 1]], "float16")
    labels = np.array([0, 1, 1, 0])
    value, (gradient,) = gradients(lambda e: loss(labels, e), embeddings)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    assert float(value) == pytest.approx(
        multi_similarity_reference(beta=1000.0)(labels, embeddings), rel=1e-3
    )


@pytest.mark.slow
def test_no_positive_pairs_and_empty_batch_give_zero():
    assert float(MultiSimilarityLoss()(np.arange(8), EMBEDDINGS)) == 0.0
    assert float(MultiSimilarityLoss()(np.zeros(0), np.zeros((0, 3)))) == 0.0


def test_label_shapes_agree():
    loss = MultiSimilarityLoss()
    assert float(loss(LABELS, EMBEDDINGS)) == pytest.approx(
        float(loss(LABELS[:, None], EMBEDDINGS))
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"alpha": 0.0}, ValueError, "`alpha` must be a positive"),
        ({"beta": float("inf")}, ValueError, "`beta` must be a positive"),
        ({"base": float("nan")}, ValueError, "`base` must be a finite"),
        ({"epsilon": -0.1}, ValueError, "`epsilon` must be a finite number"),
        ({"alpha": "2"}, TypeError, "`alpha` must be"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        MultiSimilarityLoss(**kwargs)


def test_bad_shapes():
    with pytest.raises(ValueError, match=r"`y_pred` must have shape"):
        MultiSimilarityLoss()(LABELS, EMBEDDINGS[:, :, None])
    with pytest.raises(ValueError, match=r"`y_true` must have shape"):
        MultiSimilarityLoss()(np.ones((8, 2)), EMBEDDINGS)
    with pytest.raises(ValueError, match="same batch size"):
        MultiSimilarityLoss()(LABELS[:-2], EMBEDDINGS)
