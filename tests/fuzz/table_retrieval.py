"""Fuzz table: keras_dlparts.retrieval."""

import keras
import numpy as np
from fuzz.cases import CHOICE
from fuzz.cases import MODEL
from fuzz.cases import OPTIONAL_POSITIVE_INT
from fuzz.cases import POSITIVE_INT
from fuzz.cases import SHAPE
from fuzz.cases import Entry
from fuzz.cases import fresh

from keras_dlparts import retrieval

rng = np.random.default_rng(0)
QUERIES = rng.normal(size=(4, 3)).astype("float32")
REFERENCES = rng.normal(size=(6, 3)).astype("float32")
LABELS = np.array([0, 1, 0, 1])


def _search(index, queries):
    index.add(REFERENCES, labels=[0, 1, 2, 0, 1, 2])
    return index.search(queries, k=2)


def _identity(features):
    return keras.Sequential([keras.Input((features,)), keras.layers.Identity()])


def _classify(model, inputs):
    model.fit_index(REFERENCES, [0, 1, 2, 0, 1, 2])
    return model(inputs)


TABLE = {
    "retrieval.NearestNeighborClassifier": Entry(
        retrieval.NearestNeighborClassifier,
        args={"encoder": fresh(lambda: _identity(3)), "k": 3},
        bad={
            "encoder": MODEL,
            "k": POSITIVE_INT + (7,),
            "metric": CHOICE,
            "num_classes": OPTIONAL_POSITIVE_INT,
            "weighting": CHOICE,
            "reference_chunk_size": POSITIVE_INT,
        },
        inputs={"inputs": QUERIES},
        call=_classify,
        bad_calls=[("inputs", {"inputs": QUERIES[:, :2]})],
    ),
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
