"""1D convolutional forecaster on windows of past values."""

import keras

from keras_dlparts import _validation as args


def build_timeseries_cnn(
    window,
    num_features=1,
    horizon=1,
    filters=(32, 32),
    kernel_size=3,
    dense_units=32,
    name="timeseries_cnn",
):
    """Builds a 1D CNN that forecasts the next values from a window.

    Input: the last `window` time steps, `(batch, window, num_features)`.
    Causal 1D convolutions (each output sees only the present and the
    past) with ReLU, flattened, a hidden dense layer and a linear output of
    the next `horizon` values of the first feature (the target),
    `(batch, horizon)`. Train it with a regression loss on windows cut from
    the series: `x[i] = series[i : i + window]`,
    `y[i] = series[i + window : i + window + horizon, 0]`.

    Args:
        window: positive integer, number of past steps seen.
        num_features: positive integer, features per time step.
        horizon: positive integer, future steps predicted.
        filters: sequence of positive integers, filters per convolution.
        kernel_size: positive integer, width of the convolutions.
        dense_units: positive integer, units of the hidden dense layer.
        name: model name.

    Returns:
        An uncompiled `keras.Model`.

    Examples:

        >>> from keras_dlparts.models import build_timeseries_cnn
        >>> build_timeseries_cnn(window=12, horizon=3).output_shape
        (None, 3)
    """
    args.positive_int("window", window)
    args.positive_int("num_features", num_features)
    args.positive_int("horizon", horizon)
    filters = args.positive_ints("filters", filters)
    args.positive_int("kernel_size", kernel_size)
    args.positive_int("dense_units", dense_units)
    inputs = keras.Input((window, num_features), name="window")
    x = inputs
    for i, count in enumerate(filters, start=1):
        x = keras.layers.Conv1D(
            count,
            kernel_size,
            padding="causal",
            activation="relu",
            name=f"conv{i}",
        )(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense_units, activation="relu", name="hidden")(x)
    outputs = keras.layers.Dense(horizon, name="forecast")(x)
    return keras.Model(inputs, outputs, name=name)
