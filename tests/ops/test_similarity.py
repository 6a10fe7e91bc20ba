"""ops.cosine_similarity against NumPy written from the formula."""

import keras
import numpy as np
import pytest
from support.backend import gradients

from keras_dlparts.ops import cosine_similarity
from keras_dlparts.ops.similarity import l2_normalize


def numpy_cosine(a, b, axis=-1):
    """a.b / (|a| |b|), 0 where either vector is zero (float64)."""
    a, b = np.broadcast_arrays(
        np.asarray(a, "float64"), np.asarray(b, "float64")
    )
    dot = np.sum(a * b, axis=axis)
    norms = np.linalg.norm(a, axis=axis) * np.linalg.norm(b, axis=axis)
    return np.divide(dot, norms, out=np.zeros_like(dot), where=norms > 0)


def _np(x):
    return keras.ops.convert_to_numpy(x)


@pytest.mark.parametrize("axis", [-1, 0, 1])
@pytest.mark.slow
def test_matches_numpy(axis):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(3, 4, 5)).astype("float32")
    b = rng.normal(size=(3, 4, 5)).astype("float32")
    np.testing.assert_allclose(
        _np(cosine_similarity(a, b, axis=axis)),
        numpy_cosine(a, b, axis),
        atol=1e-6,
    )


def test_broadcasts_and_known_values():
    a = np.array([[1.0, 0.0], [1.0, 1.0]], "float32")
    b = np.array([[[2.0, 0.0]], [[-3.0, 0.0]], [[0.0, 4.0]]], "float32")
    got = _np(cosine_similarity(a, b))
    assert got.shape == (3, 2)
    np.testing.assert_allclose(
        got,
        [[1.0, 1 / np.sqrt(2)], [-1.0, -1 / np.sqrt(2)], [0.0, 1 / np.sqrt(2)]],
        atol=1e-6,
    )
    np.testing.assert_allclose(got, numpy_cosine(a, b), atol=1e-6)


def test_zero_vectors_give_zero_without_nan_in_value_or_gradient():
    a = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]], "float32")
    b = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], "float32")
    sim, grads = gradients(cosine_similarity, a, b)
    np.testing.assert_array_equal(sim, [0.0, 0.0])
    for g in grads:
        assert np.all(np.isfinite(g))


def test_float16_keeps_dtype_and_handles_zero_and_large_vectors():
    a = np.array([[0.0, 0.0], [300.0, 400.0]], "float16")
    b = np.array([[1.0, 1.0], [600.0, 800.0]], "float16")
    got = cosine_similarity(a, b)
    assert keras.backend.standardize_dtype(got.dtype) == "float16"
    np.testing.assert_allclose(
        _np(got).astype("float32"), [0.0, 1.0], atol=1e-3
    )


def test_l2_normalize_gives_unit_vectors():
    x = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
    expected = x / np.linalg.norm(x, axis=-1, keepdims=True)
    np.testing.assert_allclose(_np(l2_normalize(x)), expected, atol=1e-6)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="same size along axis -1"):
        cosine_similarity(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(
        ValueError, match=r"`axis` must be an axis of a rank-2 input"
    ):
        cosine_similarity(np.ones((2, 3)), np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="`axis`"):
        cosine_similarity(np.ones((2, 3)), np.ones((2, 3)), axis=-3)
    with pytest.raises(TypeError, match="`axis`"):
        cosine_similarity(np.ones((2, 3)), np.ones((2, 3)), axis="-1")
    with pytest.raises(
        ValueError, match="`a` and `b` must have shapes that broadcast"
    ):
        cosine_similarity(np.ones((3, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="`a` must have rank >= 1"):
        cosine_similarity(1.0, np.ones((2, 3)))
