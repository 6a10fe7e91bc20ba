import contextlib

import keras
import numpy as np
import pytest
from support.tensorboard_events import read_events
from support.tensorboard_events import scalars

from keras_dlparts.callbacks.gradient_flow import GradientFlowMonitor
from keras_dlparts.data import load_digits
from keras_dlparts.testing import distribution_scope


def deep_mlp(activation, batch_norm, depth=20, width=32):
    layers = [keras.Input((64,))]
    for i in range(depth):
        layers.append(
            keras.layers.Dense(
                width,
                activation=None if batch_norm else activation,
                name=f"dense_{i:02d}",
            )
        )
        if batch_norm:
            layers.append(keras.layers.BatchNormalization(name=f"bn_{i:02d}"))
            layers.append(
                keras.layers.Activation(activation, name=f"act_{i:02d}")
            )
    layers.append(keras.layers.Dense(10, name="head"))
    model = keras.Sequential(layers)
    model.compile(
        "adam",
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        run_eagerly=True,  # a few steps: skip tracing the deep graph
    )
    return model


@pytest.fixture(scope="module")
def digits():
    (x, y), _ = load_digits(as_images=False)
    return x[:96], y[:96]


@pytest.mark.slow
def test_sigmoid_mlp_reports_vanishing_early_layers(digits, tmp_path):
    keras.utils.set_random_seed(0)
    x, y = digits
    model = deep_mlp("sigmoid", batch_norm=False)
    monitor = GradientFlowMonitor(
        str(tmp_path),
        (x[:64], y[:64]),
        every_n_steps=2,
        vanishing_threshold=1e-7,
    )
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[monitor])
    assert [e["step"] for e in monitor.history] == [0, 2]
    for entry in monitor.history:
        # The first layers vanish, the last ones do not.
        assert {"dense_00", "dense_01", "dense_02", "dense_03"} <= set(
            entry["vanishing"]
        )
        assert not {"dense_17", "dense_18", "dense_19", "head"} & set(
            entry["vanishing"]
        )
        assert entry["exploding"] == []
        norms = [entry["norms"][f"dense_{i:02d}"] for i in range(20)]
        assert norms[0] < 1e-3 * norms[-1]
    events = read_events(str(tmp_path))
    counts = scalars(str(tmp_path), "gradient_flow/vanishing_layers")
    assert [s for s, _ in counts] == [0, 2] and all(c >= 4 for _, c in counts)
    flags = events["gradient_flow/flags"]
    assert (
        b"dense_00" in flags[0][1].item() and b"vanishing" in flags[0][1].item()
    )
    logged = scalars(str(tmp_path), "gradient_norm/dense_00")
    np.testing.assert_allclose(
        [v for _, v in logged],
        [e["norms"]["dense_00"] for e in monitor.history],
        rtol=1e-6,
    )
    assert "gradients/dense_00" in events  # the histogram


@pytest.mark.slow
def test_relu_batch_norm_mlp_does_not_vanish(digits, tmp_path):
    keras.utils.set_random_seed(0)
    x, y = digits
    model = deep_mlp("relu", batch_norm=True)
    monitor = GradientFlowMonitor(
        str(tmp_path),
        (x[:64], y[:64]),
        every_n_steps=2,
        vanishing_threshold=1e-7,
    )
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[monitor])
    for entry in monitor.history:
        assert entry["vanishing"] == [] and entry["exploding"] == []
        assert min(entry["norms"].values()) > 1e-3
    counts = scalars(str(tmp_path), "gradient_flow/vanishing_layers")
    assert [c for _, c in counts] == [0, 0]
    assert "gradient_flow/flags" not in read_events(str(tmp_path))
    # Measuring does not move the batch-norm statistics.
    before = [v.numpy().copy() for v in model.non_trainable_variables]
    monitor.measure(step=99)
    for b, v in zip(before, model.non_trainable_variables):
        np.testing.assert_array_equal(b, v.numpy())


def test_norms_match_numpy_gradient(tmp_path):
    # Linear model with MSE: dL/dW = 2/(N*K) X^T (XW + b - Y), dL/db likewise.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, name="lin")]
    )
    model.compile("sgd", "mse")
    monitor = GradientFlowMonitor(
        str(tmp_path), (x, y), exploding_threshold=0.5
    )
    monitor.set_model(model)
    entry = monitor.measure(step=7)
    w, b = (v.numpy() for v in model.layers[0].weights)
    expected = linear_gradient_norm(x, y, w, b)
    assert entry["norms"]["lin"] == pytest.approx(expected, rel=1e-5)
    assert entry["exploding"] == (["lin"] if expected > 0.5 else [])
    monitor.on_train_end()
    assert scalars(str(tmp_path), "gradient_norm/lin") == [
        (7, pytest.approx(expected, rel=1e-5))
    ]


def linear_gradient_norm(x, y, w, b):
    """The MSE gradient norm of `x @ w + b`, from the formula."""
    residual = 2.0 * (x @ w + b - y) / y.size
    return np.sqrt(np.sum((x.T @ residual) ** 2) + np.sum(residual.sum(0) ** 2))


def test_step_0_is_the_untrained_network(tmp_path):
    # SGD with a large rate: each update changes the gradient a lot. Step 0
    # must be the gradient at the initial weights, step t after t updates.
    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(2, name="lin")]
    )
    # Fixed weights: with a random initialisation the sanity check below
    # (the first update moves the gradient norm by 10%) sometimes failed.
    model.layers[0].set_weights(
        [rng.normal(size=(3, 2)).astype("float32"), np.zeros(2, "float32")]
    )
    model.compile(keras.optimizers.SGD(0.3), "mse")
    w, b = (v.numpy().astype("float64") for v in model.layers[0].weights)
    expected = []
    for _ in range(3):  # full batch: each step is one update on (x, y)
        expected.append(linear_gradient_norm(x, y, w, b))
        residual = 2.0 * (x @ w + b - y) / y.size
        w, b = w - 0.3 * (x.T @ residual), b - 0.3 * residual.sum(0)
    expected.append(linear_gradient_norm(x, y, w, b))
    assert abs(expected[1] - expected[0]) > 0.1 * expected[0]
    monitor = GradientFlowMonitor(str(tmp_path), (x, y), every_n_steps=1)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[monitor])
    assert [e["step"] for e in monitor.history] == [0, 1, 2]
    norms = [e["norms"]["lin"] for e in monitor.history]
    np.testing.assert_allclose(norms, expected[:3], rtol=1e-4)
    # A second fit goes on counting: no second reading of step 2.
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[monitor])
    assert [e["step"] for e in monitor.history] == [0, 1, 2, 3]
    assert monitor.history[3]["norms"]["lin"] == pytest.approx(
        expected[3], rel=1e-4
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"reference_data": np.ones(3)}, "reference_data"),
        ({"every_n_steps": 0}, "every_n_steps"),
        (
            {"vanishing_threshold": 1.0, "exploding_threshold": 0.5},
            "vanishing_threshold",
        ),
    ],
)
def test_bad_arguments(kwargs, match, tmp_path):
    args = {"reference_data": (np.ones((2, 3)), np.ones((2, 1))), **kwargs}
    with pytest.raises((ValueError, TypeError), match=match):
        GradientFlowMonitor(str(tmp_path), **args)


def reference_gradients(model, x, y, variables):
    """The loss gradient from the backend's own autodiff, in training mode."""
    if keras.backend.backend() == "jax":
        import jax

        trainable = model.trainable_variables
        non_trainable = [v.value for v in model.non_trainable_variables]
        wanted = [
            next(i for i, t in enumerate(trainable) if t is v)
            for v in variables
        ]

        def loss(values):
            y_pred, _ = model.stateless_call(
                values, non_trainable, x, training=True
            )
            return model.compute_loss(x=x, y=y, y_pred=y_pred)

        grads = jax.grad(loss)([v.value for v in trainable])
        return [grads[i] for i in wanted]
    import tensorflow as tf

    with tf.GradientTape() as tape:
        loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True))
    return tape.gradient(loss, variables)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["jit", "distributed"])
def test_under_jit_and_distribution(mode, tmp_path):
    # Distributed: MirroredStrategy on TensorFlow, DataParallel on JAX.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 8)).astype("float32")
    y = (x.sum(1) > 0).astype("int32")
    monitor = GradientFlowMonitor(
        str(tmp_path), (x[:16], y[:16]), every_n_steps=1
    )
    scope = (
        distribution_scope()
        if mode == "distributed"
        else contextlib.nullcontext()
    )
    with scope:
        model = keras.Sequential(
            [
                keras.Input((8,)),
                keras.layers.Dense(16, activation="relu", name="h"),
                keras.layers.BatchNormalization(name="bn"),
                keras.layers.Dense(2, name="o"),
            ]
        )
        model.compile(
            "adam",
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=mode == "jit",
        )
        model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[monitor])
    assert [e["step"] for e in monitor.history] == [0, 1, 2]
    # The last measurement equals the backend's own gradient now.
    grads = reference_gradients(
        model, x[:16], y[:16], model.get_layer("o").trainable_variables
    )
    expected = np.sqrt(sum(np.sum(np.square(np.asarray(g))) for g in grads))
    assert monitor.measure(step=3)["norms"]["o"] == pytest.approx(
        expected, rel=1e-4
    )
    # The last measurement inside fit came after the last step: it saw the
    # trainer's current weights (on JAX, its state), the same ones.
    assert monitor.history[2]["norms"]["o"] == pytest.approx(expected, rel=1e-4)
    assert monitor.history[0]["norms"]["o"] != pytest.approx(expected, rel=1e-4)


XY = (np.ones((2, 3), "float32"), np.ones((2, 1), "float32"))


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        # Used to fail with "'<=' not supported between 'int' and 'str'".
        ({"vanishing_threshold": "x"}, TypeError, "vanishing_threshold"),
        (
            {"vanishing_threshold": float("nan")},
            ValueError,
            "vanishing_threshold",
        ),
        ({"vanishing_threshold": -1.0}, ValueError, "vanishing_threshold"),
        (
            {"exploding_threshold": float("inf")},
            ValueError,
            "exploding_threshold",
        ),
        ({"exploding_threshold": "x"}, TypeError, "exploding_threshold"),
        ({"every_n_steps": 1.5}, TypeError, "every_n_steps"),
        ({"reference_data": None}, TypeError, "reference_data"),
        ({"reference_data": (XY[0], None)}, TypeError, "reference_data"),
        ({"reference_data": (XY[0], XY[1][:1])}, ValueError, "reference_data"),
        (
            {"reference_data": (XY[0][:0], XY[1][:0])},
            ValueError,
            "reference_data",
        ),
        ({"log_dir": None}, TypeError, "log_dir"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name, tmp_path):
    args = {"log_dir": str(tmp_path), "reference_data": XY, **kwargs}
    with pytest.raises(error, match=name):
        GradientFlowMonitor(**args)


def test_nested_lists_count_as_arrays(tmp_path):
    monitor = GradientFlowMonitor(
        str(tmp_path), ([[0.0], [1.0]], [[0.0], [1.0]])
    )
    assert len(monitor.reference_data) == 2
    with pytest.raises(ValueError, match="reference_data"):
        GradientFlowMonitor(str(tmp_path), ([[0.0], [1.0]], [[0.0]]))
