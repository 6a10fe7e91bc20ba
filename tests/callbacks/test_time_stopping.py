import time

import keras
import numpy as np
import pytest
from support.tensorboard_events import read_events
from support.tensorboard_events import scalars

from keras_dlparts.callbacks.time_stopping import TimeStopping


def test_stops_after_the_budget(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((32, 2), "float32"), np.ones((32, 1), "float32")
    model.fit(x, y, verbose=0)  # trace first, so the budget measures training
    stop = TimeStopping(seconds=1.0, log_dir=str(tmp_path))
    start = time.monotonic()
    history = model.fit(
        x, y, batch_size=4, epochs=100000, verbose=0, callbacks=[stop]
    )
    elapsed = time.monotonic() - start
    assert 1.0 <= elapsed < 10.0  # one batch past the budget, on a busy machine
    assert stop.stopped_epoch == history.epoch[-1] < 99999
    logged = scalars(str(tmp_path), "time_stopping/elapsed_seconds")
    assert len(logged) == 1 and 1.0 <= logged[0][1] <= elapsed
    message = read_events(str(tmp_path))["time_stopping/message"][0][1].item()
    assert message.startswith(b"stopped in epoch")


def test_does_not_stop_within_budget():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    stop = TimeStopping(seconds=600)
    history = model.fit(
        np.ones((8, 2)), np.ones((8, 1)), epochs=3, verbose=0, callbacks=[stop]
    )
    assert history.epoch == [0, 1, 2] and stop.stopped_epoch is None


@pytest.mark.parametrize(
    "seconds, error",
    [
        (0, ValueError),
        (-1.0, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        (True, TypeError),
        ("10", TypeError),
    ],
)
def test_bad_seconds(seconds, error):
    # NaN used to be accepted: `elapsed >= nan` is never true, so the run
    # never stopped.
    with pytest.raises(error, match="seconds"):
        TimeStopping(seconds)


@pytest.mark.parametrize("verbose", ["yes", 2, None, 1.5])
def test_bad_verbose(verbose):
    with pytest.raises(TypeError, match="verbose"):
        TimeStopping(1.0, verbose=verbose)
    assert TimeStopping(1.0, verbose=1).verbose is True  # Keras's 0/1 pass
