"""evaluate_retrieval against NumPy written from Musgrave et al. (2020)."""

import numpy as np
import pytest

from keras_dlparts.retrieval import evaluate_retrieval


def reference_scores(queries, query_labels, refs, ref_labels, ks, metric):
    """The definitions, query by query, over a full argsort."""
    leave_one_out = refs is None
    if leave_one_out:
        refs, ref_labels = queries, query_labels
    q, r = queries.astype("float64"), refs.astype("float64")
    if metric == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        r = r / np.linalg.norm(r, axis=1, keepdims=True)
        distances = 1 - q @ r.T
    else:
        distances = np.sqrt(((q[:, None] - r[None]) ** 2).sum(-1))
    totals = {f"{m}@{k}": [] for k in ks for m in ("recall", "precision")}
    totals["map@r"] = []
    for i, label in enumerate(query_labels):
        order = np.argsort(distances[i], kind="stable")
        if leave_one_out:
            order = order[order != i]
        same = ref_labels[order] == label
        big_r = int(np.sum(ref_labels == label)) - int(leave_one_out)
        if big_r == 0:
            continue
        for k in ks:
            totals[f"recall@{k}"].append(same[:k].any())
            totals[f"precision@{k}"].append(same[:k].sum() / k)
        precision_at = [same[: j + 1].sum() / (j + 1) for j in range(big_r)]
        totals["map@r"].append(
            sum(p * same[j] for j, p in enumerate(precision_at)) / big_r
        )
    return {name: float(np.mean(v)) for name, v in totals.items()}


def data(n, classes, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=n)
    centers = rng.normal(size=(classes, 5))
    x = centers[labels] + rng.normal(size=(n, 5))
    return x.astype("float32"), labels


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_leave_one_out_matches_the_definitions(metric):
    x, labels = data(40, 4, seed=1)  # R about 9: deeper than max(ks)
    scores = evaluate_retrieval(x, labels, ks=(1, 3, 5), metric=metric)
    expected = reference_scores(x, labels, None, None, (1, 3, 5), metric)
    assert list(scores) == list(expected)
    for name, value in expected.items():
        assert scores[name] == pytest.approx(value, abs=1e-6), name


def test_separate_references_and_skipped_queries():
    queries, query_labels = data(15, 3, seed=2)
    refs, ref_labels = data(25, 3, seed=3)
    query_labels[:2] = 7  # no reference of label 7: skipped
    scores = evaluate_retrieval(
        queries, query_labels, refs, ref_labels, ks=(1, 2), metric="cosine"
    )
    expected = reference_scores(
        queries, query_labels, refs, ref_labels, (1, 2), "cosine"
    )
    assert scores == pytest.approx(expected, abs=1e-6)


def test_perfect_and_worst_retrieval():
    x = np.array([[1, 0], [1, 0.1], [0, 1], [0.1, 1]], "float32")
    best = evaluate_retrieval(x, [0, 0, 1, 1], ks=(1,))
    worst = evaluate_retrieval(x, [0, 1, 1, 0], ks=(1,))
    assert best == {"recall@1": 1.0, "precision@1": 1.0, "map@r": 1.0}
    assert worst == {"recall@1": 0.0, "precision@1": 0.0, "map@r": 0.0}


X = np.eye(4, dtype="float32")


@pytest.mark.parametrize(
    "change, name",
    [
        ({"ks": (4,)}, "ks"),  # 3 references in leave-one-out
        ({"ks": (0,)}, "ks"),
        ({"metric": "l1"}, "metric"),
        ({"query_labels": [0, 1, 1]}, "query_labels"),
        ({"query_labels": [0, 1, 2, 3]}, "query_labels"),  # R = 0 for all
        ({"query_embeddings": np.ones(4)}, "query_embeddings"),
        ({"reference_embeddings": X}, "reference_labels"),
        (
            {"reference_embeddings": X[:, :2], "reference_labels": [0] * 4},
            "reference_embeddings",
        ),
        (
            {"reference_embeddings": X, "reference_labels": [0, 1]},
            "reference_labels",
        ),
    ],
)
def test_bad_arguments_are_refused_by_name(change, name):
    args = dict(query_embeddings=X, query_labels=[0, 1, 1, 0], ks=(1,))
    args.update(change)
    with pytest.raises((ValueError, TypeError), match=f"`{name}`"):
        evaluate_retrieval(**args)
