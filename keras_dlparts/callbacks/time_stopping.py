"""Stop training after a wall-clock time budget.

Works on every backend; the optional summary goes to TensorBoard through
`tf.summary` (TensorFlow is imported only with a `log_dir`).
"""

import time

from keras_dlparts._validation import boolean
from keras_dlparts._validation import positive_number
from keras_dlparts.callbacks.summary_writer import SummaryWriterCallback


class TimeStopping(SummaryWriterCallback):
    """Stops `fit` once `seconds` of wall-clock time have passed.

    The time is checked after every training batch (TensorFlow Addons'
    `TimeStopping` checked only at epoch ends, which overshoots by up to an
    epoch); the current batch finishes, then training stops.
    `self.stopped_epoch` is the epoch in which it stopped (`None` if the
    budget was not used up). With a `log_dir`, the scalar
    `time_stopping/elapsed_seconds` and a text summary
    `time_stopping/message` are written at the end of training.

    Args:
        seconds: positive finite number, the time budget of one `fit` call.
        log_dir: `None` or a TensorBoard run directory.
        verbose: bool (or 0/1), print a line when training is stopped.

    Examples:

        >>> import numpy as np, keras
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile("sgd", "mse")
        >>> stop = TimeStopping(seconds=0.01)
        >>> history = model.fit(np.ones((64, 2)), np.ones((64, 1)),
        ...     batch_size=1, epochs=1000, verbose=0, callbacks=[stop])
        >>> len(history.epoch) < 1000, stop.stopped_epoch is not None
        (True, True)
    """

    def __init__(self, seconds, log_dir=None, verbose=False):
        super().__init__(log_dir, optional=True)
        self.seconds = positive_number("seconds", seconds)
        if isinstance(verbose, float) or verbose not in (0, 1):
            boolean("verbose", verbose)  # 0 and 1 pass, as in Keras
        self.verbose = bool(verbose)
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self._start = time.monotonic()
        self._epoch = 0
        self.stopped_epoch = None

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (
            self.stopped_epoch is None
            and time.monotonic() - self._start >= self.seconds
        ):
            self.model.stop_training = True
            self.stopped_epoch = self._epoch
            if self.verbose:
                print(
                    f"TimeStopping: {self.seconds} s budget used up in epoch "
                    f"{self._epoch + 1}; training stopped."
                )

    def on_train_end(self, logs=None):
        elapsed = time.monotonic() - self._start
        if self.log_dir is not None:
            with self.writer.as_default(step=self._epoch):
                self.summary.scalar("time_stopping/elapsed_seconds", elapsed)
                message = (
                    f"stopped in epoch {self.stopped_epoch + 1} "
                    f"after {elapsed:.1f} s"
                    if self.stopped_epoch is not None
                    else f"finished within the budget ({elapsed:.1f} s)"
                )
                self.summary.text("time_stopping/message", message)
        super().on_train_end(logs)
