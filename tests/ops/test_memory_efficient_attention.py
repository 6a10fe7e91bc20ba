"""ops.memory_efficient_attention: equal to plain attention, values and
gradients, for every score, mask, causality and chunking."""

import keras
import numpy as np
import pytest
from keras import ops
from support.backend import gradients
from support.backend import jit

from keras_dlparts.ops import memory_efficient_attention
from keras_dlparts.ops.attention import masked_softmax
from keras_dlparts.ops.memory_efficient_attention import SCORES
from keras_dlparts.ops.similarity import l2_normalize

B, T, S, N, H, A = 2, 8, 9, 2, 3, 4
#: (query_chunk_size, key_chunk_size): dividing the lengths (T=8: 4, S=9:
#: 3), not dividing them, and larger than the lengths (one chunk).
CHUNKS = ((4, 3), (3, 5), (16, 16))


def _weights(score, rng):
    shapes = {
        "general": {"kernel": (N, H, H)},
        "additive": {
            "query_kernel": (N, H, A),
            "key_kernel": (N, H, A),
            "vector": (N, A),
        },
        "cosine": {"scale": (N,)},
    }.get(score, {})
    return {
        name: rng.normal(size=shape).astype("float32")
        for name, shape in shapes.items()
    }


def plain_attention(q, k, v, score, weights, mask=None, causal=False):
    """The whole score matrix and a masked softmax: the reference."""
    if score == "scaled_dot":
        scores = ops.einsum("btnh,bsnh->bnts", q * H**-0.5, k)
    elif score == "dot":
        scores = ops.einsum("btnh,bsnh->bnts", q, k)
    elif score == "general":
        q = ops.einsum("btnh,nhg->btng", q, weights["kernel"])
        scores = ops.einsum("btnh,bsnh->bnts", q, k)
    elif score == "cosine":
        scores = ops.einsum("btnh,bsnh->bnts", l2_normalize(q), l2_normalize(k))
        scores = scores * ops.reshape(weights["scale"], (1, -1, 1, 1))
    else:
        a = ops.einsum("btnh,nha->btna", q, weights["query_kernel"])
        b = ops.einsum("bsnh,nha->bsna", k, weights["key_kernel"])
        hidden = ops.tanh(a[:, :, None] + b[:, None])
        scores = ops.einsum("btsna,na->bnts", hidden, weights["vector"])
    length_q, length_k = scores.shape[-2], scores.shape[-1]
    visible = np.ones((1, 1, length_q, length_k), bool)
    if causal:
        visible = visible & np.tril(visible)
    if mask is not None:
        visible = visible & np.asarray(mask)
    return ops.einsum("bnts,bsnh->btnh", masked_softmax(scores, visible), v)


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(B, T, N, H)).astype("float32")
    k = rng.normal(size=(B, S, N, H)).astype("float32")
    v = rng.normal(size=(B, S, N, H)).astype("float32")
    padding = rng.random((B, 1, 1, S)) > 0.3
    padding[1, ..., :4] = False  # the first causal queries see no key
    return q, k, v, padding, rng


def _compare(q, k, v, score, weights, chunks, **options):
    """Asserts equal outputs and gradients (inputs and score weights)."""
    names = sorted(weights)
    cosines = np.cos(np.arange(v.shape[-1]))  # a non-uniform upstream

    def chunked(q, k, v, *w):
        out = memory_efficient_attention(
            q,
            k,
            v,
            score=score,
            score_weights=dict(zip(names, w)) or None,
            query_chunk_size=chunks[0],
            key_chunk_size=chunks[1],
            **options,
        )
        return out * cosines

    def plain(q, k, v, *w):
        causal = options.get("is_causal", False)
        mask = options.get("mask")
        out = plain_attention(q, k, v, score, dict(zip(names, w)), mask, causal)
        return out * cosines

    args = [q, k, v] + [weights[n] for n in names]
    ours, our_grads = gradients(chunked, *args)
    ref, ref_grads = gradients(plain, *args)
    np.testing.assert_allclose(ours, ref, atol=1e-5, rtol=1e-5)
    for name, got, want in zip(["q", "k", "v"] + names, our_grads, ref_grads):
        np.testing.assert_allclose(
            got, want, atol=1e-5, rtol=1e-5, err_msg=name
        )


@pytest.mark.parametrize("score", SCORES)
@pytest.mark.parametrize("masking", ["none", "padding+causal"])
@pytest.mark.slow
def test_equals_plain_attention_values_and_gradients(score, masking, inputs):
    q, k, v, padding, rng = inputs
    weights = _weights(score, rng)
    options = {"is_causal": "causal" in masking}
    if "padding" in masking:
        options["mask"] = padding
    # One chunk covering everything is checked for the default score.
    for chunks in CHUNKS if score == "scaled_dot" else CHUNKS[:2]:
        _compare(q, k, v, score, weights, chunks, **options)


@pytest.mark.slow
def test_per_head_mask_and_sliding_window(inputs):
    q, k, v, _, rng = inputs
    mask = rng.random((B, N, T, S)) > 0.4
    _compare(q, k, v, "scaled_dot", {}, (3, 2), mask=mask)
    window = 3
    offset = np.arange(T)[:, None] - np.arange(S)[None]
    banded = (np.abs(offset) < window) & (offset >= 0)
    ours = memory_efficient_attention(
        q, k, v, is_causal=True, sliding_window=window, query_chunk_size=2
    )
    ref = plain_attention(q, k, v, "scaled_dot", {}, banded[None, None])
    np.testing.assert_allclose(ours, ref, atol=1e-6)


@pytest.mark.slow
def test_single_head_inputs_of_rank_3(inputs):
    q, k, v, padding, _ = inputs
    ours = memory_efficient_attention(
        q[:, :, 0], k[:, :, 0], v[:, :, 0], mask=padding, key_chunk_size=2
    )
    ref = plain_attention(
        q[:, :, :1], k[:, :, :1], v[:, :, :1], "scaled_dot", {}, padding
    )
    assert tuple(ours.shape) == (B, T, H)
    np.testing.assert_allclose(ours, ref[:, :, 0], atol=1e-6)


@pytest.mark.slow
def test_queries_without_visible_keys_get_zero_output_and_gradient(inputs):
    q, k, v, _, _ = inputs
    mask = np.ones((B, 1, T, S), bool)
    mask[0, :, 2] = False  # query 2 of example 0 sees nothing
    out, grads = gradients(
        lambda q: memory_efficient_attention(
            q, k, v, mask=mask, query_chunk_size=3, key_chunk_size=4
        ),
        q,
    )
    np.testing.assert_array_equal(out[0, 2], 0.0)
    np.testing.assert_array_equal(grads[0][0, 2], 0.0)
    assert np.all(np.abs(out[0, 3]) > 0)


def test_causal_skips_the_key_chunks_no_query_can_see(inputs):
    """Keys after the last query are hidden from every query by the causal
    mask: their chunks are skipped, so NaN values there never reach the
    output (computing them would give 0 * NaN = NaN)."""
    q, k, v, _, _ = inputs
    long_k = np.concatenate([k, k], axis=1)  # S = 18 > T = 8
    long_v = np.concatenate([v, np.full_like(v, np.nan)], axis=1)
    ours = memory_efficient_attention(
        q, long_k, long_v, is_causal=True, query_chunk_size=4, key_chunk_size=9
    )
    ref = plain_attention(q, k, v, "scaled_dot", {}, causal=True)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.slow
def test_16_bit_inputs_accumulate_in_float32(dtype, inputs):
    q, k, v, padding, _ = inputs
    # Scores of about 1000: exp overflows float16 without a running max.
    big = (q * 20).astype(dtype), (k * 20).astype(dtype), v.astype(dtype)
    ours = memory_efficient_attention(
        *big, mask=padding, is_causal=True, query_chunk_size=3
    )
    assert keras.backend.standardize_dtype(ours.dtype) == dtype
    ref = plain_attention(
        *(np.asarray(t, "float32") for t in big),
        "scaled_dot",
        {},
        padding,
        True,
    )
    tolerance = 1e-2 if dtype == "float16" else 5e-2
    np.testing.assert_allclose(
        np.asarray(ops.convert_to_numpy(ops.cast(ours, "float32"))),
        ref,
        atol=tolerance,
    )


def test_compiles_with_xla_and_unknown_lengths(inputs):
    q, k, v, padding, _ = inputs

    def attend(q, k, v):
        return memory_efficient_attention(
            q, k, v, is_causal=True, query_chunk_size=3, key_chunk_size=4
        )

    compiled = jit(attend, [(None, None, N, H)] * 3)
    ref = plain_attention(q, k, v, "scaled_dot", {}, causal=True)
    np.testing.assert_allclose(compiled(q, k, v), ref, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"score": "bilinear"}, ValueError, "`score`"),
        ({"query_chunk_size": 0}, ValueError, "`query_chunk_size`"),
        ({"key_chunk_size": 2.5}, TypeError, "`key_chunk_size`"),
        ({"is_causal": "yes"}, TypeError, "`is_causal`"),
        ({"sliding_window": 0}, ValueError, "`sliding_window`"),
        ({"score": "general"}, ValueError, "`score_weights`.*kernel"),
        (
            {"score_weights": {"kernel": np.ones((N, H, H))}},
            ValueError,
            "`score_weights`",
        ),
        ({"mask": np.ones((B, 1, T, S + 1), bool)}, ValueError, "`mask`"),
    ],
)
def test_invalid_arguments_are_refused_by_name(kwargs, error, match, inputs):
    q, k, v, _, _ = inputs
    with pytest.raises(error, match=match):
        memory_efficient_attention(q, k, v, **kwargs)


def test_mismatched_inputs_are_refused_by_name(inputs):
    q, k, v, _, _ = inputs
    with pytest.raises(ValueError, match="`key` and `value`"):
        memory_efficient_attention(q, k, v[:, :4])
    with pytest.raises(ValueError, match="`query` and `key`"):
        memory_efficient_attention(q, k[..., :2], v)
    with pytest.raises(ValueError, match="same rank"):
        memory_efficient_attention(q, k[:, :, 0], v)
    with pytest.raises(ValueError, match="`query`"):
        memory_efficient_attention(q[0, 0], k, v)
