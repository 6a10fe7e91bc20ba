"""Base class of the callbacks that write TensorBoard summaries.

Summaries go through `tf.summary` file writers, which TensorBoard reads, on
every Keras backend. TensorFlow is imported only when a callback first
writes (as `keras.callbacks.TensorBoard` does), so importing or
constructing a callback loads no TensorFlow, and a callback whose
summaries are optional never needs it.
"""

import keras


def tensorflow():
    """Imports and returns TensorFlow (summaries, checkpoints of the projector)."""
    import tensorflow as tf

    return tf


class SummaryWriterCallback(keras.callbacks.Callback):
    """A `keras.callbacks.Callback` that owns a `tf.summary` file writer.

    Args:
        log_dir: directory of the TensorBoard run the summaries go to
            (`None` for callbacks whose summaries are optional).

    Subclasses write with `with self.writer.as_default(step=...):
    self.summary.scalar(...)`; the writer (and TensorFlow) is created on
    first use and flushed at the end of training. On JAX, reading
    `self.model` inside `fit` attaches the trainer's current state to the
    model's variables (`model.jax_state_sync()`), so values read or
    assigned through it are the live ones.
    """

    def __init__(self, log_dir):
        super().__init__()
        if (
            log_dir is not None
            and not isinstance(log_dir, (str, bytes))
            and not hasattr(log_dir, "__fspath__")
        ):
            raise ValueError(
                f"Argument `log_dir` must be a path. Received: log_dir={log_dir!r}"
            )
        self.log_dir = None if log_dir is None else str(log_dir)
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
