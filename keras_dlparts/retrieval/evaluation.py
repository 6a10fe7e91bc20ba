"""Retrieval quality of embeddings: recall@k, precision@k and MAP@R."""

import keras
import numpy as np

from keras_dlparts import _validation
from keras_dlparts.retrieval.search import top_k_neighbors


def _embeddings(name, value):
    _validation.check_rank(name, value, 2)
    if not keras.ops.is_tensor(value):
        value = np.asarray(value, "float32")
    return value


def _given(value):
    return "missing (None)" if value is None else "given"


def neighbor_labels(
    query_embeddings,
    query_labels,
    reference_embeddings,
    reference_labels,
    k,
    metric,
):
    """`(labels of the k nearest references, R)` of every query.

    `R` counts the references that share the query's label. Without
    references, each query is searched among the queries and leaves itself
    out (its own row is dropped from `k + 1` neighbours; should duplicates
    with lower indices push it out, the farthest is dropped instead).
    """
    leave_one_out = reference_embeddings is None
    if leave_one_out:
        reference_embeddings, reference_labels = (
            query_embeddings,
            query_labels,
        )
    values, counts = np.unique(reference_labels, return_counts=True)
    position = np.searchsorted(values, query_labels)
    position = np.minimum(position, len(values) - 1)
    found = values[position] == query_labels
    r = np.where(found, counts[position], 0) - int(leave_one_out)
    available = len(reference_labels) - int(leave_one_out)
    depth = min(max(k, int(r.max(initial=0))), available)
    _, ids = top_k_neighbors(
        query_embeddings,
        reference_embeddings,
        depth + int(leave_one_out),
        metric,
    )
    ids = keras.ops.convert_to_numpy(ids)
    if leave_one_out:
        own = ids == np.arange(len(ids))[:, None]
        own[~own.any(axis=1), -1] = True
        ids = ids[~own].reshape(len(ids), depth)
    return reference_labels[ids], r


def evaluate_retrieval(
    query_embeddings,
    query_labels,
    reference_embeddings=None,
    reference_labels=None,
    ks=(1, 5),
    metric="cosine",
):
    """Recall@k, precision@k and MAP@R of a retrieval, exactly searched.

    As defined by Musgrave et al. (2020, "A Metric Learning Reality
    Check"), over the neighbours of each query ranked by `metric` (see
    `top_k_neighbors`; equal distances go to the lower index):

    - `recall@k`: the fraction of queries with at least one reference of
      their label among their `k` nearest;
    - `precision@k`: the mean fraction of references of the query's label
      among its `k` nearest;
    - `map@r`: with `R` the number of references sharing the query's
      label, the mean over queries of `(1/R) sum_{i<=R} P(i) rel(i)`, where
      `rel(i)` is 1 when the `i`-th neighbour shares the label and `P(i)`
      is the precision among the first `i`.

    Without references, each query is searched among the other queries
    (leave-one-out: it is never its own neighbour, and `R` does not count
    it). Queries with `R = 0` (no reference of their label) are skipped
    by every score.

    Args:
        query_embeddings: `(num_queries, features)` array or tensor.
        query_labels: `(num_queries,)` integer class labels.
        reference_embeddings: optional `(num_references, features)`.
        reference_labels: `(num_references,)` labels, given with
            `reference_embeddings` (and only with them).
        ks: the cut-offs `k` of recall@k and precision@k.
        metric: `"cosine"`, `"euclidean"` or `"dot"`.

    Returns:
        A dict of floats: `"recall@k"` and `"precision@k"` for each `k` in
        `ks`, then `"map@r"`.

    Raises:
        ValueError: for a `k` above the number of references (less one
            without references), mismatched lengths or feature sizes, or
            when no query has a reference of its label.

    Example:

        Four points on a line, leave-one-out; point 2 is alone in its class
        and skipped. Point 3's nearest (point 2) is of another class, then
        come points 1 and 0, so its AP@R is `(0 + 1/2) / 2`:

        >>> import numpy as np
        >>> x = np.array([[0.0], [1.0], [5.0], [6.0]])
        >>> scores = evaluate_retrieval(x, [0, 0, 1, 0], ks=(1, 2),
        ...                             metric="euclidean")
        >>> {name: round(v, 4) for name, v in scores.items()}
        {'recall@1': 0.6667, 'precision@1': 0.6667, 'recall@2': 1.0, \
'precision@2': 0.5, 'map@r': 0.4167}
    """
    _validation.one_of("metric", metric, ("cosine", "euclidean", "dot"))
    ks = _validation.positive_ints("ks", ks)
    query_embeddings = _embeddings("query_embeddings", query_embeddings)
    num_queries = _validation.static_shape(query_embeddings)[0]
    if num_queries == 0:
        raise ValueError(
            "Argument `query_embeddings` must hold at least one query. "
            "Received: query_embeddings.shape="
            f"{_validation.static_shape(query_embeddings)}"
        )
    query_labels = _validation.class_labels(
        "query_labels", query_labels, length=num_queries
    )
    if (reference_embeddings is None) != (reference_labels is None):
        raise ValueError(
            "Arguments `reference_embeddings` and `reference_labels` must "
            "be given together (or neither, for leave-one-out). Received: "
            f"reference_embeddings {_given(reference_embeddings)}, "
            f"reference_labels {_given(reference_labels)}"
        )
    if reference_embeddings is None:
        available = num_queries - 1
    else:
        reference_embeddings = _embeddings(
            "reference_embeddings", reference_embeddings
        )
        _validation.same_axis_size(
            ("query_embeddings", query_embeddings),
            ("reference_embeddings", reference_embeddings),
            axis=-1,
        )
        available = _validation.static_shape(reference_embeddings)[0]
        reference_labels = _validation.class_labels(
            "reference_labels", reference_labels, length=available
        )
    if max(ks) > available:
        raise ValueError(
            f"Argument `ks` must hold cut-offs of at most {available}, the "
            f"number of references{' less one' * (reference_labels is None)}."
            f" Received: ks={ks}"
        )
    labels, r = neighbor_labels(
        query_embeddings,
        query_labels,
        reference_embeddings,
        reference_labels,
        max(ks),
        metric,
    )
    kept = r > 0
    if not np.any(kept):
        raise ValueError(
            "Argument `query_labels` must have, for some query, a reference "
            "of the same label: no retrieval score is defined otherwise. "
            f"Received: query_labels={query_labels[:10].tolist()}..."
        )
    relevant = labels[kept] == query_labels[kept, None]
    r = r[kept]
    scores = {}
    for k in ks:
        scores[f"recall@{k}"] = float(np.mean(relevant[:, :k].any(axis=1)))
        scores[f"precision@{k}"] = float(np.mean(relevant[:, :k].mean(axis=1)))
    ranks = np.arange(1, relevant.shape[1] + 1)
    within_r = ranks[None, :] <= r[:, None]
    hits = relevant & within_r
    precision_at_i = np.cumsum(hits, axis=1) / ranks
    average = np.sum(precision_at_i * hits, axis=1) / r
    scores["map@r"] = float(np.mean(average))
    return scores
