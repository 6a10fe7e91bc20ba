import numpy as np
import pytest
from support.backend import gradients

from keras_dlparts.losses import TripletLoss
from keras_dlparts.testing import check_loss

# ---- NumPy references, written from the definitions ----------------------


def distances(embeddings, kind):
    e = np.asarray(embeddings, "float64")
    diff = e[:, None, :] - e[None, :, :]
    squared = np.sum(diff**2, axis=-1)
    if kind == "squared_l2":
        return squared
    if kind == "l2":
        return np.sqrt(squared)
    norms = np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-12)
    unit = e / norms
    d = 1 - unit @ unit.T
    np.fill_diagonal(d, 0.0)
    return np.maximum(d, 0.0)


def triplets(labels):
    labels = np.ravel(labels)
    n = len(labels)
    for a in range(n):
        for p in range(n):
            if p == a or labels[p] != labels[a]:
                continue
            yield a, p, [k for k in range(n) if labels[k] != labels[a]]


def semi_hard_reference(labels, d, margin):
    """FaceNet's semi-hard negatives, with TFA's fallback to the farthest."""
    losses = []
    for a, p, negatives in triplets(labels):
        if not negatives:
            continue
        farther = [d[a, k] for k in negatives if d[a, k] > d[a, p]]
        chosen = min(farther) if farther else max(d[a, k] for k in negatives)
        losses.append(max(d[a, p] - chosen + margin, 0.0))
    return np.mean(losses) if losses else 0.0


def batch_hard_reference(labels, d, margin):
    per_anchor = {}
    for a, p, negatives in triplets(labels):
        if negatives:
            hardest_negative = min(d[a, k] for k in negatives)
            current = per_anchor.get(a, -np.inf)
            per_anchor[a] = max(current, d[a, p] + margin - hardest_negative)
    values = [max(v, 0.0) for v in per_anchor.values()]
    return np.mean(values) if values else 0.0


def batch_all_reference(labels, d, margin):
    losses = [
        d[a, p] - d[a, k] + margin
        for a, p, negatives in triplets(labels)
        for k in negatives
    ]
    positive = [x for x in losses if x > 0]
    return np.mean(positive) if positive else 0.0


def tfa_semi_hard(labels, d, margin):
    """TFA's vectorised `triplet_semihard_loss`, transcribed to NumPy."""
    labels = np.ravel(labels)[:, None]
    n = len(labels)
    adjacency = labels == labels.T
    adjacency_not = ~adjacency
    d_tile = np.tile(d, [n, 1])
    mask = np.tile(adjacency_not, [n, 1]) & (d_tile > d.T.reshape(-1, 1))
    mask_final = (mask.sum(1, keepdims=True) > 0).reshape(n, n).T
    maxs = d_tile.max(1, keepdims=True)
    outside = ((d_tile - maxs) * mask).min(1, keepdims=True) + maxs
    outside = outside.reshape(n, n).T
    mins = d.min(1, keepdims=True)
    inside = ((d - mins) * adjacency_not).max(1, keepdims=True) + mins
    inside = np.tile(inside, [1, n])
    semi_hard_negatives = np.where(mask_final, outside, inside)
    loss_mat = margin + d - semi_hard_negatives
    mask_positives = adjacency.astype(float) - np.eye(n)
    return (
        np.sum(np.maximum(loss_mat * mask_positives, 0)) / mask_positives.sum()
    )


REFERENCES = {
    "semi_hard": semi_hard_reference,
    "batch_hard": batch_hard_reference,
    "batch_all": batch_all_reference,
}


def reference(mining, distance, margin):
    def value(labels, embeddings):
        return REFERENCES[mining](
            labels, distances(embeddings, distance), margin
        )

    return value


rng = np.random.default_rng(0)
LABELS = np.array([0, 0, 1, 1, 2, 2, 0, 1])
EMBEDDINGS = rng.normal(size=(8, 4)).astype("float32")
EMBEDDINGS[1] = EMBEDDINGS[0]  # coincident: sqrt(0) must not give NaN


# ---- Tests ----------------------------------------------------------------


@pytest.mark.slow
def test_contract_semi_hard_l2():
    check_loss(
        lambda: TripletLoss(margin=1.0, mining="semi_hard", distance="l2"),
        LABELS,
        EMBEDDINGS,
        reference=reference("semi_hard", "l2", 1.0),
    )


@pytest.mark.parametrize("mining", sorted(REFERENCES))
@pytest.mark.parametrize("distance", ["l2", "squared_l2", "cosine"])
@pytest.mark.slow
def test_matches_reference(mining, distance):
    margin = 0.3 if distance == "cosine" else 1.0
    embeddings = rng.normal(size=(12, 5)).astype("float32")
    labels = rng.integers(0, 3, size=(12, 1))
    loss = TripletLoss(margin=margin, mining=mining, distance=distance)
    expected = reference(mining, distance, margin)(labels, embeddings)
    assert float(loss(labels, embeddings)) == pytest.approx(
        expected, rel=1e-5, abs=1e-6
    )


@pytest.mark.parametrize("seed", range(5))
def test_semi_hard_follows_tfa_algorithm(seed):
    r = np.random.default_rng(seed)
    labels = r.integers(0, 4, size=16)
    embeddings = r.normal(size=(16, 3)).astype("float32")
    d = distances(embeddings, "l2")
    ours = float(TripletLoss(mining="semi_hard")(labels, embeddings))
    assert semi_hard_reference(labels, d, 1.0) == pytest.approx(
        tfa_semi_hard(labels, d, 1.0)
    )
    assert ours == pytest.approx(tfa_semi_hard(labels, d, 1.0), rel=1e-5)


@pytest.mark.parametrize("mining", sorted(REFERENCES))
@pytest.mark.parametrize("distance", ["l2", "cosine"])
@pytest.mark.slow
def test_gradients_finite_under_xla_and_float16(mining, distance):
    embeddings = np.array(EMBEDDINGS)
    embeddings[2] = 0.0  # zero vector: the cosine's normalisation is safe
    check_loss(
        lambda: TripletLoss(mining=mining, distance=distance),
        LABELS,
        embeddings,
        only=["finite_gradients"],
    )


@pytest.mark.slow
def test_coincident_embeddings_get_zero_gradient_from_their_distance():
    embeddings = np.array([[1.0, 2.0], [1.0, 2.0], [1.0, 2.0]], "float32")
    value, (gradient,) = gradients(
        lambda e: TripletLoss(margin=0.5, mining="batch_hard")(
            np.array([0, 0, 1]), e
        ),
        embeddings,
    )
    # All three coincide: loss = margin; the distances' gradient is 0
    # there (a plain sqrt would give NaN).
    assert float(value) == pytest.approx(0.5)
    np.testing.assert_array_equal(gradient, 0.0)


@pytest.mark.slow
def test_batch_without_positive_pairs_is_zero_not_nan():
    loss = TripletLoss()
    assert float(loss(np.arange(4), EMBEDDINGS[:4])) == 0.0


def test_label_shapes_batch_and_batch_by_one_agree():
    loss = TripletLoss(mining="batch_all")
    assert float(loss(LABELS, EMBEDDINGS)) == pytest.approx(
        float(loss(LABELS[:, None], EMBEDDINGS))
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"margin": -1.0}, "`margin` must be a finite number >= 0"),
        ({"margin": float("nan")}, "`margin` must be a finite number >= 0"),
        ({"margin": float("inf")}, "`margin` must be a finite number >= 0"),
        ({"mining": "hard"}, "`mining` must be one of"),
        ({"distance": "L2"}, "`distance` must be one of"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TripletLoss(**kwargs)


def test_bad_shapes():
    with pytest.raises(
        ValueError, match=r"`y_pred` must have shape \(batch, features\)"
    ):
        TripletLoss()(LABELS, EMBEDDINGS[:, :, None])
    with pytest.raises(
        ValueError, match=r"`y_true` must have shape \(batch,\) or \(batch, 1\)"
    ):
        TripletLoss()(np.ones((8, 2)), EMBEDDINGS)


def test_mismatched_batches_and_empty_batch():
    with pytest.raises(
        ValueError, match="`y_true` and `y_pred` must have the same"
    ):
        TripletLoss()(LABELS[:-1], EMBEDDINGS)
    for mining in ("semi_hard", "batch_hard", "batch_all"):
        empty = TripletLoss(mining=mining)(np.zeros((0,)), np.zeros((0, 3)))
        assert float(empty) == 0.0
