"""ops.scaled_dot_product_attention against NumPy written from the formula."""

import keras
import numpy as np
import pytest
from support.backend import gradients
from support.backend import jit

from keras_dlparts.ops import scaled_dot_product_attention
from keras_dlparts.ops.attention import masked_softmax


def numpy_attention(q, k, v, mask=None):
    """softmax(q k^T / sqrt(d)) v, masked keys at weight 0 (float64)."""
    q, k, v = (np.asarray(t, "float64") for t in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is None:
        mask = np.ones(scores.shape, bool)
    mask = np.broadcast_to(mask, scores.shape)
    e = np.where(mask, np.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    total = e.sum(-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    return weights @ v, weights


def _np(x):
    return keras.ops.convert_to_numpy(x)


@pytest.fixture
def qkv():
    rng = np.random.default_rng(0)
    return (
        rng.normal(size=(2, 3, 4, 5)).astype("float32"),
        rng.normal(size=(2, 3, 6, 5)).astype("float32"),
        rng.normal(size=(2, 3, 6, 7)).astype("float32"),
    )


def test_matches_numpy_without_mask(qkv):
    out, weights = scaled_dot_product_attention(*qkv)
    ref_out, ref_weights = numpy_attention(*qkv)
    np.testing.assert_allclose(_np(weights), ref_weights, atol=1e-6)
    np.testing.assert_allclose(_np(out), ref_out, atol=1e-5)
    np.testing.assert_allclose(_np(weights).sum(-1), 1.0, atol=1e-6)


@pytest.mark.parametrize("mask_shape", [(4, 6), (2, 1, 4, 6), (2, 3, 1, 6)])
def test_masked_keys_get_exactly_zero_weight(qkv, mask_shape):
    mask = np.random.default_rng(1).random(mask_shape) > 0.4
    out, weights = scaled_dot_product_attention(*qkv, mask=mask)
    ref_out, ref_weights = numpy_attention(*qkv, mask=mask)
    np.testing.assert_allclose(_np(weights), ref_weights, atol=1e-6)
    np.testing.assert_allclose(_np(out), ref_out, atol=1e-5)
    full_mask = np.broadcast_to(mask, ref_weights.shape)
    assert np.all(_np(weights)[~full_mask] == 0.0)


@pytest.mark.slow
def test_fully_masked_query_gets_zero_weights_and_no_nan(qkv):
    mask = np.ones((4, 6), bool)
    mask[2] = False  # query 2 sees no key
    out, weights = scaled_dot_product_attention(*qkv, mask=mask)
    _, grads = gradients(
        lambda q, k, v: (
            scaled_dot_product_attention(q, k, v, mask=mask)[0] ** 2
        ),
        *qkv,
    )
    assert np.all(_np(weights)[..., 2, :] == 0.0)
    assert np.all(_np(out)[..., 2, :] == 0.0)
    for g in grads:
        assert np.all(np.isfinite(g))
    # Gradients of the masked query's row are zero, the others are not.
    assert np.all(grads[0][..., 2, :] == 0.0)
    assert np.any(grads[0][..., 0, :] != 0.0)


def test_worked_example():
    # scores q.k/sqrt(2) = [1/sqrt2, 0, masked]: weights e^a/(e^a+1), 1/(e^a+1).
    a = np.exp(1 / np.sqrt(2))
    out, weights = scaled_dot_product_attention(
        [[1.0, 0.0]],
        [[1.0, 0.0], [0.0, 1.0], [5.0, 5.0]],
        [[1.0], [2.0], [100.0]],
        mask=[True, True, False],
    )
    np.testing.assert_allclose(
        _np(weights), [[a / (a + 1), 1 / (a + 1), 0.0]], rtol=1e-6
    )
    np.testing.assert_allclose(_np(out), [[(a + 2) / (a + 1)]], rtol=1e-6)


def test_float16_scores_do_not_overflow():
    rng = np.random.default_rng(2)
    q = (60.0 * rng.normal(size=(1, 3, 64))).astype("float16")
    k = (60.0 * rng.normal(size=(1, 5, 64))).astype("float16")
    v = rng.normal(size=(1, 5, 4)).astype("float16")
    mask = np.array([True, True, True, True, False])
    out, weights = scaled_dot_product_attention(q, k, v, mask=mask)
    assert keras.backend.standardize_dtype(out.dtype) == "float16"
    ref_out, ref_weights = numpy_attention(q, k, v, mask)
    assert np.all(np.isfinite(_np(out)))
    assert np.all(_np(weights)[..., 4] == 0.0)
    np.testing.assert_allclose(_np(weights), ref_weights, atol=2e-2)
    np.testing.assert_allclose(_np(out), ref_out, atol=5e-2)


def test_traces_under_xla(qkv):
    fn = jit(scaled_dot_product_attention)
    mask = np.tril(np.ones((4, 6), bool))
    out, weights = fn(*qkv, mask=mask)
    ref_out, ref_weights = numpy_attention(*qkv, mask=mask)
    np.testing.assert_allclose(_np(out), ref_out, atol=1e-5)
    np.testing.assert_allclose(_np(weights), ref_weights, atol=1e-6)


def test_masked_softmax_over_several_axes():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    mask = rng.random((2, 3, 4)) > 0.3
    e = np.where(mask, np.exp(x), 0.0)
    expected = e / e.sum(axis=(1, 2), keepdims=True)
    got = _np(masked_softmax(x, mask, axis=(-2, -1)))
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-7)
    assert np.all(got[~mask] == 0.0)


def test_bad_inputs_raise(qkv):
    q, k, v = qkv
    with pytest.raises(ValueError, match="same last dimension"):
        scaled_dot_product_attention(q, k[..., :4], v)
    with pytest.raises(ValueError, match="same length"):
        scaled_dot_product_attention(q, k, v[..., :5, :])
    with pytest.raises(ValueError, match="`query` must have rank >= 2"):
        scaled_dot_product_attention(q[0, 0, 0], k, v)


def test_batches_and_masks_that_do_not_broadcast_are_refused(qkv):
    q, k, v = qkv
    with pytest.raises(
        ValueError, match="`query` and `key` and `value` must have"
    ):
        scaled_dot_product_attention(np.concatenate([q, q[:1]]), k, v)
    scores = (q.shape[-2], k.shape[-2])
    with pytest.raises(ValueError, match="`mask`"):
        mask = np.ones((scores[0] + 1, scores[1]), bool)
        scaled_dot_product_attention(q, k, v, mask=mask)
    # A query without batch axis is shared by every batch: it broadcasts.
    out, _ = scaled_dot_product_attention(q[0], k, v)
    assert tuple(out.shape) == tuple(q.shape[:-1]) + (v.shape[-1],)
