"""A searchable store of embeddings (and their labels) on the host."""

import collections
import json
import os

import keras
import numpy as np

from keras_dlparts import _validation
from keras_dlparts.retrieval import search as _search

SearchResult = collections.namedtuple(
    "SearchResult", ["distances", "ids", "labels"]
)
SearchResult.__doc__ = """What `NearestNeighborIndex.search` finds, as NumPy.

`distances` (float32) and `ids` (int64, in the order of `add`) are shaped
`(num_queries, k)`, nearest first; `labels` holds the labels of those ids,
or is `None` when the index has no labels.
"""

_FORMAT = "keras_dlparts.NearestNeighborIndex"
_VERSION = 1


class NearestNeighborIndex:
    """Exact nearest-neighbour search over embeddings added in batches.

    The embeddings stay on the host as float32 NumPy arrays, a copy of the
    batch of each `add` (never joined into a second, larger array), and
    move to the device one chunk at a time during `search`, which runs
    `top_k_neighbors`.
    Ids are positions in the order of `add`, starting at 0. Labels are
    given with every `add` or with none.

    Args:
        metric: `"cosine"`, `"euclidean"` or `"dot"` (see
            `top_k_neighbors`).
        query_chunk_size: queries scored per step of a search.
        reference_chunk_size: embeddings scored per step of a search.

    Example:

        >>> import numpy as np
        >>> index = NearestNeighborIndex(metric="euclidean")
        >>> index.add(np.array([[0.0, 0.0], [1.0, 0.0]]), labels=[7, 8])
        >>> index.add(np.array([[5.0, 5.0]]), labels=[9])
        >>> result = index.search(np.array([[4.0, 4.0]]), k=2)
        >>> len(index), result.ids.tolist(), result.labels.tolist()
        (3, [[2, 1]], [[9, 8]])
    """

    def __init__(
        self,
        metric="cosine",
        query_chunk_size=2048,
        reference_chunk_size=2048,
    ):
        self.metric = _validation.one_of("metric", metric, _search.METRICS)
        self.query_chunk_size = _validation.positive_int(
            "query_chunk_size", query_chunk_size
        )
        self.reference_chunk_size = _validation.positive_int(
            "reference_chunk_size", reference_chunk_size
        )
        self._blocks = []
        self._labels = []

    def __len__(self):
        return sum(len(block) for block in self._blocks)

    @property
    def features(self):
        """The size of each embedding, or `None` before the first `add`."""
        return self._blocks[0].shape[1] if self._blocks else None

    def add(self, embeddings, labels=None):
        """Appends `(n, features)` embeddings, with `(n,)` integer labels.

        Raises:
            ValueError: for a feature size other than earlier embeddings',
                labels of another length, or labels given now but not
                before (or the other way round).
        """
        if keras.ops.is_tensor(embeddings):
            embeddings = keras.ops.convert_to_numpy(embeddings)
        # A copy: later changes to the caller's array do not reach the index.
        embeddings = np.array(
            _validation.finite_array("embeddings", embeddings)
        )
        _validation.check_rank("embeddings", embeddings, 2)
        if self._blocks and embeddings.shape[1] != self.features:
            raise ValueError(
                f"Argument `embeddings` must have {self.features} features, "
                "as the embeddings added before. "
                f"Received: embeddings.shape={embeddings.shape}"
            )
        if self._blocks and (labels is None) != (not self._labels):
            before = "without" if not self._labels else "with"
            raise ValueError(
                "Argument `labels` must be given with every `add` or with "
                f"none: the index was filled {before} labels. "
                f"Received: labels={'None' if labels is None else '...'}"
            )
        if labels is not None:
            labels = _validation.class_labels(
                "labels", labels, length=len(embeddings)
            )
            self._labels.append(labels)
        self._blocks.append(embeddings)

    def _chunks(self):
        start = 0
        for block in self._blocks:
            for offset in range(0, len(block), self.reference_chunk_size):
                rows = block[offset : offset + self.reference_chunk_size]
                yield start + offset, rows
            start += len(block)

    def search(self, queries, k):
        """The `k` nearest embeddings of each of `(num_queries, features)`.

        Returns:
            A `SearchResult(distances, ids, labels)` of NumPy arrays.
        """
        if keras.ops.is_tensor(queries):
            queries = keras.ops.convert_to_numpy(queries)
        queries = _validation.finite_array("queries", queries)
        _validation.check_rank("queries", queries, 2)
        if self._blocks:
            _validation.same_axis_size(
                ("queries", queries),
                ("embeddings", (None, self.features)),
                axis=-1,
            )
        k = _search.check_search(
            queries, None, k, self.metric, num_references=len(self)
        )
        distances, ids = _search.chunked_search(
            queries,
            self._chunks(),
            len(self),
            k,
            self.metric,
            self.query_chunk_size,
            self.reference_chunk_size,
        )
        ids = keras.ops.convert_to_numpy(ids).astype("int64")
        labels = None
        if self._labels:
            labels = np.concatenate(self._labels)[ids]
        return SearchResult(keras.ops.convert_to_numpy(distances), ids, labels)

    def save(self, path):
        """Writes the index to `path` (NumPy's `.npz`, no pickled data)."""
        path = _validation.path("path", path)
        header = {
            "format": _FORMAT,
            "version": _VERSION,
            "metric": self.metric,
            "query_chunk_size": self.query_chunk_size,
            "reference_chunk_size": self.reference_chunk_size,
            "blocks": len(self._blocks),
            "labels": bool(self._labels),
        }
        arrays = {"header": np.array(json.dumps(header))}
        for i, block in enumerate(self._blocks):
            arrays[f"embeddings_{i}"] = block
            if self._labels:
                arrays[f"labels_{i}"] = self._labels[i]
        with open(path, "wb") as file:  # keeps `path` as given: no ".npz"
            np.savez(file, **arrays)

    @classmethod
    def load(cls, path):
        """The index saved at `path` by `save`.

        Raises:
            ValueError: when `path` is not a file written by `save`.
        """
        path = _validation.path("path", path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No index file at path={path!r}")
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                if header.get("format") != _FORMAT:
                    raise ValueError("another format")
                if header.get("version") != _VERSION:
                    raise ValueError(f"version {header.get('version')}")
                arrays = {name: data[name] for name in data.files}
        except Exception as error:  # noqa: BLE001 - reported as ValueError
            raise ValueError(
                f"Argument `path` must be a file written by "
                f"NearestNeighborIndex.save (format version {_VERSION}). "
                f"Received: path={path!r} ({type(error).__name__}: {error})"
            ) from error
        index = cls(
            header["metric"],
            header["query_chunk_size"],
            header["reference_chunk_size"],
        )
        for i in range(header["blocks"]):
            labels = arrays[f"labels_{i}"] if header["labels"] else None
            index.add(arrays[f"embeddings_{i}"], labels)
        return index
