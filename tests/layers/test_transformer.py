"""Tests of TransformerEncoderBlock and TransformerDecoderBlock."""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import TransformerDecoderBlock
from keras_dlparts.layers import TransformerEncoderBlock
from keras_dlparts.layers.attention import MultiHeadAttention
from keras_dlparts.testing import check_layer

RNG = np.random.default_rng(0)


# ---------------------------------------------------------------------------
# A NumPy forward pass written from the formulas, reading the block's weights.
# ---------------------------------------------------------------------------


def _layer_norm(x, norm):
    gamma, beta = (np.asarray(w, "float64") for w in norm.get_weights())
    mean, var = x.mean(-1, keepdims=True), x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + norm.epsilon) * gamma + beta


def _softmax(s):
    s = s - s.max(-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(-1, keepdims=True)


def _attention(mha, query, value, mask=None):
    """Multi-head scaled dot-product attention; mask (B, T, S), True: seen."""
    wq, bq, wk, bk, wv, bv, wo, bo = (
        np.asarray(w, "float64") for w in mha.get_weights()
    )
    q = np.einsum("btd,dhk->bthk", query, wq) + bq
    k = np.einsum("bsd,dhk->bshk", value, wk) + bk
    v = np.einsum("bsd,dhk->bshk", value, wv) + bv
    scores = np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask[:, None], scores, -np.inf)
    heads = np.einsum("bhts,bshk->bthk", _softmax(scores), v)
    return np.einsum("bthk,hkd->btd", heads, wo) + bo


def _feedforward(block, x):
    w1, b1 = (
        np.asarray(w, "float64") for w in block.feedforward_inner.get_weights()
    )
    w2, b2 = (
        np.asarray(w, "float64") for w in block.feedforward_outer.get_weights()
    )
    return np.maximum(x @ w1 + b1, 0.0) @ w2 + b2


def _sublayer(block, x, fn, norm):
    if block.norm_first:
        return x + fn(_layer_norm(x, norm))
    return _layer_norm(x + fn(x), norm)


def numpy_encoder(block, x, padding_mask=None, mask=None):
    """Encoder forward; `mask` (B, T, S) or a `padding_mask` (B, S) of keys."""
    x = np.asarray(x, "float64")
    if padding_mask is not None:
        mask = np.broadcast_to(
            padding_mask[:, None, :], (x.shape[0], x.shape[1], x.shape[1])
        )
    x = _sublayer(
        block,
        x,
        lambda h: _attention(block.self_attention, h, h, mask),
        block.self_attention_norm,
    )
    return _sublayer(
        block, x, lambda h: _feedforward(block, h), block.feedforward_norm
    )


def numpy_decoder(block, target, source=None):
    target = np.asarray(target, "float64")
    length = target.shape[1]
    causal = np.tril(np.ones((length, length), bool))[None]
    x = _sublayer(
        block,
        target,
        lambda h: _attention(block.self_attention, h, h, causal),
        block.self_attention_norm,
    )
    if source is not None:
        source = np.asarray(source, "float64")
        x = _sublayer(
            block,
            x,
            lambda h: _attention(block.cross_attention, h, source),
            block.cross_attention_norm,
        )
    return _sublayer(
        block, x, lambda h: _feedforward(block, h), block.feedforward_norm
    )


# ---------------------------------------------------------------------------
# Contract + reference.
# ---------------------------------------------------------------------------


@pytest.mark.slow
def test_encoder_contract_post_norm():
    x = RNG.normal(size=(4, 5, 8)).astype("float32")
    check_layer(
        TransformerEncoderBlock,
        {"num_heads": 2, "intermediate_dim": 16, "dropout": 0.1, "seed": 3},
        x,
        reference=numpy_encoder,
        atol=1e-4,
        rtol=1e-4,
    )


@pytest.mark.slow
def test_decoder_contract_with_cross_attention():
    target = RNG.normal(size=(4, 5, 8)).astype("float32")
    source = RNG.normal(size=(4, 3, 6)).astype("float32")
    check_layer(
        TransformerDecoderBlock,
        {"num_heads": 2, "intermediate_dim": 16, "norm_first": True},
        (target, source),
        reference=numpy_decoder,
        atol=1e-4,
        rtol=1e-4,
    )


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.slow
def test_encoder_matches_numpy_with_padding(norm_first):
    block = TransformerEncoderBlock(2, 16, norm_first=norm_first)
    x = RNG.normal(size=(2, 5, 8)).astype("float32")
    padding = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    out = keras.ops.convert_to_numpy(block(x, padding_mask=padding))
    expected = numpy_encoder(block, x, padding)
    # Padded query positions are don't-care; compare the real ones.
    np.testing.assert_allclose(out[padding], expected[padding], atol=1e-4)


@pytest.mark.slow
def test_decoder_only_matches_numpy():
    block = TransformerDecoderBlock(2, 16)
    x = RNG.normal(size=(2, 4, 8)).astype("float32")
    out = keras.ops.convert_to_numpy(block(x))
    np.testing.assert_allclose(out, numpy_decoder(block, x), atol=1e-4)
    assert block.cross_attention is None


@pytest.mark.slow
def test_uses_our_multi_head_attention():
    block = TransformerDecoderBlock(2, 8, score="cosine")
    block(np.zeros((1, 3, 4), "float32"), np.zeros((1, 2, 4), "float32"))
    for mha in (block.self_attention, block.cross_attention):
        assert isinstance(mha, MultiHeadAttention)
        assert mha.score == "cosine"


# ---------------------------------------------------------------------------
# Masks: padding and causality.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("score", ["scaled_dot", "additive"])
@pytest.mark.slow
def test_padded_positions_do_not_affect_real_ones(score):
    block = TransformerEncoderBlock(2, 16, score=score)
    padding = np.array([[1, 1, 1, 0, 0]], bool)
    x = RNG.normal(size=(1, 5, 8)).astype("float32")
    y = x.copy()
    y[:, 3:] = RNG.normal(size=(1, 2, 8)) * 10
    out_x = keras.ops.convert_to_numpy(block(x, padding_mask=padding))
    out_y = keras.ops.convert_to_numpy(block(y, padding_mask=padding))
    np.testing.assert_allclose(out_x[:, :3], out_y[:, :3], atol=1e-5)
    assert np.all(np.isfinite(out_y))
    unmasked = keras.ops.convert_to_numpy(block(y))
    assert not np.allclose(unmasked[:, :3], out_y[:, :3], atol=1e-3)


@pytest.mark.slow
def test_encoder_attention_mask_and_padding_mask_combine():
    block = TransformerEncoderBlock(2, 16)
    x = RNG.normal(size=(1, 5, 8)).astype("float32")
    causal = np.tril(np.ones((1, 5, 5), bool))
    padding = np.array([[1, 1, 1, 1, 0]], bool)
    out = keras.ops.convert_to_numpy(
        block(x, padding_mask=padding, attention_mask=causal)
    )
    mask = causal & padding[:, None, :]
    np.testing.assert_allclose(
        out, numpy_encoder(block, x, mask=mask), atol=1e-4
    )


@pytest.mark.slow
def test_keras_mask_equals_explicit_padding_mask():
    ids = np.array([[3, 5, 2, 0, 0], [4, 1, 0, 0, 0]], "int32")
    inputs = keras.Input((5,), dtype="int32")
    embed = keras.layers.Embedding(7, 8, mask_zero=True)
    block = TransformerEncoderBlock(2, 16)
    pooled = keras.layers.GlobalAveragePooling1D()(block(embed(inputs)))
    model = keras.Model(inputs, [block.output, pooled])
    sequence, pooled = model.predict(ids, verbose=0)
    explicit = keras.ops.convert_to_numpy(
        block(embed(ids), padding_mask=ids != 0)
    )
    real = ids != 0
    np.testing.assert_allclose(sequence[real], explicit[real], atol=1e-5)
    # The mask also propagates through the block to the pooling.
    expected = [explicit[b][real[b]].mean(0) for b in range(2)]
    np.testing.assert_allclose(pooled, expected, atol=1e-5)


@pytest.mark.slow
def test_decoder_is_causal():
    block = TransformerDecoderBlock(2, 16)
    target = RNG.normal(size=(2, 6, 8)).astype("float32")
    source = RNG.normal(size=(2, 4, 8)).astype("float32")
    changed = target.copy()
    changed[:, 3:] = RNG.normal(size=(2, 3, 8))
    before = keras.ops.convert_to_numpy(block(target, source))
    after = keras.ops.convert_to_numpy(block(changed, source))
    np.testing.assert_allclose(before[:, :3], after[:, :3], atol=1e-5)
    assert not np.allclose(before[:, 3:], after[:, 3:], atol=1e-3)


@pytest.mark.slow
def test_decoder_ignores_padded_encoder_positions():
    block = TransformerDecoderBlock(2, 16)
    target = RNG.normal(size=(1, 3, 8)).astype("float32")
    source = RNG.normal(size=(1, 5, 8)).astype("float32")
    changed = source.copy()
    changed[:, 3:] *= -7.0
    padding = np.array([[1, 1, 1, 0, 0]], bool)
    a = block(target, source, encoder_padding_mask=padding)
    b = block(target, changed, encoder_padding_mask=padding)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-5
    )


@pytest.mark.slow
def test_decoder_keras_masks_from_both_sequences():
    source_ids = np.array([[3, 5, 0, 0]], "int32")
    target_ids = np.array([[1, 4, 2, 0, 0]], "int32")
    src_in = keras.Input((4,), dtype="int32")
    tgt_in = keras.Input((5,), dtype="int32")
    src_embed = keras.layers.Embedding(7, 8, mask_zero=True)
    tgt_embed = keras.layers.Embedding(7, 8, mask_zero=True)
    block = TransformerDecoderBlock(2, 16)
    out = block(tgt_embed(tgt_in), src_embed(src_in))
    model = keras.Model([src_in, tgt_in], out)
    got = model.predict([source_ids, target_ids], verbose=0)
    explicit = keras.ops.convert_to_numpy(
        block(
            tgt_embed(target_ids),
            src_embed(source_ids),
            decoder_padding_mask=target_ids != 0,
            encoder_padding_mask=source_ids != 0,
        )
    )
    np.testing.assert_allclose(got[:, :3], explicit[:, :3], atol=1e-5)


# ---------------------------------------------------------------------------
# Bad arguments and inputs.
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls", [TransformerEncoderBlock, TransformerDecoderBlock]
)
@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_heads": 0, "intermediate_dim": 4}, r"`num_heads`.*num_heads=0"),
        ({"num_heads": 2, "intermediate_dim": -4}, r"`intermediate_dim`.*=-4"),
        (
            {"num_heads": 2, "intermediate_dim": 4, "score": "bogus"},
            r"`score`.*'bogus'",
        ),
        (
            {"num_heads": 2, "intermediate_dim": 4, "dropout": 1.5},
            r"`dropout`.*=1.5",
        ),
        (
            {"num_heads": 2, "intermediate_dim": 4, "activation": "nope"},
            r"`activation`.*'nope'",
        ),
        (
            {"num_heads": 2, "intermediate_dim": 4, "layer_norm_epsilon": 0},
            r"`layer_norm_epsilon`.*=0",
        ),
        (
            {
                "num_heads": 2,
                "intermediate_dim": 4,
                "layer_norm_epsilon": float("nan"),
            },
            r"`layer_norm_epsilon`.*=nan",
        ),
        (
            {"num_heads": 2, "intermediate_dim": 4, "dropout": float("nan")},
            r"`dropout`.*=nan",
        ),
        (
            {"num_heads": 2, "intermediate_dim": 4, "kernel_initializer": "x"},
            "`kernel_initializer`",
        ),
    ],
)
def test_bad_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


@pytest.mark.parametrize(
    "cls", [TransformerEncoderBlock, TransformerDecoderBlock]
)
@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"num_heads": 2, "intermediate_dim": 4, "norm_first": 1},
            r"`norm_first`.*=1",
        ),
        ({"num_heads": 2, "intermediate_dim": 4, "seed": 1.5}, r"`seed`.*=1.5"),
        ({"num_heads": 2.0, "intermediate_dim": 4}, "`num_heads`"),
    ],
)
def test_wrong_types_raise_type_error(cls, kwargs, match):
    with pytest.raises(TypeError, match=match):
        cls(**kwargs)


SEQ = np.zeros((2, 4, 8), "float32")


@pytest.mark.parametrize(
    "masks, match",
    [
        (
            {"padding_mask": np.ones((2, 5), bool)},
            r"`padding_mask` must have shape \(2, 4\)",
        ),
        ({"padding_mask": np.ones((3, 4), bool)}, "`padding_mask`"),
        (
            {"attention_mask": np.ones((2, 4, 5), bool)},
            r"`attention_mask` must have shape \(2, 4, 4\)",
        ),
        ({"attention_mask": np.ones((4, 5), bool)}, "`attention_mask`"),
    ],
)
def test_encoder_masks_of_the_wrong_shape_are_refused_by_name(masks, match):
    with pytest.raises(ValueError, match=match):
        TransformerEncoderBlock(2, 4)(SEQ, **masks)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"decoder_padding_mask": np.ones((2, 5), bool)},
            "`decoder_padding_mask`",
        ),
        (
            {"encoder_padding_mask": np.ones((2, 4), bool)},
            "`encoder_padding_mask`",
        ),
        (
            {"encoder_sequence": np.zeros((3, 3, 6), "float32")},
            "`decoder_sequence` and `encoder_sequence` must have the same "
            "batch",
        ),
    ],
)
def test_decoder_inputs_of_the_wrong_shape_are_refused_by_name(kwargs, match):
    inputs = {"encoder_sequence": np.zeros((2, 3, 6), "float32"), **kwargs}
    with pytest.raises(ValueError, match=match):
        TransformerDecoderBlock(2, 4)(SEQ, **inputs)


@pytest.mark.parametrize(
    "cls", [TransformerEncoderBlock, TransformerDecoderBlock]
)
def test_an_empty_batch_gives_an_empty_output(cls):
    assert tuple(cls(2, 4)(SEQ[:0]).shape) == (0, 4, 8)


@pytest.mark.slow
def test_bad_inputs():
    with pytest.raises(
        ValueError, match=r"divisible by `num_heads`=3.*\(1, 2, 8\)"
    ):
        TransformerEncoderBlock(3, 4)(np.zeros((1, 2, 8), "float32"))
    with pytest.raises(
        ValueError, match=r"`inputs` must have rank 3.*\(2, 8\)"
    ):
        TransformerEncoderBlock(2, 4)(np.zeros((2, 8), "float32"))
    match = r"`encoder_sequence` must have rank 3.*\(1, 8\)"
    with pytest.raises(ValueError, match=match):
        TransformerDecoderBlock(2, 4)(
            np.zeros((1, 2, 8), "float32"), np.zeros((1, 8), "float32")
        )
    block = TransformerDecoderBlock(2, 4)
    block(np.zeros((1, 2, 8), "float32"))
    with pytest.raises(ValueError, match=r"`encoder_sequence` must be given"):
        block(np.zeros((1, 2, 8), "float32"), np.zeros((1, 3, 8), "float32"))
