"""Encoder outputs with labels for the TensorBoard embedding projector.

Works on every backend: the embedding is saved with `tf.train.Checkpoint`
and the projector configuration with `tensorboard.plugins.projector`, the
file formats TensorBoard reads (TensorFlow is imported on the first write).
"""

import os

import keras
import numpy as np

from keras_dlparts.callbacks.probe import find_layer
from keras_dlparts.callbacks.probe import probe_model
from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback
from keras_dlparts.callbacks.summary_writer import tensorflow

#: Name of the embedding tensor inside the checkpoint.
TENSOR_NAME = "embedding/.ATTRIBUTES/VARIABLE_VALUE"


class LatentSpaceProjector(SummaryWriterCallback):
    """Writes encoder outputs and their labels for the TensorBoard projector.

    At the end of training (and every `every_n_epochs` epochs if given) the
    outputs of `layer_name` (or of the whole model when `None`) on the
    fixed `data` are flattened to `(n, d)` and written to `log_dir` as

    - a checkpoint `embedding.ckpt-*` holding the variable `embedding`,
    - `metadata.tsv`: one label per line (class names if `class_names` is
      given), in the order of `data`,
    - `projector_config.pbtxt` linking the two,

    plus a text summary `latent_space/info` in an event file, which is how
    TensorBoard discovers the run. Open TensorBoard on `log_dir` and choose
    the "Projector" tab (PCA, t-SNE, UMAP, coloured by label).

    Args:
        log_dir: TensorBoard run directory.
        data: the fixed model input(s) to embed.
        labels: `None` or a 1-D array of labels, one per example.
        layer_name: `None` (model outputs) or the name of the encoder layer
            (a layer or a nested encoder model of a Functional or
            Sequential model).
        class_names: `None` or a list mapping integer labels to names.
        every_n_epochs: `None` (only at the end) or a positive int.

    Examples:

        >>> import numpy as np, keras, tempfile, os
        >>> model = keras.Sequential([keras.Input((4,)),
        ...     keras.layers.Dense(2, name="code"), keras.layers.Dense(4)])
        >>> log_dir = tempfile.mkdtemp()
        >>> projector = LatentSpaceProjector(log_dir, np.ones((3, 4), "float32"),
        ...     labels=[0, 1, 1], layer_name="code")
        >>> projector.set_model(model)
        >>> projector.write(step=0).shape
        (3, 2)
        >>> files = os.listdir(log_dir)
        >>> "metadata.tsv" in files, "projector_config.pbtxt" in files
        (True, True)
    """

    def __init__(
        self,
        log_dir,
        data,
        labels=None,
        layer_name=None,
        class_names=None,
        every_n_epochs=None,
    ):
        super().__init__(log_dir)
        if labels is not None:
            labels = np.asarray(labels)
            n = len(keras.tree.flatten(data)[0])
            if labels.ndim != 1 or len(labels) != n:
                raise ValueError(
                    "Argument `labels` must be 1-D with one label per example "
                    f"({n}). Received: labels.shape={labels.shape}"
                )
        if every_n_epochs is not None and (
            not isinstance(every_n_epochs, int) or every_n_epochs < 1
        ):
            raise ValueError(
                "Argument `every_n_epochs` must be None or a positive integer. "
                f"Received: every_n_epochs={every_n_epochs!r}"
            )
        self.data = data
        self.labels = labels
        self.layer_name = layer_name
        self.class_names = class_names
        self.every_n_epochs = every_n_epochs
        self._checkpoint = None

    def embeddings(self):
        """Returns the `(n, d)` encoder outputs on `data`."""
        if self.layer_name is None:
            encoder = self.model
        else:
            layer = find_layer(self.model, self.layer_name)
            if layer is None:
                raise ValueError(
                    f"Model {self.model.name!r} has no layer named "
                    f"{self.layer_name!r}."
                )
            encoder = probe_model(self.model, layer.output)
        out = np.asarray(encoder(self.data, training=False), "float32")
        return out.reshape(len(out), -1)

    def _write_metadata(self):
        names = self.class_names
        lines = [
            str(names[int(label)]) if names is not None else str(label)
            for label in self.labels
        ]
        with open(os.path.join(self.log_dir, "metadata.tsv"), "w") as f:
            f.write("\n".join(lines) + "\n")

    def write(self, step):
        """Writes the embedding, metadata and config; returns the embedding."""
        from tensorboard.plugins import projector

        tf = tensorflow()
        os.makedirs(self.log_dir, exist_ok=True)
        values = self.embeddings()
        if self._checkpoint is None or self._checkpoint.embedding.shape != values.shape:
            self._checkpoint = tf.train.Checkpoint(embedding=tf.Variable(values))
        else:
            self._checkpoint.embedding.assign(values)
        self._checkpoint.save(os.path.join(self.log_dir, "embedding.ckpt"))
        config = projector.ProjectorConfig()
        embedding = config.embeddings.add()
        embedding.tensor_name = TENSOR_NAME
        if self.labels is not None:
            self._write_metadata()
            embedding.metadata_path = "metadata.tsv"
        projector.visualize_embeddings(self.log_dir, config)
        with self.writer.as_default(step=step):
            self.summary.text(
                "latent_space/info",
                f"{values.shape[0]} points of dimension {values.shape[1]} from "
                f"{self.layer_name or 'the model output'}; open the Projector tab.",
            )
        self.writer.flush()
        return values

    def on_epoch_end(self, epoch, logs=None):
        if self.every_n_epochs and (epoch + 1) % self.every_n_epochs == 0:
            self.write(step=epoch + 1)
            self._last_step = epoch + 1

    def on_train_begin(self, logs=None):
        self._last_step = None
        self._epochs = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epochs = epoch + 1

    def on_train_end(self, logs=None):
        if self._last_step != self._epochs:
            self.write(step=self._epochs)
        super().on_train_end(logs)
