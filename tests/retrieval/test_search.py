"""top_k_neighbors against NumPy brute force (argsort), on every metric."""

import keras
import numpy as np
import pytest

from keras_dlparts.retrieval import top_k_neighbors
from keras_dlparts.retrieval.search import METRICS


def brute_force(queries, references, k, metric):
    """(distances, indices) by the formula, ties to the lower index."""
    q = queries.astype("float64")
    r = references.astype("float64")
    if metric == "cosine":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        r = r / np.linalg.norm(r, axis=1, keepdims=True)
        distances = 1.0 - q @ r.T
    elif metric == "dot":
        distances = -(q @ r.T)
    else:
        distances = np.sqrt(((q[:, None] - r[None]) ** 2).sum(-1))
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(distances, order, axis=1), order


def data(num_queries=13, num_references=29, features=6, seed=0):
    rng = np.random.default_rng(seed)
    return (
        rng.normal(size=(num_queries, features)).astype("float32"),
        rng.normal(size=(num_references, features)).astype("float32"),
    )


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(
    "k, query_chunk, reference_chunk",
    [
        (3, 4, 8),  # chunk sizes that do not divide 13 and 29
        (11, 5, 7),  # k larger than a reference chunk
        (29, 64, 6),  # k = every reference
        (1, 2048, 2048),  # the defaults: one chunk each
    ],
)
@pytest.mark.slow
def test_matches_brute_force(metric, k, query_chunk, reference_chunk):
    queries, references = data()
    distances, indices = top_k_neighbors(
        queries, references, k, metric, query_chunk, reference_chunk
    )
    expected_d, expected_i = brute_force(queries, references, k, metric)
    assert tuple(distances.shape) == tuple(indices.shape) == (13, k)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(indices), expected_i
    )
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(distances), expected_d, atol=2e-5
    )


@pytest.mark.parametrize("metric", METRICS)
def test_ties_go_to_the_lower_index(metric):
    base = np.array([[1.0, 2.0], [-1.0, 0.5], [0.3, 0.3]], "float32")
    references = np.concatenate([base, base, base])  # 0, 3, 6 are equal
    _, indices = top_k_neighbors(base[:1], references, 3, metric, 1, 2)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(indices), [[0, 3, 6]]
    )


def test_euclidean_distance_to_itself_is_zero_not_nan():
    queries, _ = data()
    distances, indices = top_k_neighbors(
        queries * 10, queries * 10, 1, "euclidean"
    )
    # Rounding in |q|^2 - 2 q.r + |r|^2 may go below 0: clamped, no NaN.
    distances = keras.ops.convert_to_numpy(distances)
    assert np.all(np.isfinite(distances)) and np.all(distances < 0.05)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(indices)[:, 0], np.arange(13)
    )


def test_tensor_inputs_and_empty_queries():
    queries, references = data()
    distances, indices = top_k_neighbors(
        keras.ops.convert_to_tensor(queries),
        keras.ops.convert_to_tensor(references),
        4,
        "dot",
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(indices),
        brute_force(queries, references, 4, "dot")[1],
    )
    distances, indices = top_k_neighbors(queries[:0], references, 4)
    assert tuple(distances.shape) == tuple(indices.shape) == (0, 4)


@pytest.mark.parametrize(
    "change, name",
    [
        ({"k": 0}, "k"),
        ({"k": 30}, "k"),
        ({"k": 2.0}, "k"),
        ({"metric": "manhattan"}, "metric"),
        ({"query_chunk_size": 0}, "query_chunk_size"),
        ({"reference_chunk_size": -1}, "reference_chunk_size"),
        ({"queries": np.zeros((2, 3, 6), "float32")}, "queries"),
        ({"references": np.zeros(6, "float32")}, "references"),
        ({"references": np.zeros((5, 4), "float32")}, "references"),
    ],
)
def test_bad_arguments_are_refused_by_name(change, name):
    queries, references = data()
    args = dict(queries=queries, references=references, k=3)
    args.update(change)
    with pytest.raises((ValueError, TypeError), match=f"`{name}`"):
        top_k_neighbors(**args)


def test_traceable_under_jit():
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        compile_ = jax.jit
    elif backend == "tensorflow":
        import tensorflow as tf

        compile_ = tf.function
    else:
        pytest.skip("jit of the JAX and TensorFlow backends only")
    queries, references = data()
    search = compile_(lambda q, r: top_k_neighbors(q, r, 4, "euclidean", 5, 7))
    distances, indices = search(queries, references)
    expected_d, expected_i = brute_force(queries, references, 4, "euclidean")
    np.testing.assert_array_equal(np.asarray(indices), expected_i)
    np.testing.assert_allclose(np.asarray(distances), expected_d, atol=2e-5)
