"""Numerical edges of the sampler and the graph convolution, per dtype policy.

Each test runs the layer at its edge under `float32`, `mixed_float16` and
`mixed_bfloat16` and requires finite values and finite gradients (the
contract's mixed-precision style), plus agreement with a float32 or NumPy
reference where the result is representable.
"""

import keras
import ml_dtypes
import numpy as np
import pytest
from support.backend import gradients

from keras_dlparts.layers import GraphConvolution
from keras_dlparts.layers import ReparameterizationSampler

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
#: The largest finite value of each compute dtype, as a float32.
LARGEST = {
    policy: np.float32(
        ml_dtypes.finfo(keras.DTypePolicy(policy).compute_dtype).max
    )
    for policy in POLICIES
}


def _compute_dtype(policy):
    return keras.DTypePolicy(policy).compute_dtype


def _assert_finite(label, *arrays):
    for array in arrays:
        assert np.all(np.isfinite(np.asarray(array, "float64"))), (
            f"{label}: {array}"
        )


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("log_var_value", [22.0, 30.0, 400.0])
@pytest.mark.slow
def test_sampler_is_finite_for_a_huge_variance(policy, log_var_value):
    # float16 overflows from log_var ~ 22 (exp(11) * eps > 65504), float32
    # from log_var ~ 177: the sample is computed in float32 and clipped.
    dtype = _compute_dtype(policy)
    mean = np.zeros((8, 128), dtype)
    log_var = np.full((8, 128), log_var_value, dtype)
    sampler = ReparameterizationSampler(kl_weight=1.0, seed=3, dtype=policy)

    def sample(m, lv):
        return keras.ops.cast(sampler([m, lv], training=True), "float32")

    z, (d_mean, d_log_var) = gradients(sample, mean, log_var)
    _assert_finite("z", z)
    _assert_finite("d_mean", d_mean)
    _assert_finite("d_log_var", d_log_var)
    if log_var_value < 88:  # the KL term holds exp(log_var): finite in float32
        _assert_finite(
            "kl", *[keras.ops.convert_to_numpy(x) for x in sampler.losses]
        )
    assert np.all(np.abs(z) <= LARGEST[policy])
    # In range, the sample is the float32 one: mean + exp(log_var / 2) * eps.
    reference = ReparameterizationSampler(seed=3)
    z32 = np.asarray(
        reference(
            [mean.astype("float32"), log_var.astype("float32")], training=True
        )
    )
    inside = np.abs(z32) < LARGEST[policy]
    if log_var_value == 22.0 and policy == "mixed_float16":
        assert 0.1 < inside.mean() < 0.9  # the edge is exercised on both sides
    np.testing.assert_allclose(z[inside], z32[inside], rtol=1e-2)
    np.testing.assert_array_equal(np.sign(z[~inside]), np.sign(z32[~inside]))
    np.testing.assert_array_equal(np.abs(z[~inside]), LARGEST[policy])
    # dz/dlog_var = 0.5 (z - mean) in range, 0 through a clipped sample.
    np.testing.assert_array_equal(d_log_var[~inside], 0.0)
    np.testing.assert_array_equal(d_mean[~inside], 0.0)


def _edge_graph():
    # Node 0 has degree A 1 + 1 = 0 (a negative edge weight); node 2 has
    # degree 8e4 + 1, beyond float16's range (65504).
    adjacency = np.array(
        [[0.0, -1.0, 0.0], [-1.0, 0.0, 2.0], [4e4, 4e4, 0.0]], "float32"
    )
    features = np.arange(1, 7, dtype="float32").reshape(3, 2) / 6.0
    return features, adjacency


def _numpy_gcn(features, adjacency):
    degree = adjacency.astype("float64").sum(-1) + 1.0
    factor = np.zeros_like(degree)
    factor[degree > 0] = degree[degree > 0] ** -0.5
    a_tilde = adjacency + np.eye(len(adjacency))
    return factor[:, None] * (a_tilde @ (factor[:, None] * features))


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.slow
def test_graph_convolution_is_finite_at_zero_and_huge_degrees(policy):
    features, adjacency = _edge_graph()
    layer = GraphConvolution(
        2, kernel_initializer="identity", use_bias=False, dtype=policy
    )

    def convolve(x, a):
        return keras.ops.cast(layer(x, a), "float32")

    out, (d_features, d_adjacency) = gradients(
        convolve, features.astype(_compute_dtype(policy)), adjacency
    )
    _assert_finite("outputs", out)
    _assert_finite("d_features", d_features)
    _assert_finite("d_adjacency", d_adjacency)
    np.testing.assert_array_equal(out[0], [0.0, 0.0])  # factor 0: no message
    rtol = {"float32": 1e-5, "mixed_float16": 1e-2, "mixed_bfloat16": 3e-2}[
        policy
    ]
    np.testing.assert_allclose(
        out, _numpy_gcn(features, adjacency), rtol=rtol, atol=1e-7
    )
    assert all(w.dtype == "float32" for w in layer.weights)
