"""An LSTM forecaster on a generated series, with a 1D CNN for comparison.

The series is two sines plus noise. Each model sees the last `WINDOW`
values and predicts the next `HORIZON`; it trains on the first 80% of the
windows and is scored on the rest against the persistence forecast (repeat
the last value). The LSTM is `keras.layers.RNN` over our `LSTMCell` with
layer normalisation and peepholes; the CNN is `build_timeseries_cnn`.

Usage: python examples/lstm_forecaster.py   (about half a minute on a CPU)
"""

import keras
import numpy as np

from keras_dlparts.layers import LSTMCell
from keras_dlparts.models import build_timeseries_cnn

WINDOW, HORIZON = 24, 4


def make_series(n=1200, seed=0):
    t = np.arange(n)
    noise = np.random.default_rng(seed).normal(scale=0.1, size=n)
    return np.sin(2 * np.pi * t / 40) + 0.5 * np.sin(2 * np.pi * t / 9) + noise


def make_windows(series, window, horizon):
    """x[i] = series[i : i + window], y[i] = the next `horizon` values."""
    n = len(series) - window - horizon + 1
    x = np.stack([series[i : i + window] for i in range(n)])[..., None]
    y = np.stack([series[i + window : i + window + horizon] for i in range(n)])
    return x.astype("float32"), y.astype("float32")


def build_lstm_forecaster(window, horizon, units=32):
    inputs = keras.Input((window, 1))
    cell = LSTMCell(units, layer_norm=True, peephole=True)
    state = keras.layers.RNN(cell)(inputs)
    outputs = keras.layers.Dense(horizon)(state)
    return keras.Model(inputs, outputs, name="lstm_forecaster")


def main(epochs=15):
    keras.utils.set_random_seed(0)
    x, y = make_windows(make_series(), WINDOW, HORIZON)
    split = int(0.8 * len(x))
    (x_train, y_train), (x_test, y_test) = (
        (x[:split], y[:split]),
        (x[split:], y[split:]),
    )
    persistence = np.mean((x_test[:, -1:, 0] - y_test) ** 2)
    print(f"persistence forecast: test MSE {persistence:.4f}")
    for model in (
        build_lstm_forecaster(WINDOW, HORIZON),
        build_timeseries_cnn(WINDOW, horizon=HORIZON),
    ):
        model.compile(keras.optimizers.Adam(3e-3), "mse")
        model.fit(x_train, y_train, epochs=epochs, batch_size=32, verbose=0)
        mse = model.evaluate(x_test, y_test, verbose=0)
        print(
            f"{model.name}: test MSE {mse:.4f} "
            f"({mse / persistence:.2f} of persistence)"
        )


if __name__ == "__main__":
    main()
