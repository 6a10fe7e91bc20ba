"""Base class of the callbacks that write TensorBoard summaries.

TensorFlow-only: summaries go through `tf.summary` file writers, which
TensorBoard reads. The writer is created lazily, on the first summary, so
that a callback can be constructed before TensorFlow is configured.
"""

import keras
import tensorflow as tf


class SummaryWriterCallback(keras.callbacks.Callback):
    """A `keras.callbacks.Callback` that owns a `tf.summary` file writer.

    Args:
        log_dir: directory of the TensorBoard run the summaries go to
            (`None` for callbacks whose summaries are optional).

    Subclasses write with `with self.writer.as_default(): tf.summary...`
    and the writer is flushed at the end of training.
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
    def writer(self):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.log_dir)
        return self._writer

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()
