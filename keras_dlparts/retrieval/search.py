"""Exact k-nearest-neighbour search in chunks, with `keras.ops` only."""

import keras
import numpy as np
from keras import ops

from keras_dlparts import _validation

METRICS = ("cosine", "euclidean", "dot")

# The compiled steps, one per backend and function (traced once per shape).
_COMPILED = {}


def _compile(name, fn):
    """`fn` compiled for the active backend, cached by `name`."""
    backend = keras.backend.backend()
    key = (backend, name)
    if key not in _COMPILED:
        if backend == "jax":
            import jax  # JAX-only branch.

            _COMPILED[key] = jax.jit(fn)
        elif backend == "tensorflow":
            import tensorflow as tf  # TF-only branch.

            _COMPILED[key] = tf.function(fn, jit_compile=True)
        else:
            _COMPILED[key] = fn
    return _COMPILED[key]


def _unit(x):
    norm = ops.sqrt(ops.sum(ops.square(x), axis=-1, keepdims=True))
    return x / ops.maximum(norm, 1e-12)


def prepare_queries(queries, metric):
    """Queries as the search scores them: `score = q' . r' + bias(r)`."""
    if metric == "cosine":
        return _unit(queries)
    if metric == "euclidean":
        return 2.0 * queries
    return queries


def _prepare_chunk(metric):
    """Compiled `(chunk, valid) -> (chunk', bias)`; rows >= valid: -inf."""

    def prepare(chunk, valid):
        if metric == "cosine":
            chunk = _unit(chunk)
        if metric == "euclidean":
            bias = -ops.sum(ops.square(chunk), axis=-1)
        else:
            bias = ops.zeros(ops.shape(chunk)[:1], chunk.dtype)
        rows = ops.arange(ops.shape(chunk)[0], dtype="int32")
        bias = ops.where(rows < valid, bias, float("-inf"))
        return chunk, bias

    return _compile(f"prepare_{metric}", prepare)


def _merge_step(queries, chunk, bias, offset, best_scores, best_ids):
    """The running top-k of `queries` merged with one reference chunk.

    The best so far come first in the concatenation and hold lower ids, so
    `top_k` (which keeps the earlier of equal values) breaks ties by id.
    """
    k = best_scores.shape[-1]
    scores = ops.matmul(queries, ops.transpose(chunk)) + bias
    chunk_scores, chunk_ids = ops.top_k(scores, min(k, chunk.shape[0]))
    scores = ops.concatenate([best_scores, chunk_scores], axis=-1)
    ids = ops.concatenate([best_ids, chunk_ids + offset], axis=-1)
    best_scores, where = ops.top_k(scores, k)
    return best_scores, ops.take_along_axis(ids, where, axis=-1)


def finish_distances(scores, queries, metric):
    """Distances (smaller is nearer) from the scores of `prepare_queries`."""
    if metric == "cosine":
        return 1.0 - scores
    if metric == "dot":
        return -scores
    squared = ops.sum(ops.square(queries), axis=-1, keepdims=True) - scores
    return ops.sqrt(ops.maximum(squared, 0.0))


def _pad_rows(chunk, rows):
    missing = rows - chunk.shape[0]
    if missing == 0:
        return chunk
    return ops.pad(chunk, [[0, missing], [0, 0]])


def _static_size(name, value, axis):
    size = _validation.static_shape(value)[axis]
    if size is None:
        raise ValueError(
            f"Argument `{name}` must have a known size along axis {axis} "
            f"(the search is chunked by it). Received: "
            f"{name}.shape={_validation.static_shape(value)}"
        )
    return size


def check_search(
    queries,
    references,
    k,
    metric,
    query_chunk_size=1,
    reference_chunk_size=1,
    num_references=None,
):
    """Raises ValueError/TypeError naming the argument of a bad search."""
    _validation.one_of("metric", metric, METRICS)
    _validation.positive_int("query_chunk_size", query_chunk_size)
    _validation.positive_int("reference_chunk_size", reference_chunk_size)
    k = _validation.positive_int("k", k)
    _validation.check_rank("queries", queries, 2)
    if references is not None:
        _validation.check_rank("references", references, 2)
        _validation.same_axis_size(
            ("queries", queries), ("references", references), axis=-1
        )
        num_references = _static_size("references", references, 0)
    if k > num_references:
        raise ValueError(
            "Argument `k` must be at most the number of references "
            f"({num_references}). Received: k={k}"
        )
    return k


def chunked_search(
    queries,
    reference_chunks,
    num_references,
    k,
    metric,
    query_chunk_size,
    reference_chunk_size,
):
    """The search over `reference_chunks`: `(start, rows)` pairs, in order.

    Each chunk has at most `reference_chunk_size` rows (the last is padded
    to it, so each step is compiled once). Returns `(distances, ids)`.
    """
    queries = ops.cast(ops.convert_to_tensor(queries), "float32")
    # `None`: a batch of unknown size (inside a TensorFlow `predict`
    # graph), searched as one block.
    num_queries = _validation.static_shape(queries)[0]
    if num_queries == 0:
        return (
            ops.zeros((0, k), "float32"),
            ops.zeros((0, k), "int32"),
        )
    reference_rows = min(reference_chunk_size, num_references)
    if num_queries is None:
        query_rows = ops.shape(queries)[0]
        blocks = [prepare_queries(queries, metric)]
    else:
        query_rows = min(query_chunk_size, num_queries)
        prepared = _pad_rows(
            prepare_queries(queries, metric),
            -(-num_queries // query_rows) * query_rows,
        )
        starts = range(0, num_queries, query_rows)
        blocks = [prepared[s : s + query_rows] for s in starts]
    best = [
        (
            ops.full((query_rows, k), float("-inf"), "float32"),
            ops.zeros((query_rows, k), "int32"),
        )
        for _ in blocks
    ]
    prepare = _prepare_chunk(metric)
    step = _compile("merge", _merge_step)
    for start, rows in reference_chunks:
        valid = rows.shape[0]
        rows = _pad_rows(
            ops.cast(ops.convert_to_tensor(rows), "float32"), reference_rows
        )
        chunk, bias = prepare(rows, ops.convert_to_tensor(valid, "int32"))
        offset = ops.convert_to_tensor(start, "int32")
        best = [
            step(block, chunk, bias, offset, *state)
            for block, state in zip(blocks, best)
        ]
    scores = ops.concatenate([s for s, _ in best], axis=0)[:num_queries]
    ids = ops.concatenate([i for _, i in best], axis=0)[:num_queries]
    return finish_distances(scores, queries, metric), ids


def top_k_neighbors(
    queries,
    references,
    k,
    metric="cosine",
    query_chunk_size=2048,
    reference_chunk_size=2048,
):
    """The `k` nearest references of every query, exactly, best first.

    The distance matrix is never formed: references are read in chunks of
    `reference_chunk_size` rows, each scored against the queries in chunks
    of `query_chunk_size` rows, and a running top-k is merged chunk by
    chunk with `ops.top_k`. Memory is about
    `query_chunk_size * reference_chunk_size` floats besides the inputs.
    Each step is compiled once per chunk shape (the last chunks are padded
    to it); a NumPy `references` array is moved to the device one chunk at
    a time. The number of references must be known (static); queries of
    unknown number (a batch in a TensorFlow graph) are scored in one block.

    Distances, smaller is nearer: `"cosine"` gives `1 - cos(q, r)` (each
    vector is normalised once; a zero vector has cosine 0 to all),
    `"euclidean"` the L2 distance, from `|q|^2 - 2 q.r + |r|^2` clamped at
    0 before the square root, and `"dot"` gives `-(q . r)`. Equal scores
    are ordered by the lower reference index. Computed in float32.

    Args:
        queries: `(num_queries, features)` array or tensor.
        references: `(num_references, features)` array or tensor.
        k: how many neighbours, `1 <= k <= num_references`.
        metric: `"cosine"`, `"euclidean"` or `"dot"`.
        query_chunk_size: queries scored per step.
        reference_chunk_size: references scored per step.

    Returns:
        `(distances, indices)`: float32 and int32 tensors shaped
        `(num_queries, k)`, nearest first.

    Raises:
        ValueError: for a `k` outside `[1, num_references]`, inputs not of
            rank 2, different feature sizes, or an unknown metric.

    Example:

        >>> import numpy as np
        >>> refs = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]])
        >>> d, i = top_k_neighbors(np.array([[0.9, 0.0]]), refs, k=2,
        ...                        metric="euclidean")
        >>> np.asarray(i).tolist(), np.round(np.asarray(d), 3).tolist()
        ([[2, 0]], [[0.1, 0.9]])
    """
    k = check_search(
        queries, references, k, metric, query_chunk_size, reference_chunk_size
    )
    num_references = _static_size("references", references, 0)
    if isinstance(references, (list, tuple)):
        references = np.asarray(references, "float32")
    rows = min(reference_chunk_size, num_references)
    chunks = (
        (start, references[start : start + rows])
        for start in range(0, num_references, rows)
    )
    return chunked_search(
        queries,
        chunks,
        num_references,
        k,
        metric,
        query_chunk_size,
        reference_chunk_size,
    )
