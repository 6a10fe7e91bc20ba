"""layers.MultiHeadAttention: each score vs NumPy, the Keras peer, contract."""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import MultiHeadAttention
from keras_dlparts.layers.attention import SCORES
from keras_dlparts.testing import check_layer

B, T, S, DIM, HEADS, KEY_DIM = 2, 4, 5, 6, 2, 3


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x), "float64")


def numpy_mha(layer, query, value, key=None, mask=None):
    """The layer's output and weights in NumPy, from its own weights.

    `mask` is a boolean `(B, T, S)` array (True = may attend) or None.
    """
    key = value if key is None else key
    w = lambda var: _np(var)  # noqa: E731
    proj = lambda x, dense: (  # noqa: E731
        np.einsum("bsd,dnh->bsnh", x, w(dense.kernel)) + w(dense.bias)
    )
    q = proj(query, layer.query_dense)
    k = proj(key, layer.key_dense)
    v = proj(value, layer.value_dense)
    d = q.shape[-1]
    if layer.score == "scaled_dot":
        scores = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(d)
    elif layer.score == "dot":
        scores = np.einsum("btnh,bsnh->bnts", q, k)
    elif layer.score == "general":
        scores = np.einsum("btnh,nhg,bsng->bnts", q, w(layer.general_kernel), k)
    elif layer.score == "additive":
        wq = np.einsum("btnh,nha->btna", q, w(layer.additive_query_kernel))
        wk = np.einsum("bsnh,nha->bsna", k, w(layer.additive_key_kernel))
        hidden = np.tanh(wq[:, :, None] + wk[:, None])
        scores = np.einsum("btsna,na->bnts", hidden, w(layer.additive_vector))
    elif layer.score == "cosine":
        qn = q / np.linalg.norm(q, axis=-1, keepdims=True)
        kn = k / np.linalg.norm(k, axis=-1, keepdims=True)
        scores = np.einsum("btnh,bsnh->bnts", qn, kn)
        scores = scores * w(layer.cosine_scale)[:, None, None]
    if mask is None:
        mask = np.ones((1, 1, 1), bool)
    mask = np.broadcast_to(np.asarray(mask)[:, None], scores.shape)
    e = np.where(mask, np.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    total = e.sum(-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    context = np.einsum("bnts,bsnh->btnh", weights, v)
    out_dense = layer.output_dense
    output = np.einsum("btnh,nhd->btd", context, w(out_dense.kernel))
    return output + w(out_dense.bias), weights


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    query = rng.normal(size=(B, T, DIM)).astype("float32")
    value = rng.normal(size=(B, S, DIM + 1)).astype("float32")
    value_mask = np.ones((B, S), bool)
    value_mask[0, 3:] = False
    attention_mask = rng.random((B, T, S)) > 0.3
    return query, value, value_mask, attention_mask


def _causal(t, s):
    return np.tril(np.ones((t, s), bool))[None]


# --------------------------------------------------------------------------
# Each score against NumPy, with and without masks.
# --------------------------------------------------------------------------


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("masking", ["none", "causal", "padding"])
@pytest.mark.slow
def test_score_matches_numpy_and_masked_keys_get_zero(score, masking, data):
    query, value, value_mask, attention_mask = data
    layer = MultiHeadAttention(HEADS, KEY_DIM, score=score)
    kwargs, mask = {}, None
    if masking == "causal":
        kwargs, mask = {"use_causal_mask": True}, _causal(T, S)
    elif masking == "padding":
        kwargs = {"value_mask": value_mask, "attention_mask": attention_mask}
        mask = attention_mask & value_mask[:, None, :]
    output, weights = layer(
        query, value, return_attention_scores=True, **kwargs
    )
    ref_output, ref_weights = numpy_mha(layer, query, value, mask=mask)
    np.testing.assert_allclose(_np(weights), ref_weights, atol=1e-6)
    np.testing.assert_allclose(_np(output), ref_output, atol=1e-5)
    if mask is not None:
        hidden = ~np.broadcast_to(mask[:, None], ref_weights.shape)
        assert hidden.any()
        assert np.all(_np(weights)[hidden] == 0.0)
    # The output without the weights is the same (fused path for scaled_dot).
    np.testing.assert_allclose(
        _np(layer(query, value, **kwargs)), ref_output, atol=1e-5
    )


def test_scaled_dot_goes_through_fused_dot_product_attention(data, monkeypatch):
    query, value, _, attention_mask = data
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    expected = _np(layer(query, value, attention_mask=attention_mask))
    calls = []
    fused = keras.ops.dot_product_attention

    def spy(*args, **kwargs):
        calls.append(kwargs.get("scale"))
        return fused(*args, **kwargs)

    monkeypatch.setattr(keras.ops, "dot_product_attention", spy)
    got = _np(layer(query, value, attention_mask=attention_mask))
    assert calls == [pytest.approx(1 / np.sqrt(KEY_DIM))]
    np.testing.assert_allclose(got, expected, atol=1e-6)


@pytest.mark.slow
def test_query_with_no_visible_key_gets_zero_weights(data):
    query, value, _, _ = data
    mask = np.ones((B, T, S), bool)
    mask[1, 2] = False
    for score in SCORES:
        layer = MultiHeadAttention(HEADS, KEY_DIM, score=score)
        fused = _np(layer(query, value, attention_mask=mask))
        out, weights = layer(
            query, value, attention_mask=mask, return_attention_scores=True
        )
        assert np.all(_np(weights)[1, :, 2] == 0.0)
        bias = _np(layer.output_dense.bias)
        np.testing.assert_allclose(_np(out)[1, 2], bias, atol=1e-6)
        np.testing.assert_allclose(fused, _np(out), atol=1e-5)


@pytest.mark.parametrize("score", ["scaled_dot", "general"])
def test_dropout_acts_in_training_only(score, data):
    query, value, _, _ = data
    layer = MultiHeadAttention(HEADS, KEY_DIM, score=score, dropout=0.5, seed=3)
    plain = MultiHeadAttention(HEADS, KEY_DIM, score=score)
    layer(query, value)
    plain(query, value)
    plain.set_weights(layer.get_weights())
    expected, expected_weights = plain(
        query, value, return_attention_scores=True
    )
    np.testing.assert_allclose(
        _np(layer(query, value, training=False)), _np(expected), atol=1e-6
    )
    out, weights = layer(
        query, value, training=True, return_attention_scores=True
    )
    assert not np.allclose(_np(out), _np(expected), atol=1e-3)
    # The returned weights are those before dropout, as in Keras.
    np.testing.assert_allclose(_np(weights), _np(expected_weights), atol=1e-6)


# --------------------------------------------------------------------------
# Drop-in equality with keras.layers.MultiHeadAttention.
# --------------------------------------------------------------------------


def _peer_call(peer, *args, return_attention_scores=False, **kwargs):
    """Calls Keras' layer on its explicit (non-fused) path.

    On JAX, Keras' fused `dot_product_attention` path fails when
    `value_dim != key_dim` (it reshapes the output to the query's shape);
    the explicit path computes the same attention on every backend.
    """
    output, scores = peer(*args, return_attention_scores=True, **kwargs)
    return (output, scores) if return_attention_scores else output


def _pair(init_kwargs, *build_inputs, **call_kwargs):
    peer = keras.layers.MultiHeadAttention(**init_kwargs)
    ours = MultiHeadAttention(**init_kwargs)
    _peer_call(peer, *build_inputs, **call_kwargs)
    ours(*build_inputs, **call_kwargs)
    assert [w.shape for w in ours.weights] == [w.shape for w in peer.weights]
    ours.set_weights(peer.get_weights())
    return ours, peer


@pytest.mark.parametrize(
    "call_kwargs",
    [
        {},
        {"use_causal_mask": True},
        {"value_mask": "padding"},
        {"attention_mask": "random", "use_causal_mask": True},
    ],
)
@pytest.mark.parametrize("scores", [False, True])
@pytest.mark.slow
def test_equals_keras_after_set_weights(data, call_kwargs, scores):
    query, value, value_mask, attention_mask = data
    masks = {"padding": value_mask, "random": attention_mask}
    call_kwargs = {k: masks.get(v, v) for k, v in call_kwargs.items()}
    init = {"num_heads": HEADS, "key_dim": KEY_DIM, "value_dim": 4}
    ours, peer = _pair(init, query, value)
    kwargs = dict(call_kwargs, return_attention_scores=scores)
    got = ours(query, value, **kwargs)
    expected = _peer_call(peer, query, value, **kwargs)
    for a, b in zip(keras.tree.flatten(got), keras.tree.flatten(expected)):
        np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)


@pytest.mark.slow
def test_equals_keras_with_key_output_shape_dropout_and_attention_axes():
    rng = np.random.default_rng(4)
    query = rng.normal(size=(2, 3, 4)).astype("float32")
    value = rng.normal(size=(2, 5, 6)).astype("float32")
    key = rng.normal(size=(2, 5, 7)).astype("float32")
    init = dict(
        num_heads=3,
        key_dim=2,
        output_shape=(2, 5),
        dropout=0.3,
        use_bias=False,
        seed=1,
    )
    ours, peer = _pair(init, query, value, key)
    np.testing.assert_allclose(
        _np(ours(query, value, key, training=False)),
        _np(peer(query, value, key, training=False)),
        atol=1e-5,
    )
    # Rank-4 inputs attending over two axes.
    image = rng.normal(size=(2, 3, 4, 5)).astype("float32")
    init = dict(num_heads=2, key_dim=3, attention_axes=(1, 2))
    ours, peer = _pair(init, image, image)
    for scores in (False, True):
        got = ours(image, image, return_attention_scores=scores)
        expected = peer(image, image, return_attention_scores=scores)
        for a, b in zip(keras.tree.flatten(got), keras.tree.flatten(expected)):
            np.testing.assert_allclose(_np(a), _np(b), atol=1e-5)


@pytest.mark.slow
def test_equals_keras_with_keras_masks_on_visible_queries():
    # Keras masks from an Embedding(mask_zero=True): padded queries see no
    # key; we give them zero weights where Keras' fused path gives uniform
    # ones, so the fused outputs agree on every visible query, and the
    # explicit (return_attention_scores) outputs agree everywhere. Each
    # layer gets its own tensor: Keras's layer deletes the Keras masks of
    # its inputs in place (ours leaves them), so a second Keras layer on
    # the same tensor would see none.
    tokens = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])

    def build(layer_cls):
        inputs = keras.Input((4,), dtype="int32")
        embed = keras.layers.Embedding(6, DIM, mask_zero=True, name="emb")
        x = embed(inputs)
        out = layer_cls(HEADS, KEY_DIM, name="mha")(x, x)
        x = embed(inputs)
        both = layer_cls(HEADS, KEY_DIM, name="mha2")(
            x, x, return_attention_scores=True
        )
        return keras.Model(inputs, [out, *both])

    peer, ours = (
        build(keras.layers.MultiHeadAttention),
        build(MultiHeadAttention),
    )
    ours.set_weights(peer.get_weights())
    fused_o, explicit_o, weights_o = (_np(t) for t in ours(tokens))
    fused_p, explicit_p, weights_p = (_np(t) for t in peer(tokens))
    visible = tokens != 0
    np.testing.assert_allclose(fused_o[visible], fused_p[visible], atol=1e-5)
    np.testing.assert_allclose(explicit_o, explicit_p, atol=1e-5)
    np.testing.assert_allclose(weights_o, weights_p, atol=1e-6)
    padded = ~np.broadcast_to(visible[:, None, None], weights_o.shape)
    assert np.all(weights_o[padded] == 0)


def test_symbolic_attention_scores_shape_for_cross_attention():
    query, value = keras.Input((T, DIM)), keras.Input((S, DIM))
    out, weights = MultiHeadAttention(HEADS, KEY_DIM, score="general")(
        query, value, return_attention_scores=True
    )
    assert tuple(out.shape) == (None, T, DIM)
    assert tuple(weights.shape) == (None, HEADS, T, S)


# --------------------------------------------------------------------------
# Mixed precision.
# --------------------------------------------------------------------------


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.slow
def test_float16_scores_do_not_overflow_and_mask_exactly(score):
    rng = np.random.default_rng(5)
    query = (30 * rng.normal(size=(B, T, DIM))).astype("float32")
    value = (30 * rng.normal(size=(B, S, DIM))).astype("float32")
    init = dict(
        num_heads=HEADS, key_dim=8, score=score, kernel_initializer="ones"
    )
    half = MultiHeadAttention(dtype="mixed_float16", **init)
    full = MultiHeadAttention(**init)
    out_h, w_h = half(
        query, value, use_causal_mask=True, return_attention_scores=True
    )
    full(query, value)
    full.set_weights(half.get_weights())
    out_f, w_f = full(
        query, value, use_causal_mask=True, return_attention_scores=True
    )
    assert keras.backend.standardize_dtype(out_h.dtype) == "float16"
    assert all(v.dtype == "float32" for v in half.weights)
    assert np.all(np.isfinite(_np(out_h)))
    hidden = ~np.broadcast_to(_causal(T, S)[:, None], w_h.shape)
    assert np.all(_np(w_h)[hidden] == 0.0)
    np.testing.assert_allclose(_np(w_h), _np(w_f), atol=2e-2)
    fused = half(query, value, use_causal_mask=True)
    assert np.all(np.isfinite(_np(fused)))


# --------------------------------------------------------------------------
# Errors.
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_heads": 0, "key_dim": 2}, "`num_heads`.*Received: num_heads=0"),
        ({"num_heads": -2, "key_dim": 2}, "num_heads=-2"),
        ({"num_heads": 2, "key_dim": 0}, "`key_dim`.*key_dim=0"),
        (
            {"num_heads": 2, "key_dim": 2, "score": "mlp"},
            "`score`.*score='mlp'",
        ),
        ({"num_heads": 2, "key_dim": 2, "dropout": float("nan")}, "`dropout`"),
        ({"num_heads": 2, "key_dim": 2, "value_dim": 0}, "`value_dim`"),
        (
            {"num_heads": 2, "key_dim": 2, "kernel_initializer": "x"},
            "`kernel_initializer`",
        ),
        (
            {"num_heads": 2, "key_dim": 2, "bias_constraint": "x"},
            "`bias_constraint`",
        ),
    ],
)
def test_invalid_config_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MultiHeadAttention(**kwargs)


def test_positional_keras_arguments_are_checked_by_name():
    # (num_heads, key_dim, value_dim, dropout): the Keras order.
    with pytest.raises(ValueError, match="`dropout`.*dropout=1.5"):
        MultiHeadAttention(2, 2, None, 1.5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_heads": "2", "key_dim": 2}, "num_heads='2'"),
        ({"num_heads": 2, "key_dim": 2, "use_bias": "yes"}, "`use_bias`"),
        ({"num_heads": 2, "key_dim": 2, "seed": 1.5}, "`seed`"),
    ],
)
def test_wrong_types_raise_type_error(kwargs, match):
    with pytest.raises(TypeError, match=match):
        MultiHeadAttention(**kwargs)


@pytest.mark.parametrize(
    "masks, match",
    [
        (
            {"attention_mask": np.ones((B, T, S + 1), bool)},
            r"`attention_mask` must have shape \(2, 4, 5\)",
        ),
        ({"attention_mask": np.ones((B + 1, T, S), bool)}, "`attention_mask`"),
        (
            {"attention_mask": np.ones((T, S + 1), bool)},
            r"attention_mask.shape=\(4, 6\)",
        ),
        (
            {"attention_mask": np.ones((B, HEADS + 1, T, S), bool)},
            "`attention_mask`",
        ),
        ({"value_mask": np.ones((B, S - 1), bool)}, "`value_mask`"),
        ({"key_mask": np.ones((B, S, 1), bool)}, "`key_mask`"),
        ({"query_mask": np.ones((B, S), bool)}, "`query_mask`"),
    ],
)
def test_masks_of_the_wrong_shape_are_refused_by_name(data, masks, match):
    query, value, _, _ = data
    with pytest.raises(ValueError, match=match):
        MultiHeadAttention(HEADS, KEY_DIM)(query, value, **masks)


def test_a_broadcastable_attention_mask_is_accepted(data):
    query, value, _, _ = data
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    mask = np.ones((B, 1, S), bool)
    np.testing.assert_allclose(
        _np(layer(query, value, attention_mask=mask)),
        _np(layer(query, value)),
        atol=1e-6,
    )


def test_masks_of_lower_rank_or_per_head_broadcast_as_in_keras(data):
    """(T, S) and (B, H, T, S) masks mean what Keras's own layer takes them
    to mean: the same mask for every batch, or one mask per head."""
    query, value, _, _ = data
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    causal = np.tril(np.ones((T, S), bool))
    full = np.broadcast_to(causal, (B, T, S))
    per_head = np.broadcast_to(causal, (B, HEADS, T, S))
    want = _np(layer(query, value, attention_mask=full))
    np.testing.assert_allclose(
        _np(layer(query, value, attention_mask=causal)), want, atol=1e-6
    )
    np.testing.assert_allclose(
        _np(layer(query, value, attention_mask=per_head)), want, atol=1e-6
    )
    assert np.abs(want - _np(layer(query, value))).max() > 1e-4  # the mask acts


def test_mismatched_batch_sizes_are_refused_by_name(data):
    query, value, _, _ = data
    match = "`query` and `value` must have the same batch"
    with pytest.raises(ValueError, match=match):
        MultiHeadAttention(HEADS, KEY_DIM)(query[:1], value)


@pytest.mark.parametrize("score", SCORES)
def test_an_empty_batch_gives_an_empty_output(score):
    x = np.zeros((0, T, DIM), "float32")
    out = MultiHeadAttention(HEADS, KEY_DIM, score=score)(
        x, x, use_causal_mask=True
    )
    assert tuple(out.shape) == (0, T, DIM)


def test_bad_inputs_raise(data):
    query, value, _, _ = data
    layer = MultiHeadAttention(HEADS, KEY_DIM)
    with pytest.raises(ValueError, match="`query` must have rank >= 3"):
        layer(query[0], value)
    layer(query, value)
    with pytest.raises(
        ValueError, match=f"`query` must have rank 3 and last dimension {DIM}"
    ):
        layer(query[..., :4], value)
    with pytest.raises(ValueError, match="`value` must have rank 3"):
        layer(query, value[..., None])
    with pytest.raises(ValueError, match="`key`, except the last one, must"):
        layer(query, value, value[:, :2])


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.slow
def test_several_attention_axes_equal_attention_over_the_flattened_axes(score):
    """5-D inputs attended over axes (2, 3) = rank-3 attention over X * Y.

    The rank-3 layer is the peer (checked against NumPy above); both share
    weights, as the projections do not depend on the rank.
    """
    rng = np.random.default_rng(1)
    b, a, x, y, sx, sy = 2, 3, 2, 3, 2, 2
    query = rng.normal(size=(b, a, x, y, DIM)).astype("float32")
    value = rng.normal(size=(b, a, sx, sy, DIM)).astype("float32")
    mask = rng.random((b, a, x, y, sx, sy)) > 0.3
    high = MultiHeadAttention(
        HEADS, KEY_DIM, score=score, attention_axes=(2, 3)
    )
    output, weights = high(
        query, value, attention_mask=mask, return_attention_scores=True
    )
    assert tuple(weights.shape) == (b, a, HEADS, x, y, sx, sy)
    flat = MultiHeadAttention(HEADS, KEY_DIM, score=score)
    flat_query = query.reshape(b * a, x * y, DIM)
    flat_value = value.reshape(b * a, sx * sy, DIM)
    flat_mask = mask.reshape(b * a, x * y, sx * sy)
    flat(flat_query, flat_value)
    flat.set_weights(high.get_weights())
    ref_output, ref_weights = flat(
        flat_query,
        flat_value,
        attention_mask=flat_mask,
        return_attention_scores=True,
    )
    np.testing.assert_allclose(
        _np(output), _np(ref_output).reshape(output.shape), atol=1e-5
    )
    ref_weights = _np(ref_weights).reshape(b, a, HEADS, x, y, sx, sy)
    np.testing.assert_allclose(_np(weights), ref_weights, atol=1e-6)


# --------------------------------------------------------------------------
# The contract.
# --------------------------------------------------------------------------


def _reference(layer, query, value):
    return numpy_mha(layer, query, value)[0]


@pytest.mark.slow
@pytest.mark.parametrize("score", ["scaled_dot", "additive"])
def test_contract(score, data):
    query, value, _, _ = data
    check_layer(
        MultiHeadAttention,
        {"num_heads": HEADS, "key_dim": KEY_DIM, "score": score},
        (query, value),
        reference=_reference,
    )


@pytest.mark.parametrize("score", ["dot", "general", "cosine"])
@pytest.mark.slow
def test_contract_quick_checks_for_other_scores(score, data):
    query, value, _, _ = data
    check_layer(
        MultiHeadAttention,
        {"num_heads": HEADS, "key_dim": KEY_DIM, "score": score},
        (query, value),
        reference=_reference,
        only=["output_shape", "reference", "config", "keras_file", "gradients"],
    )
