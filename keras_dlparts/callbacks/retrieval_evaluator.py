"""Retrieval figures (recall@k, precision@k, MAP@R) of embeddings during fit.

Works on every backend: the figures go into the epoch `logs` and, when a
`log_dir` is given, to TensorBoard through `tf.summary` (TensorFlow is
imported when the first summary is written).
"""

import keras
import numpy as np

from keras_dlparts._validation import class_labels
from keras_dlparts._validation import data_batch
from keras_dlparts._validation import keras_object
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import positive_ints
from keras_dlparts._validation import sequence
from keras_dlparts._validation import string
from keras_dlparts.callbacks.probe import find_layer
from keras_dlparts.callbacks.probe import probe_model
from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback
from keras_dlparts.retrieval.evaluation import evaluate_retrieval
from keras_dlparts.retrieval.search import METRICS


def _labelled(name, value, allow_none=False):
    """`value` as `(x, labels)`: a batch of inputs and their class labels."""
    if value is None and allow_none:
        return None
    x, labels = sequence(name, value, (2,), "a pair (x, labels)")
    data_batch(name, x)
    n = int(np.shape(keras.tree.flatten(x)[0])[0])
    return x, class_labels(name, labels, length=n)


class RetrievalEvaluator(SummaryWriterCallback):
    """Measures retrieval with the model's embeddings every N epochs.

    Every `every_n_epochs` epochs the query inputs and the reference
    inputs are embedded (by the model, by `embedding_model`, or by the
    layer `layer_name` of the model), flattened to vectors, and
    `keras_dlparts.retrieval.evaluate_retrieval` measures how well the
    nearest references share each query's label: `recall@k` and
    `precision@k` for each `k` in `ks`, and `map@r` (Musgrave et al.,
    2020). Without `reference_data` the queries are their own references
    and each query leaves itself out.

    The figures are added to the epoch `logs` as `prefix + name`, by
    default `val_recall@1`, `val_precision@1`, ..., `val_map@r`, so
    `History`, `keras.callbacks.EarlyStopping(monitor="val_recall@1",
    mode="max")` (give `mode="max"`: Keras guesses "min" for these names)
    and KerasTuner objectives such as `Objective("val_map@r", "max")` see
    them; list those callbacks after this one. With a `log_dir` they are
    also written as TensorBoard scalars `retrieval/<name>` (step: the
    epochs done). The latest figures are in `self.history` (a list of
    `(epoch, figures)`), and `evaluate()` measures at any time.

    Args:
        query_data: a pair `(x, labels)`: query inputs (an array, or a
            list or dict of arrays, with a batch axis) and their integer
            class labels.
        reference_data: `None` (leave-one-out among the queries) or a pair
            `(x, labels)` of references.
        ks: positive ints, the cut-offs of recall@k and precision@k (at
            most the number of references; of queries minus one without
            references).
        metric: `"cosine"`, `"euclidean"` or `"dot"`.
        every_n_epochs: positive int.
        log_dir: `None` or the TensorBoard run directory.
        embedding_model: `None` or a `keras.Model` (or layer) that embeds
            the inputs and shares its weights with the trained model, e.g.
            the encoder of a classifier (a `SiameseNetwork` called on a
            batch returns its embeddings itself: it needs none).
        layer_name: `None` or the name of the embedding layer of a
            Functional or Sequential model (not with `embedding_model`).
        prefix: the string put before each name in `logs`.
        batch_size: examples embedded per call.

    Examples:

        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((2,)),
        ...     keras.layers.Identity()])
        >>> x = np.array([[0., 1.], [0., 1.1], [1., 0.], [1.1, 0.]])
        >>> evaluator = RetrievalEvaluator((x, [0, 0, 1, 1]), ks=(1,))
        >>> evaluator.set_model(model)
        >>> evaluator.evaluate()
        {'recall@1': 1.0, 'precision@1': 1.0, 'map@r': 1.0}
    """

    def __init__(
        self,
        query_data,
        reference_data=None,
        ks=(1, 5),
        metric="cosine",
        every_n_epochs=1,
        log_dir=None,
        embedding_model=None,
        layer_name=None,
        prefix="val_",
        batch_size=256,
    ):
        super().__init__(log_dir, optional=True)
        self.query_data = _labelled("query_data", query_data)
        self.reference_data = _labelled(
            "reference_data", reference_data, allow_none=True
        )
        self.ks = positive_ints("ks", ks)
        if self.reference_data is None:
            available, what = len(self.query_data[1]) - 1, "queries minus one"
        else:
            available, what = len(self.reference_data[1]), "references"
        if max(self.ks) > available:
            raise ValueError(
                f"Argument `ks` must be at most the number of {what} "
                f"({available}). Received: ks={self.ks}"
            )
        self.metric = one_of("metric", metric, METRICS)
        self.every_n_epochs = positive_int("every_n_epochs", every_n_epochs)
        if embedding_model is not None:
            keras_object("embedding_model", embedding_model, keras.layers.Layer)
        self.embedding_model = embedding_model
        self.layer_name = string("layer_name", layer_name, allow_none=True)
        if embedding_model is not None and layer_name is not None:
            raise ValueError(
                "Arguments `embedding_model` and `layer_name` cannot both be "
                f"given. Received: layer_name={layer_name!r}"
            )
        self.prefix = string("prefix", prefix, allow_empty=True)
        self.batch_size = positive_int("batch_size", batch_size)
        self.history = []
        self._probe = None

    def _encoder(self):
        # Reading `self.model` on JAX attaches the trainer's current state,
        # also to the weights an `embedding_model` shares with it.
        model = self.model
        if self.embedding_model is not None:
            return self.embedding_model
        if self.layer_name is None:
            return model
        if self._probe is None:
            layer = find_layer(model, self.layer_name)
            if layer is None:
                raise ValueError(
                    f"Model {model.name!r} has no layer named "
                    f"{self.layer_name!r}."
                )
            self._probe = probe_model(model, layer.output)
        return self._probe

    def embed(self, x):
        """The `(n, d)` float32 embeddings of the inputs `x`."""
        encoder = self._encoder()
        n = int(np.shape(keras.tree.flatten(x)[0])[0])
        parts = []
        for start in range(0, n, self.batch_size):
            batch = keras.tree.map_structure(
                lambda a, s=start: a[s : s + self.batch_size], x
            )
            out = keras.ops.convert_to_numpy(encoder(batch, training=False))
            parts.append(out.reshape(len(out), -1).astype("float32"))
        return np.concatenate(parts)

    def evaluate(self):
        """Embeds the data now and returns `evaluate_retrieval`'s dict."""
        queries, query_labels = self.query_data
        references = reference_labels = None
        if self.reference_data is not None:
            references = self.embed(self.reference_data[0])
            reference_labels = self.reference_data[1]
        return evaluate_retrieval(
            self.embed(queries),
            query_labels,
            references,
            reference_labels,
            ks=self.ks,
            metric=self.metric,
        )

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs:
            return
        figures = self.evaluate()
        self.history.append((epoch + 1, figures))
        if logs is not None:
            for name, value in figures.items():
                logs[self.prefix + name] = value
        if self.log_dir is not None:
            with self.writer.as_default(step=epoch + 1):
                for name, value in figures.items():
                    self.summary.scalar(f"retrieval/{name}", value)
