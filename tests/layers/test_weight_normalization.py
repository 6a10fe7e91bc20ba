"""Tests of keras_dlparts.layers.WeightNormalization."""

import os

import keras
import numpy as np
import pytest
from support.numpy_conv import conv2d

from keras_dlparts.layers import WeightNormalization
from keras_dlparts.testing import check_layer

rng = np.random.default_rng(0)
X = (rng.normal(size=(32, 5)) * 3 + 2).astype("float32")
IMAGES = (rng.normal(size=(8, 6, 6, 3)) * 2 - 1).astype("float32")


def _numpy(value):
    return np.asarray(keras.ops.convert_to_numpy(value), "float64")


def _direction(kernel):
    """v / ||v||, the norm over every axis but the last (the units)."""
    axes = tuple(range(kernel.ndim - 1))
    return kernel / np.sqrt(np.sum(kernel**2, axis=axes, keepdims=True))


@keras.saving.register_keras_serializable(package="tests_weight_norm")
class _WrappedDense(WeightNormalization):
    """WeightNormalization of a fresh Dense(units): a class the contract
    can build from keyword arguments."""

    def __init__(self, units=3, data_init=True, **kwargs):
        kwargs.pop("layer", None)
        super().__init__(keras.layers.Dense(units), data_init, **kwargs)
        self.units = units

    def get_config(self):
        config = super().get_config()
        config.pop("layer")
        return {**config, "units": self.units}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _dense_reference(layer, x):
    w = _direction(_numpy(layer.layer.kernel)) * _numpy(
        layer.g + layer.g_offset
    )
    bias = _numpy(layer.layer.bias) + _numpy(layer.bias_offset)
    return x @ w + bias


@pytest.mark.slow
def test_contract_with_numpy_reference():
    check_layer(_WrappedDense, {"units": 3}, X, reference=_dense_reference)


@pytest.mark.parametrize(
    "make",
    [
        lambda: keras.layers.Dense(4, activation="tanh"),
        lambda: keras.layers.Conv2D(4, 3, padding="same"),
        lambda: keras.layers.Conv1D(2, 2, strides=2, use_bias=False),
    ],
)
@pytest.mark.slow
def test_without_data_init_it_computes_what_the_layer_computed(make):
    # TFA's documented behaviour: g starts at ||v||, so w = v at first.
    x = IMAGES if "2D" in type(make()).__name__ else X
    if "1D" in type(make()).__name__:
        x = IMAGES[:, 0]
    layer = make()
    expected = _numpy(layer(x))
    wrapped = WeightNormalization(layer, data_init=False)
    np.testing.assert_allclose(
        _numpy(wrapped(x, training=True)), expected, rtol=1e-5, atol=1e-5
    )


def test_kernel_is_g_times_the_direction_of_v():
    layer = WeightNormalization(keras.layers.Conv2D(4, 3), data_init=False)
    layer(IMAGES)
    g = rng.uniform(0.5, 2.0, size=4).astype("float32")
    layer.g.assign(g)
    v = _numpy(layer.layer.kernel)
    np.testing.assert_allclose(
        _numpy(layer.kernel), _direction(v) * g, rtol=1e-5
    )
    expected = conv2d(
        IMAGES.astype("float64"),
        _direction(v) * g,
        _numpy(layer.layer.bias),
        padding="valid",
    )
    np.testing.assert_allclose(
        _numpy(layer(IMAGES)), expected, rtol=1e-4, atol=1e-5
    )


@pytest.mark.parametrize(
    "make, x, axes",
    [
        (lambda: keras.layers.Dense(3, activation="relu"), X, (0,)),
        (lambda: keras.layers.Conv2D(4, 3), IMAGES, (0, 1, 2)),
    ],
)
def test_data_init_normalizes_the_first_training_batch(make, x, axes):
    layer = WeightNormalization(make())
    untouched = _numpy(layer(x))  # inference: no initialization yet
    assert float(_numpy(layer.initialized)) == 0.0
    layer(x, training=True)
    # The paper's formulas, in NumPy: t = x . v / ||v||.
    direction = _direction(_numpy(layer.layer.kernel))
    if len(axes) == 1:
        t = x @ direction
    else:
        t = conv2d(x.astype("float64"), direction, padding="valid")
    g = 1.0 / t.std(axis=axes)
    np.testing.assert_allclose(_numpy(layer.g + layer.g_offset), g, rtol=1e-4)
    np.testing.assert_allclose(
        _numpy(layer.layer.bias + layer.bias_offset),
        -t.mean(axis=axes) * g,
        rtol=1e-4,
        atol=1e-5,
    )
    pre_activation = t * g - t.mean(axis=axes) * g
    assert np.allclose(pre_activation.mean(axis=axes), 0.0, atol=1e-5)
    assert np.allclose(pre_activation.std(axis=axes), 1.0, atol=1e-4)
    # Later training calls keep the values.
    before = _numpy(layer.g_offset)
    layer(x * 3.0, training=True)
    np.testing.assert_array_equal(_numpy(layer.g_offset), before)
    assert not np.allclose(_numpy(layer(x)), untouched)


@pytest.mark.slow
def test_fit_initializes_inside_the_compiled_step_and_saves(tmp_path):
    inputs = keras.Input((5,))
    wrapped = WeightNormalization(keras.layers.Dense(4, activation="relu"))
    outputs = keras.layers.Dense(1)(wrapped(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    y = X[:, :1] - X[:, 1:2]
    history = model.fit(X, y, epochs=4, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert float(_numpy(wrapped.initialized)) == 1.0
    assert np.any(_numpy(wrapped.g_offset) != 0)
    path = os.path.join(tmp_path, "wn.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(X, verbose=0), model.predict(X, verbose=0), rtol=1e-5
    )
    # The loaded layer is initialized: training on does not reset it.
    reloaded = loaded.layers[1]
    np.testing.assert_allclose(
        _numpy(reloaded(X, training=True)), _numpy(wrapped(X)), rtol=1e-5
    )


def test_config_round_trip():
    layer = WeightNormalization(keras.layers.Conv1D(3, 2), data_init=False)
    clone = WeightNormalization.from_config(layer.get_config())
    assert isinstance(clone.layer, keras.layers.Conv1D)
    assert clone.data_init is False


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"layer": keras.layers.LSTM(2)}, TypeError, "layer"),
        ({"layer": None}, TypeError, "layer"),
        (
            {"layer": keras.layers.Conv1D(2, 2, padding="causal")},
            ValueError,
            "causal",
        ),
        (
            {"layer": keras.layers.Dense(2), "data_init": 1},
            TypeError,
            "data_init",
        ),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        WeightNormalization(**kwargs)
