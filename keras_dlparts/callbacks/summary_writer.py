"""Base class of the callbacks that write TensorBoard summaries.

Summaries go through `tf.summary` file writers, which TensorBoard reads, on
every Keras backend. TensorFlow is imported only when a callback first
writes (as `keras.callbacks.TensorBoard` does), so importing or
constructing a callback loads no TensorFlow, and a callback whose
summaries are optional never needs it.
"""

import os

import keras


def tensorflow():
    """Imports and returns TensorFlow (summaries, checkpoints of the projector)."""
    import tensorflow as tf

    return tf


def directory(name, value, optional=False):
    """`value` as a directory path string; `None` passes when `optional`."""
    if value is None and optional:
        return None
    if not isinstance(value, str) and not hasattr(value, "__fspath__"):
        raise TypeError(
            f"Argument `{name}` must be a directory path"
            + (" or None" if optional else "")
            + f". Received: {name}={value!r} of type {type(value).__name__}"
        )
    value = os.fspath(value)
    if not isinstance(value, str) or not value:
        raise ValueError(
            f"Argument `{name}` must be a non-empty directory path. "
            f"Received: {name}={value!r}"
        )
    return value


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
        self.log_dir = directory("log_dir", log_dir, optional)
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
