"""Fuzz table: keras_dlparts.retrieval."""

import numpy as np
from fuzz.cases import CHOICE
from fuzz.cases import POSITIVE_INT
from fuzz.cases import SHAPE
from fuzz.cases import Entry

from keras_dlparts import retrieval

rng = np.random.default_rng(0)
QUERIES = rng.normal(size=(4, 3)).astype("float32")
REFERENCES = rng.normal(size=(6, 3)).astype("float32")
LABELS = np.array([0, 1, 0, 1])


def _search(index, queries):
    index.add(REFERENCES, labels=[0, 1, 2, 0, 1, 2])
    return index.search(queries, k=2)


TABLE = {
    "retrieval.NearestNeighborIndex": Entry(
        retrieval.NearestNeighborIndex,
        args={"metric": "euclidean"},
        bad={
            "metric": CHOICE,
            "query_chunk_size": POSITIVE_INT,
            "reference_chunk_size": POSITIVE_INT,
        },
        inputs={"queries": QUERIES},
        call=_search,
        bad_calls=[("queries", {"queries": QUERIES[:, :2]})],
    ),
    "retrieval.top_k_neighbors": Entry(
        retrieval.top_k_neighbors,
        args={"queries": QUERIES, "references": REFERENCES, "k": 2},
        bad={
            "k": POSITIVE_INT + (7,),
            "metric": CHOICE,
            "query_chunk_size": POSITIVE_INT,
            "reference_chunk_size": POSITIVE_INT,
        },
        tensors=("queries", "references"),
        batch_free=("references",),
        bad_calls=[("references", {"references": REFERENCES[:, :2]})],
    ),
    "retrieval.evaluate_retrieval": Entry(
        retrieval.evaluate_retrieval,
        args={"query_embeddings": QUERIES, "query_labels": LABELS, "ks": (1,)},
        bad={"ks": SHAPE + ((4,),), "metric": CHOICE},
        tensors=("query_embeddings", "query_labels"),
        bad_calls=[
            ("query_labels", {"query_labels": LABELS + 0.5}),
            ("query_labels", {"query_labels": np.array([0, 1, 2, 3])}),
            ("reference_labels", {"reference_embeddings": REFERENCES}),
        ],
    ),
}
