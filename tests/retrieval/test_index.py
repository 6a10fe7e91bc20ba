"""NearestNeighborIndex: adds in batches, searches exactly, saves safely."""

import numpy as np
import pytest
from retrieval.test_search import brute_force

from keras_dlparts.retrieval import NearestNeighborIndex
from keras_dlparts.retrieval.index import SearchResult

rng = np.random.default_rng(0)
EMBEDDINGS = rng.normal(size=(23, 4)).astype("float32")
LABELS = rng.integers(0, 5, size=23)
QUERIES = rng.normal(size=(9, 4)).astype("float32")


def filled(metric="cosine", labels=True, **chunks):
    index = NearestNeighborIndex(metric, **chunks)
    for part in (slice(0, 10), slice(10, 11), slice(11, 23)):
        index.add(EMBEDDINGS[part], LABELS[part] if labels else None)
    return index


@pytest.mark.parametrize("metric", ["cosine", "euclidean", "dot"])
def test_search_over_several_adds_matches_brute_force(metric):
    index = filled(metric, query_chunk_size=4, reference_chunk_size=3)
    result = index.search(QUERIES, k=7)
    expected_d, expected_i = brute_force(QUERIES, EMBEDDINGS, 7, metric)
    assert isinstance(result, SearchResult) and len(index) == 23
    np.testing.assert_array_equal(result.ids, expected_i)
    np.testing.assert_allclose(result.distances, expected_d, atol=2e-5)
    np.testing.assert_array_equal(result.labels, LABELS[expected_i])
    assert result.ids.dtype == np.int64
    assert result.distances.dtype == np.float32


def test_the_index_keeps_a_copy():
    index = NearestNeighborIndex("dot")
    buffer = EMBEDDINGS.copy()
    index.add(buffer)
    buffer[:] = 0.0  # a caller reusing its batch buffer
    _, expected = brute_force(QUERIES, EMBEDDINGS, 3, "dot")
    np.testing.assert_array_equal(index.search(QUERIES, 3).ids, expected)


def test_without_labels_and_empty_queries():
    result = filled(labels=False).search(QUERIES[:0], k=2)
    assert result.labels is None and result.ids.shape == (0, 2)


def test_save_load_round_trip_gives_identical_searches(tmp_path):
    for labels in (True, False):
        index = filled("euclidean", labels, reference_chunk_size=5)
        path = str(tmp_path / "index.bin")  # no ".npz" appended
        index.save(path)
        loaded = NearestNeighborIndex.load(path)
        assert (loaded.metric, loaded.reference_chunk_size, len(loaded)) == (
            "euclidean",
            5,
            23,
        )
        before, after = index.search(QUERIES, 5), loaded.search(QUERIES, 5)
        np.testing.assert_array_equal(before.ids, after.ids)
        np.testing.assert_array_equal(before.distances, after.distances)
        if labels:
            np.testing.assert_array_equal(before.labels, after.labels)
        else:
            assert after.labels is None


def test_files_that_are_not_an_index_are_refused(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an index")
    other = tmp_path / "other.npz"
    np.savez(other, header=np.array('{"format": "something else"}'))
    pickled = tmp_path / "pickled.npy"
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    for path in (text, other, pickled):
        with pytest.raises(ValueError, match="`path`"):
            NearestNeighborIndex.load(path)
    with pytest.raises(FileNotFoundError):
        NearestNeighborIndex.load(tmp_path / "missing.npz")


def test_bad_adds_and_searches_are_refused_by_name():
    index = filled()
    cases = [
        (lambda: index.add(EMBEDDINGS[:2, :3], LABELS[:2]), "embeddings"),
        (lambda: index.add(EMBEDDINGS[:2]), "labels"),
        (lambda: index.add(EMBEDDINGS[:2], LABELS[:3]), "labels"),
        (lambda: index.add(EMBEDDINGS[0], LABELS[:1]), "embeddings"),
        (lambda: index.search(QUERIES[:, :2], 3), "queries"),
        (lambda: index.search(QUERIES, 24), "k"),
        (lambda: index.search(QUERIES, 0), "k"),
        (lambda: NearestNeighborIndex().search(QUERIES, 1), "k"),
        (lambda: NearestNeighborIndex("l1"), "metric"),
        (lambda: NearestNeighborIndex(reference_chunk_size=0), "chunk"),
    ]
    for call, name in cases:
        with pytest.raises((ValueError, TypeError), match=name):
            call()
    unlabeled = filled(labels=False)
    with pytest.raises(ValueError, match="`labels`"):
        unlabeled.add(EMBEDDINGS[:2], LABELS[:2])
    assert len(index) == len(unlabeled) == 23  # nothing was added
