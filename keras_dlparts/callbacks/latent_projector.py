"""Encoder outputs with labels for the TensorBoard embedding projector.

Works on every backend: the embedding is saved with `tf.train.Checkpoint`
and the projector configuration with `tensorboard.plugins.projector`, the
file formats TensorBoard reads (TensorFlow is imported on the first write).
"""

import glob
import os

import keras
import numpy as np

from keras_dlparts._validation import batch_size
from keras_dlparts._validation import boolean
from keras_dlparts._validation import check_rank
from keras_dlparts._validation import class_labels
from keras_dlparts._validation import data_batch
from keras_dlparts._validation import names
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import same_batch_size
from keras_dlparts._validation import string
from keras_dlparts.callbacks._files import OwnedFiles
from keras_dlparts.callbacks.probe import find_layer
from keras_dlparts.callbacks.probe import probe_model
from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback
from keras_dlparts.callbacks.summary_writer import tensorflow

#: Name of the embedding tensor inside the checkpoint.
TENSOR_NAME = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
#: File names written in `log_dir` (the checkpoints get `-<step>` appended).
CHECKPOINT_PREFIX = "embedding.ckpt"
METADATA = "metadata.tsv"
CONFIG = "projector_config.pbtxt"


def _labels(labels, n, class_names):
    """`labels`: 1-D, `n` of them, indices of `class_names` if given."""
    if labels is None:
        if class_names is not None:
            raise ValueError(
                "Argument `class_names` needs `labels` (the names are those of "
                "the labels). Received: labels=None"
            )
        return None
    if class_names is None:
        labels = check_rank("labels", np.asarray(labels), 1)
    else:
        labels = class_labels("labels", labels)
        if labels.size and labels.max() >= len(class_names):
            raise ValueError(
                f"Argument `class_names` has {len(class_names)} names, too "
                f"few for the labels (up to {int(labels.max())}). Received: "
                f"class_names={list(class_names)!r}"
            )
    same_batch_size(("data", (n,)), ("labels", labels))
    return labels


class LatentSpaceProjector(SummaryWriterCallback):
    """Writes encoder outputs and their labels for the TensorBoard projector.

    At the end of training (and every `every_n_epochs` epochs if given) the
    outputs of `layer_name` (or of the whole model when `None`) on the
    fixed `data` are flattened to `(n, d)` and written to `log_dir` as

    - a checkpoint `embedding.ckpt-<step>` holding the variable
      `embedding` (step: the epochs done), and the `checkpoint` file
      naming the latest one; only the latest `max_to_keep` checkpoints
      written by this callback are kept (older ones it wrote are deleted),
    - `metadata.tsv`: one label per line (class names if `class_names` is
      given), in the order of `data`,
    - `projector_config.pbtxt` linking the two,

    plus a text summary `latent_space/info` in an event file, which is how
    TensorBoard discovers the run. Open TensorBoard on `log_dir` and choose
    the "Projector" tab (PCA, t-SNE, UMAP, coloured by label).

    Like Keras's `TensorBoard` and `BackupAndRestore` callbacks, it
    replaces and deletes only files it wrote itself: if one of these files
    is already in `log_dir` (from an earlier run) when training starts,
    `fit` stops at once with a `FileExistsError` naming the file, unless
    `overwrite=True`. Files it wrote itself (in an earlier `fit` with the
    same callback) are replaced.

    Args:
        log_dir: TensorBoard run directory.
        data: the fixed model input(s) to embed (an array, or a list or
            dict of arrays, with a batch axis).
        labels: `None` or a 1-D array of labels, one per example (integer
            indices of `class_names` when those are given).
        layer_name: `None` (model outputs) or the name of the encoder layer
            (a layer or a nested encoder model of a Functional or
            Sequential model).
        class_names: `None` or a list of strings, the name of each integer
            label; it must name every label (needs `labels`).
        every_n_epochs: `None` (only at the end) or a positive int.
        max_to_keep: positive int, how many checkpoints to keep (default:
            the latest only; the projector shows the latest).
        overwrite: bool, whether files of the same names that this callback
            did not write may be replaced.

    Examples:

        >>> import numpy as np, keras, tempfile, os
        >>> model = keras.Sequential([keras.Input((4,)),
        ...     keras.layers.Dense(2, name="code"), keras.layers.Dense(4)])
        >>> log_dir = tempfile.mkdtemp()
        >>> data = np.ones((3, 4), "float32")
        >>> projector = LatentSpaceProjector(
        ...     log_dir, data, labels=[0, 1, 1], layer_name="code"
        ... )
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
        max_to_keep=1,
        overwrite=False,
    ):
        super().__init__(log_dir)
        self.data = data_batch("data", data)
        self.class_names = names("class_names", class_names, allow_none=True)
        self.labels = _labels(
            labels, batch_size(keras.tree.flatten(data)[0]), self.class_names
        )
        self.layer_name = string("layer_name", layer_name, allow_none=True)
        self.every_n_epochs = (
            None
            if every_n_epochs is None
            else positive_int("every_n_epochs", every_n_epochs)
        )
        self.max_to_keep = positive_int("max_to_keep", max_to_keep)
        self.overwrite = boolean("overwrite", overwrite)
        self._files = OwnedFiles(type(self).__name__, self.overwrite, "log_dir")
        self._kept = {}  # checkpoint prefix -> its files, oldest first
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

    def _path(self, name):
        return os.path.join(self.log_dir, name)

    def _write_metadata(self):
        names = self.class_names
        lines = [
            str(names[int(label)]) if names is not None else str(label)
            for label in self.labels
        ]
        with open(self._files.claim(self._path(METADATA)), "w") as f:
            f.write("\n".join(lines) + "\n")

    def _save_checkpoint(self, tf, values, step):
        """Writes `embedding.ckpt-<step>`; keeps the latest `max_to_keep`."""
        if (
            self._checkpoint is None
            or self._checkpoint.embedding.shape != values.shape
        ):
            self._checkpoint = tf.train.Checkpoint(
                embedding=tf.Variable(values)
            )
        else:
            self._checkpoint.embedding.assign(values)
        prefix = self._path(f"{CHECKPOINT_PREFIX}-{step}")
        self._files.check(glob.glob(glob.escape(prefix) + ".*"))
        self._checkpoint.write(prefix)
        self._kept.pop(prefix, None)
        self._kept[prefix] = [
            self._files.record(f) for f in glob.glob(glob.escape(prefix) + ".*")
        ]
        while len(self._kept) > self.max_to_keep:
            for path in self._kept.pop(next(iter(self._kept))):
                self._files.remove(path)
        # The `checkpoint` state file: how TensorBoard finds the latest one.
        tf.compat.v1.train.update_checkpoint_state(
            self.log_dir,
            os.path.basename(prefix),
            [os.path.basename(p) for p in self._kept],
        )
        self._files.record(self._path("checkpoint"))

    def write(self, step):
        """Writes the embedding, metadata and config; returns the embedding."""
        from tensorboard.plugins import projector

        tf = tensorflow()
        os.makedirs(self.log_dir, exist_ok=True)
        values = self.embeddings()
        self._files.check(self._own_file_names())
        self._save_checkpoint(tf, values, step)
        config = projector.ProjectorConfig()
        embedding = config.embeddings.add()
        embedding.tensor_name = TENSOR_NAME
        if self.labels is not None:
            self._write_metadata()
            embedding.metadata_path = METADATA
        self._files.claim(self._path(CONFIG))
        projector.visualize_embeddings(self.log_dir, config)
        with self.writer.as_default(step=step):
            self.summary.text(
                "latent_space/info",
                f"{values.shape[0]} points of dimension {values.shape[1]} "
                f"from {self.layer_name or 'the model output'}; open the "
                "Projector tab.",
            )
        self.writer.flush()
        return values

    def on_epoch_end(self, epoch, logs=None):
        if self.every_n_epochs and (epoch + 1) % self.every_n_epochs == 0:
            self.write(step=epoch + 1)
            self._last_step = epoch + 1

    def _own_file_names(self):
        """The paths of the fixed-name files `write` replaces."""
        fixed = ["checkpoint", CONFIG]
        fixed += [METADATA] if self.labels is not None else []
        return [self._path(name) for name in fixed]

    def on_train_begin(self, logs=None):
        # Refuse files of an earlier run before training, not at its end.
        pattern = glob.escape(self._path(CHECKPOINT_PREFIX)) + "-*"
        self._files.check(self._own_file_names() + sorted(glob.glob(pattern)))
        self._last_step = None
        self._epochs = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epochs = epoch + 1

    def on_train_end(self, logs=None):
        if self._last_step != self._epochs:
            self.write(step=self._epochs)
        super().on_train_end(logs)
