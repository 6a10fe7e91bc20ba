"""layers.MultiHeadAttention(memory_efficient=True): the same outputs and
gradients as the plain layer, the contract, and what it refuses."""

import keras
import numpy as np
import pytest

from keras_dlparts._autodiff import value_and_gradients
from keras_dlparts.layers import MultiHeadAttention
from keras_dlparts.layers.attention import SCORES
from keras_dlparts.testing import check_layer

B, T, S, DIM, HEADS, KEY_DIM = 2, 7, 9, 6, 2, 3
CHUNKS = {"query_chunk_size": 3, "key_chunk_size": 4}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    query = rng.normal(size=(B, T, DIM)).astype("float32")
    value = rng.normal(size=(B, S, DIM)).astype("float32")
    query_mask = np.ones((B, T), bool)
    query_mask[0, -2:] = False
    value_mask = np.ones((B, S), bool)
    value_mask[1, :3] = False
    attention_mask = rng.random((B, T, S)) > 0.3
    return query, value, query_mask, value_mask, attention_mask


def _pair(score, query, value, **kwargs):
    """A plain and a memory-efficient layer holding the same weights."""
    plain = MultiHeadAttention(HEADS, KEY_DIM, score=score, **kwargs)
    chunked = MultiHeadAttention(
        HEADS, KEY_DIM, score=score, memory_efficient=True, **CHUNKS, **kwargs
    )
    plain(query, value)
    chunked(query, value)
    chunked.set_weights(plain.get_weights())
    return plain, chunked


def _output_and_gradients(layer, query, value, call_kwargs):
    """The output and the gradients w.r.t. the inputs and every weight."""
    inputs = [keras.Variable(query), keras.Variable(value)]
    cosines = np.cos(np.arange(DIM))

    def loss():
        out = layer(*inputs, **call_kwargs)
        return keras.ops.sum(out * cosines), out

    (_, out), grads = value_and_gradients(
        loss, inputs + list(layer.trainable_variables)
    )
    return keras.ops.convert_to_numpy(out), [
        keras.ops.convert_to_numpy(g) for g in grads
    ]


#: (score, masks): every score with the padding masks and with an
#: attention mask plus causality; the unmasked and causal-only cases for
#: the default score (the op's own tests cover them for every score).
CASES = [
    (score, masks)
    for score in SCORES
    for masks in (
        ("query_mask", "value_mask"),
        ("attention_mask", "use_causal_mask"),
    )
] + [("scaled_dot", ()), ("scaled_dot", ("use_causal_mask",))]


@pytest.mark.parametrize("score, masks", CASES)
@pytest.mark.slow
def test_equals_the_plain_layer_values_and_every_gradient(score, masks, data):
    query, value, query_mask, value_mask, attention_mask = data
    given = {
        "use_causal_mask": True,
        "query_mask": query_mask,
        "value_mask": value_mask,
        "attention_mask": attention_mask,
    }
    call_kwargs = {name: given[name] for name in masks}
    plain, chunked = _pair(score, query, value)
    want, want_grads = _output_and_gradients(plain, query, value, call_kwargs)
    got, got_grads = _output_and_gradients(chunked, query, value, call_kwargs)
    np.testing.assert_allclose(got, want, atol=1e-5, rtol=1e-5)
    names = ["query", "value"] + [w.path for w in plain.trainable_variables]
    assert len(got_grads) == len(want_grads) == len(names)
    for name, g, w in zip(names, got_grads, want_grads):
        np.testing.assert_allclose(g, w, atol=1e-5, rtol=1e-5, err_msg=name)


@pytest.mark.slow
def test_cross_attention_with_key_gate_and_sliding_window(data):
    query, value, _, value_mask, _ = data
    key = value[:, :, ::-1].copy()
    plain, chunked = _pair(
        "scaled_dot", query, value, use_gate=True, sliding_window=3
    )
    kwargs = {"key": key, "value_mask": value_mask, "use_causal_mask": True}
    np.testing.assert_allclose(
        chunked(query, value, **kwargs),
        plain(query, value, **kwargs),
        atol=1e-5,
    )


@pytest.mark.slow
def test_keras_masks_of_the_inputs_are_used(data):
    query, value, _, _, _ = data
    tokens = np.array([[3, 4, 5, 0, 0, 0, 0], [1, 2, 3, 4, 5, 6, 7]])
    embed = keras.layers.Embedding(8, DIM, mask_zero=True)
    layer = MultiHeadAttention(HEADS, KEY_DIM, memory_efficient=True, **CHUNKS)
    x = embed(tokens)
    out = keras.ops.convert_to_numpy(layer(x, x))
    plain = MultiHeadAttention(HEADS, KEY_DIM)
    plain(x, x)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(out, plain(x, x), atol=1e-5)
    # The masked queries get the output projection of zero (its bias).
    np.testing.assert_allclose(
        out[0, 3:],
        np.broadcast_to(layer.output_dense.bias, (4, DIM)),
        atol=1e-6,
    )


@pytest.mark.slow
def test_trains_with_fit_and_reloads(tmp_path, data):
    query, value, _, _, _ = data
    inputs = keras.Input((T, DIM))
    layer = MultiHeadAttention(
        HEADS, KEY_DIM, score="cosine", memory_efficient=True, **CHUNKS
    )
    model = keras.Model(inputs, layer(inputs, inputs, use_causal_mask=True))
    model.compile(keras.optimizers.Adam(0.05), "mse", jit_compile=True)
    target = np.tanh(query[:, ::-1])
    before = model.evaluate(query, target, verbose=0)
    model.fit(query, target, epochs=10, batch_size=B, verbose=0)
    assert model.evaluate(query, target, verbose=0) < 0.8 * before
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.layers[1].get_config()["memory_efficient"] is True
    np.testing.assert_allclose(loaded(query), model(query), atol=1e-6)


def test_config_round_trip():
    layer = MultiHeadAttention(
        2, 4, memory_efficient=True, query_chunk_size=64, key_chunk_size=128
    )
    config = layer.get_config()
    assert (
        config["memory_efficient"],
        config["query_chunk_size"],
        config["key_chunk_size"],
    ) == (True, 64, 128)
    assert MultiHeadAttention.from_config(config).key_chunk_size == 128


def test_fused_kernel_is_used_where_the_backend_has_one(data, monkeypatch):
    """JAX on a GPU with 16-bit inputs runs flash attention; elsewhere the
    chunked op runs. The dispatch is checked by faking the availability."""
    query, value, _, _, _ = data
    layer = MultiHeadAttention(HEADS, KEY_DIM, memory_efficient=True)
    expected = keras.ops.convert_to_numpy(layer(query, value))
    assert not layer._fused_kernel_available(keras.ops.ones((1, 2, 2, 2)))
    calls = []
    fused = keras.ops.dot_product_attention

    def spy(*args, **kwargs):
        calls.append(kwargs["flash_attention"])
        return fused(*args, **{**kwargs, "flash_attention": False})

    monkeypatch.setattr(keras.ops, "dot_product_attention", spy)
    monkeypatch.setattr(layer, "_fused_kernel_available", lambda q: True)
    got = keras.ops.convert_to_numpy(layer(query, value))
    assert calls == [True]
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_attention_scores_dropout_and_several_axes_are_refused(data):
    query, value, _, _, _ = data
    layer = MultiHeadAttention(HEADS, KEY_DIM, memory_efficient=True)
    with pytest.raises(ValueError, match="`return_attention_scores`"):
        layer(query, value, return_attention_scores=True)
    with pytest.raises(ValueError, match="`dropout` must be 0"):
        MultiHeadAttention(HEADS, KEY_DIM, dropout=0.1, memory_efficient=True)
    axes = MultiHeadAttention(
        HEADS, KEY_DIM, attention_axes=(1, 2), memory_efficient=True
    )
    with pytest.raises(ValueError, match="one axis of rank-3 inputs"):
        axes(np.ones((1, 3, 4, DIM)), np.ones((1, 3, 4, DIM)))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"memory_efficient": 1}, TypeError, "`memory_efficient`"),
        ({"query_chunk_size": 0}, ValueError, "`query_chunk_size`"),
        ({"key_chunk_size": "4"}, TypeError, "`key_chunk_size`"),
    ],
)
def test_invalid_options_are_refused_by_name(kwargs, error, match):
    with pytest.raises(error, match=match):
        MultiHeadAttention(HEADS, KEY_DIM, **kwargs)


def _reference(layer, query, value):
    """The plain layer with the same weights (itself checked against NumPy
    in test_attention.py)."""
    config = {**layer.get_config(), "memory_efficient": False}
    plain = MultiHeadAttention.from_config(config)
    plain(query, value)
    plain.set_weights(layer.get_weights())
    return plain(query, value)


@pytest.mark.slow
@pytest.mark.parametrize("score", ["scaled_dot", "additive"])
def test_contract(score, data):
    query, value, _, _, _ = data
    check_layer(
        MultiHeadAttention,
        {
            "num_heads": HEADS,
            "key_dim": KEY_DIM,
            "score": score,
            "memory_efficient": True,
            **CHUNKS,
        },
        (query, value),
        reference=_reference,
    )
