import keras
import numpy as np
import pytest
from optimizers.test_lookahead import keras_adam_step

from keras_dlparts.optimizers import MultiOptimizer
from keras_dlparts.optimizers import Yogi
from keras_dlparts.testing import check_optimizer

ADAM = dict(learning_rate=0.0625, beta_1=0.875, beta_2=1 - 2**-10)


def _net():
    # Fixed names: the groups are recorded as variable paths.
    return keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu", name="body"),
            keras.layers.Dense(1, name="head"),
        ],
        name="net",
    )


def _multi(body=None, head=None):
    return MultiOptimizer(
        [
            (
                body or keras.optimizers.SGD(0.01, momentum=0.5),
                ["net/body/kernel", "net/body/bias"],
            ),
            (
                head or keras.optimizers.Adam(0.01),
                ["net/head/kernel", "net/head/bias"],
            ),
        ]
    )


def test_each_group_follows_its_own_rule():
    """SGD on one variable, Keras's Adam on the other, against NumPy."""
    rng = np.random.default_rng(0)
    a0, b0 = rng.normal(size=(3, 2)), rng.normal(size=4)
    a = keras.Variable(a0, dtype="float32", name="a")
    b = keras.Variable(b0, dtype="float32", name="b")
    opt = MultiOptimizer(
        [
            (keras.optimizers.SGD(0.125), ["a"]),
            (keras.optimizers.Adam(**ADAM), ["b"]),
        ]
    )
    adam_step = keras_adam_step(*ADAM.values())
    state = {"m": np.zeros(4), "v": np.zeros(4)}
    expected_a, expected_b = a0, b0
    for t in range(1, 7):
        ga, gb = rng.normal(size=(3, 2)), rng.normal(size=4)
        opt.apply([ga, gb], [a, b])
        expected_a = expected_a - 0.125 * ga
        expected_b = adam_step(expected_b, gb, state, t)
        # float32 variables: float32 rounding only.
        np.testing.assert_allclose(a.numpy(), expected_a, atol=1e-6)
        np.testing.assert_allclose(b.numpy(), expected_b, atol=1e-6)
    assert int(opt.iterations.numpy()) == 6
    assert [int(o.iterations.numpy()) for o in opt.optimizers] == [6, 6]


def test_fit_trains_each_layer_with_its_optimizer():
    # Linear regression, full batch: the kernel by SGD, the bias by Adam.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(1, name="lin")], name="reg"
    )
    kernel0, bias0 = (w.astype("float64") for w in model.get_weights())
    model.compile(
        MultiOptimizer(
            [
                (keras.optimizers.SGD(0.125), ["reg/lin/kernel"]),
                (keras.optimizers.Adam(**ADAM), ["reg/lin/bias"]),
            ]
        ),
        "mse",
    )
    model.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0)
    adam_step = keras_adam_step(*ADAM.values())
    state = {"m": np.zeros(1), "v": np.zeros(1)}
    kernel, bias = kernel0, bias0
    xd, yd = x.astype("float64"), y.astype("float64")
    for t in range(1, 6):
        residual = 2 * (xd @ kernel + bias - yd) / len(x)
        kernel, bias = (
            kernel - 0.125 * xd.T @ residual,
            adam_step(bias, residual.sum(0), state, t),
        )
    got_kernel, got_bias = model.get_weights()
    np.testing.assert_allclose(got_kernel, kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_bias, bias, rtol=1e-5, atol=1e-6)


def test_layers_can_be_given_as_layers_or_models():
    model = _net()
    opt = MultiOptimizer(
        [
            (keras.optimizers.SGD(0.1), model.layers[0]),
            (Yogi(0.01), [model.layers[1]]),
        ]
    )
    assert opt.variable_paths == [
        ["net/body/kernel", "net/body/bias"],
        ["net/head/kernel", "net/head/bias"],
    ]
    whole = MultiOptimizer([(keras.optimizers.SGD(0.1), model)])
    assert len(whole.variable_paths[0]) == 4


@pytest.mark.slow
def test_contract():
    check_optimizer(_multi, build_fn=_net)


@pytest.mark.slow
def test_saves_and_reloads_with_its_groups(tmp_path):
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(16, 8)).astype("float32")
    y = x[:, :1]
    model = _net()
    model.compile(_multi(head=Yogi(0.01)), "mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    optimizer = restored.optimizer
    assert isinstance(optimizer, MultiOptimizer)
    assert [type(o).__name__ for o in optimizer.optimizers] == ["SGD", "Yogi"]
    assert optimizer.variable_paths == model.optimizer.variable_paths
    for saved, loaded in zip(
        model.optimizer.variables, optimizer.variables, strict=True
    ):
        np.testing.assert_array_equal(saved.numpy(), loaded.numpy())
    for each in (model, restored):
        each.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.weights, restored.weights, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)


def test_a_variable_without_a_group_is_refused():
    model = _net()
    opt = MultiOptimizer([(keras.optimizers.SGD(0.1), model.layers[0])])
    model.compile(opt, "mse")
    with pytest.raises(ValueError, match="no optimizer for the variables"):
        model.fit(np.zeros((4, 8)), np.zeros((4, 1)), verbose=0)


def test_apply_without_variables_once_built_and_none_gradients():
    dense = keras.layers.Dense(1, name="d")
    dense.build((None, 2))
    opt = MultiOptimizer([(keras.optimizers.SGD(1.0), dense)])
    kernel, bias = dense.trainable_variables
    grads = [keras.ops.ones(kernel.shape), None]
    with pytest.raises(ValueError, match="MultiOptimizer: pass `trainable"):
        opt.apply(grads)
    opt.build([kernel, bias])
    start = kernel.numpy(), bias.numpy()
    opt.apply(grads)  # the variables of `build`; no step for the bias
    np.testing.assert_allclose(kernel.numpy(), start[0] - 1.0)
    np.testing.assert_array_equal(bias.numpy(), start[1])
    assert int(opt.iterations.numpy()) == 1


@pytest.mark.parametrize(
    "pairs, error, match",
    [
        (None, TypeError, "`optimizers_and_layers` must be a non-empty"),
        ([], TypeError, "`optimizers_and_layers` must be a non-empty"),
        ([("x",)], TypeError, "must hold \\(optimizer, layers\\) pairs"),
        ([("adam", ["a"])], TypeError, "`optimizers_and_layers\\[0\\]\\[0\\]`"),
        ([(keras.optimizers.SGD(), 3)], TypeError, "\\[0\\]\\[1\\]` must be"),
        ([(keras.optimizers.SGD(), ["a", 3])], TypeError, "\\[0\\]\\[1\\]`"),
        (
            [
                (keras.optimizers.SGD(), ["a"]),
                (keras.optimizers.Adam(), ["b", "a"]),
            ],
            ValueError,
            "each variable to one optimizer; 'a' is in groups 0 and 1",
        ),
        (
            [(keras.layers.Dense(2), ["a"])],
            TypeError,
            "\\[0\\]\\[0\\]` must be",
        ),
    ],
)
def test_bad_arguments(pairs, error, match):
    with pytest.raises(error, match=match):
        MultiOptimizer(pairs)


def test_unbuilt_layer_and_repeated_optimizer_and_kwargs_are_refused():
    with pytest.raises(ValueError, match="has no weights yet"):
        MultiOptimizer([(keras.optimizers.SGD(), keras.layers.Dense(2))])
    sgd = keras.optimizers.SGD()
    with pytest.raises(ValueError, match="each optimizer once"):
        MultiOptimizer([(sgd, ["a"]), (sgd, ["b"])])
    with pytest.raises(ValueError, match="set them there"):
        MultiOptimizer([(sgd, ["a"])], clipnorm=1.0)
