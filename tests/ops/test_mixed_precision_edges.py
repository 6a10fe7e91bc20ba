"""Mixed-precision edges of the ops: finite values and gradients.

In the style of the contract's mixed-precision check: at the edge (a zero
vector, vectors at the bottom of each dtype's range, values that overflow
16-bit arithmetic) the value and its gradient are finite, in float32,
float16 and bfloat16, eagerly and under XLA.
"""

import keras
import numpy as np
import pytest
from support.backend import gradients
from support.backend import jit

from keras_dlparts.ops import cosine_similarity
from keras_dlparts.ops import gaussian_kl_divergence
from keras_dlparts.ops.similarity import l2_normalize
from keras_dlparts.ops.similarity import norm_floor
from keras_dlparts.ops.similarity import safe_sqrt

DTYPES = ("float32", "float16", "bfloat16")


def _f32(x):
    return np.asarray(x, "float32")


def _finite(*arrays):
    return all(np.all(np.isfinite(_f32(a))) for a in arrays)


def _edge_vectors(dtype):
    """Zero, subnormal, smallest normal, just above the floor, large."""
    import ml_dtypes

    info = ml_dtypes.finfo(dtype)
    above = 2.0 * norm_floor(dtype)
    rows = [
        [0.0, 0.0, 0.0],
        [float(info.smallest_subnormal), 0.0, 0.0],
        [float(info.tiny), -float(info.tiny), 0.0],
        [above, 0.0, -above],
        [float(info.max) / 2, float(info.max) / 2, 1.0],
    ]
    return np.array(rows, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.slow
def test_l2_normalize_value_and_gradient_are_finite_and_bounded(dtype):
    x = _edge_vectors(dtype)
    weights = np.array([1.0, 2.0, 3.0], dtype)  # a gradient in every direction
    _, (grad,) = gradients(lambda t: l2_normalize(t) * weights, x)
    value = keras.ops.convert_to_numpy(l2_normalize(x))
    assert value.dtype == x.dtype
    assert _finite(value, grad), (value, grad)
    # Zero and below-floor vectors stay zero, with gradient zero.
    np.testing.assert_array_equal(_f32(value[:3]), 0.0)
    np.testing.assert_array_equal(_f32(grad[:3]), 0.0)
    # Others are unit vectors; the gradient is bounded by |w| / floor.
    norms = np.linalg.norm(_f32(value[3:]), axis=-1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-2)
    bound = np.linalg.norm(_f32(weights)) / norm_floor(dtype)
    assert np.abs(_f32(grad)).max() <= bound


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.slow
def test_l2_normalize_large_vectors_do_not_overflow(dtype):
    # float32 1e20 squared overflows: the value must still be the unit vector.
    big = 1e20 if dtype != "float16" else 6e4
    x = np.array([[big, big]], dtype)
    value, (grad,) = gradients(l2_normalize, x)
    np.testing.assert_allclose(_f32(value), [[0.7071, 0.7071]], atol=1e-2)
    assert _finite(grad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.slow
def test_cosine_similarity_at_a_zero_vector(dtype):
    # The issue: gradients of about 1e11 in float32 and inf in float16.
    a = np.zeros((2, 3), dtype)
    b = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]], dtype)
    value, (grad_a, grad_b) = gradients(cosine_similarity, a, b)
    np.testing.assert_array_equal(_f32(value), 0.0)
    np.testing.assert_array_equal(_f32(grad_a), 0.0)
    np.testing.assert_array_equal(_f32(grad_b), 0.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_cosine_similarity_edges_under_xla(dtype):
    a = _edge_vectors(dtype)
    b = np.ones_like(a)

    def value_and_grad(a, b):
        return gradients(cosine_similarity, a, b)

    value, (grad_a, _) = value_and_grad(a, b)
    compiled = keras.ops.convert_to_numpy(jit(cosine_similarity)(a, b))
    assert _finite(value, grad_a, compiled)
    np.testing.assert_allclose(_f32(compiled), _f32(value), atol=1e-2)
    # Unit vectors of the last two rows: cos with (1, 1, 1).
    np.testing.assert_allclose(_f32(value[3]), 0.0, atol=1e-2)
    np.testing.assert_allclose(_f32(value[4]), np.sqrt(2 / 3), atol=2e-2)


@pytest.mark.parametrize("dtype", DTYPES)
def test_safe_sqrt_at_zero(dtype):
    squared = np.array([0.0, 1e-30, 4.0], dtype)
    value, (grad,) = gradients(safe_sqrt, squared)
    assert _finite(value, grad)
    np.testing.assert_allclose(_f32(value), [0.0, 0.0, 2.0], atol=1e-2)
    np.testing.assert_allclose(_f32(grad), [0.0, 0.0, 0.25], atol=1e-2)


def _numpy_kl(mean, log_var):
    mean, log_var = np.float64(mean), np.float64(log_var)
    return -0.5 * np.sum(1 + log_var - mean**2 - np.exp(log_var), axis=-1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gaussian_kl_computes_in_float32_for_16_bit_inputs(dtype):
    # exp(11.5) = 98715 and 300**2 = 9e4 overflow float16 (max 65504);
    # the gradients (300 and (exp(11.5) - 1) / 2) fit it.
    mean = np.array([[300.0, 0.5], [0.0, 0.0]], dtype)
    log_var = np.array([[11.5, -20.0], [0.0, 1e-3]], dtype)
    value, (grad_mean, grad_log_var) = gradients(
        gaussian_kl_divergence, mean, log_var
    )
    assert value.dtype == np.float32
    assert _finite(value, grad_mean, grad_log_var)
    # Computed in float32 from the (rounded) 16-bit inputs.
    np.testing.assert_allclose(
        value, _numpy_kl(_f32(mean), _f32(log_var)), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(_f32(grad_mean), _f32(mean), rtol=1e-2)
    expected_grad = 0.5 * (np.exp(_f32(log_var)) - 1.0)
    np.testing.assert_allclose(
        _f32(grad_log_var), expected_grad, rtol=1e-2, atol=1e-6
    )


def test_gaussian_kl_keeps_float32_and_traces_under_xla():
    mean = np.full((2, 3), 0.5, "float16")
    log_var = np.full((2, 3), 12.0, "float16")  # exp overflows float16
    out = jit(gaussian_kl_divergence)(mean, log_var)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out), _numpy_kl(mean, log_var), rtol=1e-5
    )
