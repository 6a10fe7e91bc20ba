"""Tests of keras_dlparts.layers.LSTMCell."""

import inspect

import keras
import numpy as np
import pytest

from keras_dlparts.layers import LSTMCell
from keras_dlparts.testing import check_model


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _layer_norm(x, gamma, beta, eps):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _numpy_lstm(cell, x):
    """The whole sequence, one NumPy step at a time, from the equations."""
    w = {v.name: np.asarray(v.numpy(), "float64") for v in cell.weights}
    units = cell.units
    h = np.zeros((x.shape[0], units))
    c = np.zeros((x.shape[0], units))
    eps = cell.layer_norm_epsilon
    for t in range(x.shape[1]):
        xw = x[:, t] @ w["kernel"]
        hu = h @ w["recurrent_kernel"]
        if cell.layer_norm:
            xw = _layer_norm(
                xw, w["kernel_norm_gamma"], w["kernel_norm_beta"], eps
            )
            hu = _layer_norm(
                hu, w["recurrent_norm_gamma"], w["recurrent_norm_beta"], eps
            )
        z = xw + hu + w["bias"]
        z_i, z_f, z_c, z_o = np.split(z, 4, axis=-1)
        if cell.peephole:
            z_i = z_i + w["input_peephole"] * c
            z_f = z_f + w["forget_peephole"] * c
        c = _sigmoid(z_f) * c + _sigmoid(z_i) * np.tanh(z_c)
        if cell.layer_norm:
            c = _layer_norm(c, w["state_norm_gamma"], w["state_norm_beta"], eps)
        if cell.peephole:
            z_o = z_o + w["output_peephole"] * c
        h = _sigmoid(z_o) * np.tanh(c)
    return h, c


def _randomise(layer, seed=0):
    rng = np.random.default_rng(seed)
    layer.set_weights(
        [
            rng.normal(scale=0.5, size=w.shape).astype("float32")
            for w in layer.get_weights()
        ]
    )


X = np.random.default_rng(1).normal(size=(4, 6, 3)).astype("float32")


@pytest.mark.slow
def test_matches_keras_lstm_cell_with_same_weights_and_mask():
    mask = np.ones((4, 6), bool)
    mask[1, 4:] = False
    ours = keras.layers.RNN(
        LSTMCell(5), return_sequences=True, return_state=True
    )
    peer = keras.layers.RNN(
        keras.layers.LSTMCell(5), return_sequences=True, return_state=True
    )
    ours(X)
    peer(X)
    _randomise(ours)
    peer.set_weights(ours.get_weights())
    for a, b in zip(ours(X, mask=mask), peer(X, mask=mask)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    # Same variable layout as the Keras cell.
    assert [w.shape for w in ours.weights] == [w.shape for w in peer.weights]


@pytest.mark.parametrize(
    "options",
    [
        {"peephole": True},
        {"layer_norm": True},
        {"peephole": True, "layer_norm": True},
    ],
)
@pytest.mark.slow
def test_variants_match_numpy_steps(options):
    cell = LSTMCell(5, **options)
    rnn = keras.layers.RNN(cell, return_state=True)
    rnn(X)
    _randomise(rnn, seed=3)
    h, _, c = rnn(X)
    h_ref, c_ref = _numpy_lstm(cell, X.astype("float64"))
    np.testing.assert_allclose(np.asarray(h), h_ref, atol=1e-5)
    np.testing.assert_allclose(np.asarray(c), c_ref, atol=1e-5)


def test_unit_forget_bias_initialisation():
    rnn = keras.layers.RNN(LSTMCell(3))
    rnn(X)
    np.testing.assert_array_equal(
        rnn.cell.bias.numpy(), [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    )


def test_config_round_trip():
    cell = LSTMCell(
        4,
        layer_norm=True,
        peephole=True,
        dropout=0.25,
        recurrent_dropout=0.5,
        seed=7,
        kernel_regularizer="l2",
        layer_norm_epsilon=1e-4,
    )
    config = cell.get_config()
    params = inspect.signature(LSTMCell.__init__).parameters
    assert set(params) - {"self", "kwargs"} <= set(config)
    clone = LSTMCell.from_config(config)
    assert clone.get_config() == config
    rnn = keras.layers.RNN(cell)
    rnn_clone = keras.layers.RNN.from_config(
        keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(rnn)
        ).get_config()
    )
    assert isinstance(rnn_clone.cell, LSTMCell)
    assert rnn_clone.cell.get_config() == config


def test_bidirectional_saves_and_reloads(tmp_path):
    inputs = keras.Input((6, 3))
    outputs = keras.layers.Bidirectional(
        keras.layers.RNN(LSTMCell(3, peephole=True), return_sequences=True)
    )(inputs)
    model = keras.Model(inputs, outputs)
    assert tuple(model.output.shape) == (None, 6, 6)
    model.save(tmp_path / "bi.keras")
    reloaded = keras.saving.load_model(tmp_path / "bi.keras", safe_mode=True)
    np.testing.assert_allclose(
        np.asarray(reloaded(X)), np.asarray(model(X)), atol=1e-6
    )


@pytest.mark.slow
def test_dropout_masks_are_seeded_and_only_in_training():
    rnn = keras.layers.RNN(
        LSTMCell(4, dropout=0.5, recurrent_dropout=0.5, seed=1)
    )
    inference = np.asarray(rnn(X))
    np.testing.assert_array_equal(inference, np.asarray(rnn(X)))
    assert not np.allclose(np.asarray(rnn(X, training=True)), inference)


def _builder():
    inputs = keras.Input((6, 3))
    masked = keras.layers.Masking(0.0)(inputs)
    seq = keras.layers.RNN(
        LSTMCell(
            4,
            layer_norm=True,
            peephole=True,
            dropout=0.1,
            recurrent_dropout=0.1,
            seed=0,
        )
    )(masked)
    return keras.Model(inputs, keras.layers.Dense(2)(seq))


@pytest.mark.slow
def test_contract_inside_rnn_with_mask():
    x = X.copy()
    x[0, 4:] = 0.0  # padded steps are masked
    y = np.random.default_rng(2).normal(size=(4, 2)).astype("float32")
    check_model(_builder, x, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, "units"),
        ({"units": 2, "dropout": 1.5}, "dropout"),
        ({"units": 2, "layer_norm_epsilon": 0}, "layer_norm_epsilon"),
        (
            {"units": 2, "layer_norm_epsilon": float("nan")},
            "layer_norm_epsilon",
        ),
        ({"units": 2, "recurrent_dropout": float("nan")}, "recurrent_dropout"),
        ({"units": 2, "activation": "no-such"}, "`activation`"),
        (
            {"units": 2, "recurrent_initializer": "no-such"},
            "recurrent_initializer",
        ),
        ({"units": 2, "bias_regularizer": "no-such"}, "bias_regularizer"),
        (
            {"units": 2, "recurrent_constraint": "no-such"},
            "recurrent_constraint",
        ),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LSTMCell(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 2.0}, "units"),
        ({"units": 2, "peephole": "yes"}, "peephole"),
        ({"units": 2, "seed": "0"}, "seed"),
    ],
)
def test_wrong_types_raise_type_error(kwargs, match):
    with pytest.raises(TypeError, match=match):
        LSTMCell(**kwargs)


def test_bad_input_rank():
    with pytest.raises(ValueError, match="`inputs` .*features"):
        LSTMCell(2).build((2, 3, 4))


X_STEP, H, C = (
    np.zeros((2, 3), "float32"),
    np.zeros((2, 4), "float32"),
    np.zeros((2, 4), "float32"),
)


@pytest.mark.parametrize(
    "states, match",
    [
        (
            [np.zeros((2, 5), "float32"), C],
            r"`states\[0\]` .*\(batch, 4\).*\(2, 5\)",
        ),
        ([H, np.zeros((2, 3), "float32")], r"`states\[1\]` .*\(batch, 4\)"),
        (
            [H, np.zeros((2, 4, 1), "float32")],
            r"`states\[1\]` must have rank 2",
        ),
        ([H, np.zeros((3, 4), "float32")], "same batch size"),
        ([H], r"`states` must be a list of 2 tensors"),
    ],
)
def test_wrong_states_are_refused_by_name(states, match):
    with pytest.raises(ValueError, match=match):
        LSTMCell(4)(X_STEP, states)


def test_a_wrong_initial_state_in_an_rnn_is_refused_by_name():
    rnn = keras.layers.RNN(LSTMCell(4))
    with pytest.raises(ValueError, match=r"`states\[0\]`"):
        rnn(
            np.zeros((2, 3, 3), "float32"),
            initial_state=[np.zeros((2, 5), "float32"), C],
        )


def test_an_empty_batch_gives_empty_outputs():
    h, (h2, c) = LSTMCell(4, layer_norm=True)(
        np.zeros((0, 3), "float32"), [np.zeros((0, 4), "float32")] * 2
    )
    assert tuple(h.shape) == tuple(c.shape) == (0, 4)
