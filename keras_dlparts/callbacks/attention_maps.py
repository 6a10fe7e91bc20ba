"""Attention weights of a named attention layer, as TensorBoard images.

Works on every backend; the images go to TensorBoard through
`tf.summary.image` (TensorFlow is imported when the first image is written).
"""

import numpy as np

from keras_dlparts._validation import boolean
from keras_dlparts._validation import data_batch
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import string
from keras_dlparts.callbacks.probe import find_layer
from keras_dlparts.callbacks.probe import probe_model
from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback


def attention_grid(scores, normalize=True, zoom=1):
    """Lays the heads of `scores` `(batch, heads, T_q, T_k)` side by side.

    Returns float images `(batch, T_q * zoom, heads * (T_k + 1) * zoom -
    zoom, 1)` in [0, 1], one column of zeros between heads; with
    `normalize`, each head map is divided by its maximum.
    """
    scores = np.asarray(scores, "float32")
    if normalize:
        peak = scores.max(axis=(2, 3), keepdims=True)
        scores = scores / np.where(peak > 0, peak, 1.0)
    batch, heads, t_q, t_k = scores.shape
    padded = np.zeros((batch, heads, t_q, t_k + 1), "float32")
    padded[..., :t_k] = scores
    grid = padded.transpose(0, 2, 1, 3).reshape(batch, t_q, heads * (t_k + 1))
    grid = grid[:, :, :-1]
    grid = np.repeat(np.repeat(grid, zoom, axis=1), zoom, axis=2)
    return np.clip(grid, 0.0, 1.0)[..., None]


class AttentionMapLogger(SummaryWriterCallback):
    """Logs the attention weights of a named attention layer as images.

    The layer is any layer with the call signature of
    `keras.layers.MultiHeadAttention` (`query, value, key=None, ...,
    return_attention_scores=False`), e.g. `keras_dlparts.layers.
    MultiHeadAttention`, called once inside a Functional or Sequential
    model. Before training and every `every_n_epochs` epochs, the model
    runs on the fixed `inputs` up to that layer, the layer is called on
    what it received (masks and flags included) with
    `return_attention_scores=True, training=False`, and the weights
    `(batch, heads, T_q, T_k)` of the first `max_images` examples are
    written as the images `attention/<layer_name>`: one image per example,
    the heads side by side (rows: query positions, columns: key
    positions), each head scaled to its maximum when `normalize=True`, and
    each cell enlarged to `zoom x zoom` pixels. `self.last_scores` holds the
    last weights read.

    Args:
        log_dir: TensorBoard run directory.
        layer_name: name of the attention layer in the model.
        inputs: the fixed model input(s) (an array, or a list or dict of
            arrays, with a batch axis).
        every_n_epochs: positive int.
        max_images: positive int, the number of examples shown.
        normalize: bool, scale each head map to [0, 1] by its maximum.
        zoom: positive int, pixels per attention cell.

    Examples:

        >>> import numpy as np, keras, tempfile
        >>> x = keras.Input((5, 8))
        >>> y = keras.layers.MultiHeadAttention(2, 4, name="mha")(x, x)
        >>> model = keras.Model(x, y)
        >>> logger = AttentionMapLogger(
        ...     tempfile.mkdtemp(), "mha", np.ones((3, 5, 8), "float32"),
        ...     max_images=2)
        >>> logger.set_model(model)
        >>> logger.log(step=0).shape  # 2 images, 5 rows, 2 heads of 5 columns
        (2, 5, 11, 1)
    """

    def __init__(
        self,
        log_dir,
        layer_name,
        inputs,
        every_n_epochs=1,
        max_images=3,
        normalize=True,
        zoom=1,
    ):
        super().__init__(log_dir)
        self.layer_name = string("layer_name", layer_name)
        self.inputs = data_batch("inputs", inputs)
        self.every_n_epochs = positive_int("every_n_epochs", every_n_epochs)
        self.max_images = positive_int("max_images", max_images)
        self.normalize = boolean("normalize", normalize)
        self.zoom = positive_int("zoom", zoom)
        self.last_scores = None
        self._probe = None

    def _layer_and_probe(self):
        if self._probe is None:
            layer = find_layer(self.model, self.layer_name)
            if layer is None:
                raise ValueError(
                    f"Model {self.model.name!r} has no layer named "
                    f"{self.layer_name!r}."
                )
            # Keras has no public record of a layer's call (its arguments
            # and flags) in a Functional model; `_inbound_nodes` is guarded
            # by tests/test_keras_private_api.py.
            nodes = getattr(layer, "_inbound_nodes", [])
            if not nodes:
                raise ValueError(
                    f"Layer {self.layer_name!r} was never called on symbolic "
                    "inputs; AttentionMapLogger needs a Functional or "
                    "Sequential model."
                )
            self._layer, self._node = layer, nodes[0]
            self._probe = probe_model(
                self.model, list(self._node.arguments.keras_tensors)
            )
        return self._layer, self._probe

    def attention_scores(self):
        """The attention weights `(batch, heads, T_q, T_k)` on `inputs`."""
        # Reading `self.model` on JAX attaches the trainer's current state.
        _ = self.model
        layer, probe = self._layer_and_probe()
        values = probe(self.inputs, training=False)
        values = values if isinstance(values, (list, tuple)) else [values]
        tensors = {
            id(kt): v
            for kt, v in zip(self._node.arguments.keras_tensors, values)
        }
        args, kwargs = self._node.arguments.fill_in(tensors)
        kwargs = {**kwargs, "return_attention_scores": True, "training": False}
        _, scores = layer(*args, **kwargs)
        return np.asarray(scores)

    def log(self, step):
        """Writes the attention images at `step` and returns them."""
        self.last_scores = self.attention_scores()
        images = attention_grid(
            self.last_scores[: self.max_images], self.normalize, self.zoom
        )
        with self.writer.as_default(step=step):
            self.summary.image(
                f"attention/{self.layer_name}",
                images,
                max_outputs=self.max_images,
            )
        return images

    def on_train_begin(self, logs=None):
        self.log(step=0)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every_n_epochs == 0:
            self.log(step=epoch + 1)
