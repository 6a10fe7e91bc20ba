"""A k-nearest-neighbour classifier over a frozen encoder's embeddings."""

import keras
import numpy as np
from keras import ops

from keras_dlparts._validation import class_labels
from keras_dlparts._validation import data_batch
from keras_dlparts._validation import fits_input
from keras_dlparts._validation import keras_object
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import same_batch_size
from keras_dlparts.models._nested import deserialize_models
from keras_dlparts.models._nested import serialize_models
from keras_dlparts.retrieval.search import METRICS
from keras_dlparts.retrieval.search import top_k_neighbors

WEIGHTINGS = ("uniform", "distance")
_MODELS = ("encoder",)


def _flat(embeddings):
    """`(n, ...)` embeddings as float32 `(n, d)`."""
    embeddings = ops.cast(embeddings, "float32")
    if len(embeddings.shape) == 2:
        return embeddings
    # The feature size stays static (the search needs it) when it is known.
    features = embeddings.shape[1:]
    size = -1 if None in features else int(np.prod(features))
    return ops.reshape(embeddings, (-1, size))


@keras.saving.register_keras_serializable(package="keras_dlparts")
class NearestNeighborClassifier(keras.Model):
    """Classifies by a k-nearest-neighbour vote over a frozen encoder's index.

    A head that needs no training: `fit_index(x, y)` embeds labelled
    reference examples with `encoder` and stores the embeddings and labels
    in the model as non-trainable weights (so `.keras` files and
    checkpoints hold the index). Called on a batch, the model embeds it,
    finds the `k` nearest references with
    `keras_dlparts.retrieval.search.top_k_neighbors` and returns the class
    probabilities of the vote, `(batch, num_classes)`: with
    `weighting="uniform"` the fraction of the `k` neighbours in each
    class, with `"distance"` each neighbour weighs `1 / distance` (as
    scikit-learn's `weights="distance"`: when some neighbours are at
    distance 0, only they vote). `predict(x).argmax(-1)` is the predicted
    class, and `evaluate` measures it after
    `compile(loss="sparse_categorical_crossentropy",
    metrics=["sparse_categorical_accuracy"])`.

    The encoder is frozen: the constructor sets `encoder.trainable =
    False` (the index would go stale if it changed), so the model has no
    trainable weights. Embeddings are compared in float32 and flattened to
    vectors. Calling the model before `fit_index` raises a ValueError.

    Args:
        encoder: a `keras.Model` (or layer) from inputs to embeddings.
        k: how many neighbours vote.
        metric: `"cosine"` (`1 - cos`), `"euclidean"` or `"dot"`
            (`-q.r`), the distance of `top_k_neighbors`.
        num_classes: the number of classes, or `None` to take
            `max(y) + 1` from the labels given to `fit_index`.
        weighting: `"uniform"` or `"distance"` (not with `"dot"`, whose
            distances can be negative).
        reference_chunk_size: references scored per search step (memory
            is about `batch * reference_chunk_size` floats).

    Examples:

        >>> import numpy as np
        >>> encoder = keras.Sequential([keras.Input((2,)),
        ...     keras.layers.Identity()])
        >>> model = NearestNeighborClassifier(encoder, k=3,
        ...     metric="euclidean")
        >>> x = np.array([[0., 0.], [0., 1.], [1., 0.], [5., 5.], [5., 6.]])
        >>> model.fit_index(x, [0, 0, 0, 1, 1])
        >>> model.predict(np.array([[0.2, 0.2], [5., 5.5]]), verbose=0)
        array([[1.        , 0.        ],
               [0.33333334, 0.6666667 ]], dtype=float32)
    """

    def __init__(
        self,
        encoder,
        k=5,
        metric="cosine",
        num_classes=None,
        weighting="uniform",
        reference_chunk_size=8192,
        **kwargs,
    ):
        keras_object("encoder", encoder, keras.layers.Layer)
        self.k = positive_int("k", k)
        self.metric = one_of("metric", metric, METRICS)
        self.num_classes = (
            None
            if num_classes is None
            else positive_int("num_classes", num_classes)
        )
        self.weighting = one_of("weighting", weighting, WEIGHTINGS)
        if weighting == "distance" and metric == "dot":
            raise ValueError(
                "Argument `weighting` cannot be 'distance' with metric='dot' "
                "(dot distances can be negative). Received: "
                "weighting='distance'"
            )
        self.reference_chunk_size = positive_int(
            "reference_chunk_size", reference_chunk_size
        )
        super().__init__(**kwargs)
        encoder.trainable = False
        self.encoder = encoder
        self.reference_embeddings = None
        self.reference_labels = None
        # Built already: Keras's automatic build would lock the layer's
        # state, and the index weights are made later, by `fit_index`.
        self.built = True

    @property
    def index_size(self):
        """The number of references in the index (0 before `fit_index`)."""
        if self.reference_embeddings is None:
            return 0
        return int(self.reference_embeddings.shape[0])

    def embed(self, x, name="inputs"):
        """The flattened float32 encoder embeddings of a batch."""
        if not keras.tree.is_nested(x):
            fits_input(name, x, self.encoder)
        return _flat(self.encoder(x, training=False))

    def _set_index(self, embeddings, labels):
        """Replaces the index weights by new ones holding these values."""
        if self.reference_embeddings is not None:
            # Deleting the attributes untracks the old weights.
            del self.reference_embeddings
            del self.reference_labels
        self.reference_embeddings = self.add_weight(
            shape=embeddings.shape,
            initializer="zeros",
            dtype="float32",
            trainable=False,
            autocast=False,  # compared in float32 under mixed precision too
            name="reference_embeddings",
        )
        self.reference_labels = self.add_weight(
            shape=labels.shape,
            initializer="zeros",
            dtype="int32",
            trainable=False,
            name="reference_labels",
        )
        self.reference_embeddings.assign(embeddings)
        self.reference_labels.assign(labels)
        # Compiled steps read the old weights: trace them again.
        self.predict_function = None
        self.test_function = None
        self.train_function = None

    def fit_index(self, x, y, batch_size=256):
        """Embeds `x` and makes it, with labels `y`, the index (replacing it).

        Args:
            x: the reference inputs (an array, or a list or dict of arrays,
                with a batch axis).
            y: their integer class labels, 1-D (below `num_classes` when
                that was given).
            batch_size: examples embedded per encoder call.
        """
        data_batch("x", x)
        n = int(np.shape(keras.tree.flatten(x)[0])[0])
        labels = class_labels("y", y, length=n, num_classes=self.num_classes)
        same_batch_size(("x", keras.tree.flatten(x)[0]), ("y", labels))
        batch_size = positive_int("batch_size", batch_size)
        if self.k > n:
            raise ValueError(
                f"Argument `x` must hold at least k={self.k} references. "
                f"Received: {n}"
            )
        parts = [
            ops.convert_to_numpy(
                self.embed(
                    keras.tree.map_structure(
                        lambda a, s=start: a[s : s + batch_size], x
                    ),
                    name="x",
                )
            )
            for start in range(0, n, batch_size)
        ]
        if self.num_classes is None:
            self.num_classes = int(labels.max()) + 1
        self._set_index(np.concatenate(parts), labels.astype("int32"))

    def _vote_weights(self, distances):
        """Vote weights of the neighbours, `(batch, k)`."""
        if self.weighting == "uniform":
            return ops.ones_like(distances)
        distances = ops.maximum(distances, 0.0)
        exact = distances == 0.0
        inverse = 1.0 / ops.where(exact, 1.0, distances)
        return ops.where(
            ops.any(exact, axis=-1, keepdims=True),
            ops.cast(exact, "float32"),
            inverse,
        )

    def _check_index(self):
        if self.reference_embeddings is None:
            raise ValueError(
                f"NearestNeighborClassifier {self.name!r} has an empty "
                "index: call `fit_index(x, y)` with labelled references "
                "before calling, predicting or evaluating."
            )

    def make_predict_function(self, force=False):
        # Refused before `predict` starts (on JAX, an error inside it
        # would leave the encoder's weights detached).
        self._check_index()
        return super().make_predict_function(force)

    def make_test_function(self, force=False):
        self._check_index()
        return super().make_test_function(force)

    def call(self, inputs, training=False):
        self._check_index()
        queries = self.embed(inputs)
        distances, indices = top_k_neighbors(
            queries,
            self.reference_embeddings,
            self.k,
            metric=self.metric,
            reference_chunk_size=self.reference_chunk_size,
        )
        labels = ops.take(self.reference_labels, indices, axis=0)
        votes = ops.one_hot(labels, self.num_classes, dtype="float32")
        weights = self._vote_weights(distances)
        votes = ops.sum(votes * weights[..., None], axis=1)
        return votes / ops.sum(votes, axis=-1, keepdims=True)

    def load_own_variables(self, store):
        # The index weights are made by `fit_index`; a file holding an
        # index makes them with its shapes before they are read.
        if self.reference_embeddings is None and len(store.keys()) == 2:
            self._set_index(np.asarray(store["0"]), np.asarray(store["1"]))
        super().load_own_variables(store)

    def get_config(self):
        return {
            **super().get_config(),
            **serialize_models(self, _MODELS),
            "k": self.k,
            "metric": self.metric,
            "num_classes": self.num_classes,
            "weighting": self.weighting,
            "reference_chunk_size": self.reference_chunk_size,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_models(config, _MODELS))
