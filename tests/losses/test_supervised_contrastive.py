import numpy as np
import pytest
from support.backend import gradients
from support.metric_learning import encoder
from support.metric_learning import labelled_inputs

from keras_dlparts.losses import SupervisedContrastiveLoss
from keras_dlparts.testing import check_loss


def unit_rows(e):
    e = np.asarray(e, "float64")
    norms = np.linalg.norm(e, axis=-1, keepdims=True)
    return np.where(norms > 0, e / np.where(norms > 0, norms, 1), 0.0)


def supcon_reference(temperature):
    """Khosla et al. (2020), eq. 2 (L^sup_out), anchor by anchor."""

    def reference(labels, embeddings):
        labels = np.ravel(labels)
        z = unit_rows(embeddings)
        if z.ndim == 3:  # views: every view an anchor with its label
            labels = np.repeat(labels, z.shape[1])
            z = z.reshape(-1, z.shape[-1])
        losses = []
        for i in range(len(z)):
            others = [a for a in range(len(z)) if a != i]
            positives = [p for p in others if labels[p] == labels[i]]
            if not positives:
                continue
            denominator = sum(np.exp(z[i] @ z[a] / temperature) for a in others)
            losses.append(
                -np.mean(
                    [
                        np.log(np.exp(z[i] @ z[p] / temperature) / denominator)
                        for p in positives
                    ]
                )
            )
        return np.mean(losses) if losses else 0.0

    return reference


def authors_supcon(labels, features, temperature):
    """The authors' `SupConLoss` (HobbitLong/SupContrast, contrast_mode
    "all", base_temperature = temperature) transcribed to NumPy."""
    features = unit_rows(features)
    batch, views = features.shape[:2]
    labels = np.ravel(labels)[:, None]
    mask = (labels == labels.T).astype("float64")
    contrast = np.concatenate([features[:, v] for v in range(views)], axis=0)
    logits = contrast @ contrast.T / temperature
    logits = logits - logits.max(axis=1, keepdims=True)
    mask = np.tile(mask, (views, views))
    logits_mask = 1 - np.eye(batch * views)
    mask = mask * logits_mask
    exp_logits = np.exp(logits) * logits_mask
    log_prob = logits - np.log(exp_logits.sum(1, keepdims=True))
    pairs = mask.sum(1)
    pairs = np.where(pairs < 1e-6, 1, pairs)
    mean_log_prob_pos = (mask * log_prob).sum(1) / pairs
    return np.mean(-mean_log_prob_pos)


LABELS, X = labelled_inputs(2, views=2, noise=1.0)
rng = np.random.default_rng(0)
VIEWS = rng.normal(size=(8, 2, 4)).astype("float32")
VIEWS[1, 1] = VIEWS[1, 0]  # coincident views
VIEWS[3, 0] = 0.0  # a zero vector


@pytest.mark.slow
def test_contract_with_two_views():
    check_loss(
        lambda: SupervisedContrastiveLoss(temperature=0.5),
        LABELS,
        VIEWS,
        reference=supcon_reference(0.5),
        build_fn=lambda: encoder((2, 6)),
        x=X,
        y=LABELS,
    )


@pytest.mark.slow
def test_config_and_finite_gradients_under_xla_and_float16():
    check_loss(
        lambda: SupervisedContrastiveLoss(temperature=0.05),
        LABELS,
        VIEWS,
        only=["config", "finite_gradients"],
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("temperature", [0.1, 0.7])
@pytest.mark.slow
def test_matches_reference_and_authors_code(seed, temperature):
    r = np.random.default_rng(seed)
    labels = r.integers(0, 4, size=12)
    views = r.normal(size=(12, 2, 5)).astype("float32")
    loss = SupervisedContrastiveLoss(temperature=temperature)
    value, (gradient,) = gradients(lambda v: loss(labels, v), views)
    expected = supcon_reference(temperature)(labels, views)
    assert float(value) == pytest.approx(expected, rel=1e-5)
    # With two views every anchor has a positive: the authors' mean over
    # all anchors is the same.
    assert expected == pytest.approx(authors_supcon(labels, views, temperature))
    assert np.all(np.isfinite(gradient))


@pytest.mark.parametrize("seed", range(3))
def test_one_view_leaves_out_anchors_without_positive(seed):
    r = np.random.default_rng(seed)
    labels = np.array([0, 0, 0, 1, 1, 2, 3, 4])  # 2, 3, 4: no positive
    embeddings = r.normal(size=(8, 3)).astype("float32")
    loss = SupervisedContrastiveLoss(temperature=0.3)
    assert float(loss(labels[:, None], embeddings)) == pytest.approx(
        supcon_reference(0.3)(labels, embeddings), rel=1e-5
    )


@pytest.mark.slow
def test_views_equal_their_flattened_batch():
    loss = SupervisedContrastiveLoss()
    flat_labels = np.repeat(LABELS, 2)
    assert float(loss(LABELS, VIEWS)) == pytest.approx(
        float(loss(flat_labels, VIEWS.reshape(16, 4))), rel=1e-6
    )


@pytest.mark.slow
def test_small_temperature_is_finite_in_float16():
    loss = SupervisedContrastiveLoss(temperature=0.01)  # logits up to 100
    views = VIEWS.astype("float16")
    value, (gradient,) = gradients(lambda v: loss(LABELS, v), views)
    assert np.isfinite(value) and np.all(np.isfinite(gradient))
    assert float(value) == pytest.approx(
        supcon_reference(0.01)(LABELS, views), rel=1e-3
    )


def test_no_positive_and_empty_batch_give_zero():
    loss = SupervisedContrastiveLoss()
    assert float(loss(np.arange(8), VIEWS[:, 0])) == 0.0
    assert float(loss(np.zeros(0), np.zeros((0, 2, 3)))) == 0.0


def test_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="`temperature` must be a positive"):
        SupervisedContrastiveLoss(temperature=0.0)
    with pytest.raises(TypeError, match="`temperature` must be"):
        SupervisedContrastiveLoss(temperature="0.1")
    loss = SupervisedContrastiveLoss()
    with pytest.raises(ValueError, match=r"`y_pred` must have shape"):
        loss(LABELS, VIEWS[..., None])
    with pytest.raises(ValueError, match=r"`y_true` must have shape"):
        loss(np.ones((8, 2)), VIEWS)
    with pytest.raises(ValueError, match="same batch size"):
        loss(LABELS[:6], VIEWS)
