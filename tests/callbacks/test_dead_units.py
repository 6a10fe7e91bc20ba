import keras
import numpy as np
import pytest
from support.tensorboard_events import read_events
from support.tensorboard_events import scalars

from keras_dlparts.callbacks.dead_units import DeadUnitMonitor
from keras_dlparts.callbacks.dead_units import is_relu_layer


def relu_mlp():
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", name="h1"),
            keras.layers.Dense(16, name="h2_linear"),
            keras.layers.ReLU(name="h2"),
            keras.layers.Dense(16, activation="relu", name="h3"),
            keras.layers.Dense(1, name="out"),
        ]
    )
    model.compile(keras.optimizers.SGD(1e-3), "mse", run_eagerly=True)
    return model


@pytest.mark.slow
def test_detects_layer_killed_by_negative_bias(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = rng.normal(size=(64, 1)).astype("float32")
    model = relu_mlp()
    model.get_layer("h2_linear").bias.assign(np.full(16, -100.0, "float32"))
    monitor = DeadUnitMonitor(str(tmp_path), x, every_n_epochs=1)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[monitor])
    assert [e["step"] for e in monitor.history] == [0, 1, 2]
    for entry in monitor.history:
        assert entry["fractions"]["h2"] == 1.0
        assert entry["fractions"]["h1"] < 0.5
        assert entry["alerts"] == ["h2", "h3"]  # h3 sees only zeros: dead too
    assert scalars(str(tmp_path), "dead_units/h2") == [
        (0, 1.0),
        (1, 1.0),
        (2, 1.0),
    ]
    h1 = scalars(str(tmp_path), "dead_units/h1")
    assert [v for _, v in h1] == [e["fractions"]["h1"] for e in monitor.history]
    alerts = read_events(str(tmp_path))["dead_units/alerts"]
    assert b"h2 (100%)" in alerts[0][1].item()


def test_fraction_matches_numpy(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(32, 8)).astype("float32")
    model = relu_mlp()
    w, b = (v.numpy() for v in model.get_layer("h1").weights)
    b = np.linspace(-6.0, 1.0, 16).astype("float32")  # some units die
    model.get_layer("h1").bias.assign(b)
    monitor = DeadUnitMonitor(str(tmp_path), x)
    monitor.set_model(model)
    expected = np.mean(np.max(np.maximum(x @ w + b, 0.0), axis=0) <= 0)
    assert 0 < expected < 1
    assert monitor.measure(step=0)["fractions"]["h1"] == pytest.approx(expected)


def test_relu_layer_detection():
    assert is_relu_layer(keras.layers.Dense(2, activation="relu"))
    assert is_relu_layer(keras.layers.Activation("relu"))
    assert is_relu_layer(keras.layers.ReLU())
    assert not is_relu_layer(keras.layers.ReLU(negative_slope=0.1))
    assert not is_relu_layer(keras.layers.Dense(2, activation="gelu"))


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="alert_fraction"):
        DeadUnitMonitor(str(tmp_path), np.ones((2, 2)), alert_fraction=0.0)
    with pytest.raises(ValueError, match="every_n_epochs"):
        DeadUnitMonitor(str(tmp_path), np.ones((2, 2)), every_n_epochs=0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    monitor = DeadUnitMonitor(str(tmp_path), np.ones((2, 2), "float32"))
    monitor.set_model(model)
    with pytest.raises(ValueError, match="no ReLU layer"):
        monitor.measure(0)


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        # reference_data=None used to fail only when training started.
        ({"reference_data": None}, TypeError, "reference_data"),
        ({"reference_data": np.ones((0, 8))}, ValueError, "reference_data"),
        ({"alert_fraction": float("nan")}, ValueError, "alert_fraction"),
        ({"alert_fraction": "x"}, TypeError, "alert_fraction"),
        ({"alert_fraction": 0.0}, ValueError, "alert_fraction"),
        ({"every_n_epochs": None}, TypeError, "every_n_epochs"),
    ],
)
def test_bad_arguments_refused_at_construction(kwargs, error, name, tmp_path):
    args = {
        "log_dir": str(tmp_path),
        "reference_data": np.ones((2, 8)),
        **kwargs,
    }
    with pytest.raises(error, match=name):
        DeadUnitMonitor(**args)
