"""Base class of the callbacks that write TensorBoard summaries.

Summaries go through `tf.summary` file writers, which TensorBoard reads, on
every Keras backend. TensorFlow is imported only when a callback first
writes (as `keras.callbacks.TensorBoard` does), so importing or
constructing a callback loads no TensorFlow, and a callback whose
summaries are optional never needs it.
"""

import keras

from keras_dlparts._validation import path


def tensorflow():
    """Imports and returns TensorFlow (summaries, projector checkpoints)."""
    import tensorflow as tf

    return tf


class SummaryWriterCallback(keras.callbacks.Callback):
    """A `keras.callbacks.Callback` that owns a `tf.summary` file writer.

    Args:
        log_dir: directory of the TensorBoard run the summaries go to
            (`None` for callbacks whose summaries are optional).
        optional: whether `log_dir` may be `None`.

    Subclasses write with `with self.writer.as_default(step=...):
    self.summary.scalar(...)`; the writer (and TensorFlow) is created on
    first use and flushed at the end of training. On JAX, reading
    `self.model` inside `fit` attaches the trainer's current state to the
    model's variables (`model.jax_state_sync()`), so values read or
    assigned through it are the live ones.
    """

    def __init__(self, log_dir, optional=False):
        super().__init__()
        self.log_dir = path("log_dir", log_dir, allow_none=optional)
        self._writer = None

    @property
    def summary(self):
        """The `tf.summary` module (imports TensorFlow on first use)."""
        return tensorflow().summary

    @property
    def writer(self):
        """The `tf.summary` file writer of `log_dir`, created on first use."""
        if self._writer is None:
            self._writer = self.summary.create_file_writer(self.log_dir)
        return self._writer

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()
