"""The LSTM forecaster example: windows line up, the LSTM beats persistence."""

import keras
import numpy as np
import pytest
from support.examples import load_example

forecaster = load_example("lstm_forecaster")


def test_windows_are_past_values_and_next_values():
    series = np.arange(10.0)
    x, y = forecaster.make_windows(series, window=4, horizon=2)
    assert x.shape == (5, 4, 1) and y.shape == (5, 2)
    np.testing.assert_array_equal(x[1, :, 0], [1, 2, 3, 4])
    np.testing.assert_array_equal(y[1], [5, 6])


@pytest.mark.slow
def test_lstm_forecaster_beats_persistence():
    keras.utils.set_random_seed(0)
    x, y = forecaster.make_windows(forecaster.make_series(600), 24, 4)
    model = forecaster.build_lstm_forecaster(24, 4, units=16)
    # 1e-2: five epochs beat persistence by a margin from seeds 0-2 on both
    # backends (which draw different initial weights from one seed).
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    model.fit(x[:400], y[:400], epochs=5, batch_size=32, verbose=0)
    mse = model.evaluate(x[400:], y[400:], verbose=0)
    persistence = np.mean((x[400:, -1:, 0] - y[400:]) ** 2)
    assert mse < 0.5 * persistence
