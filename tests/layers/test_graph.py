"""Tests of keras_dlparts.layers.GraphConvolution."""

import keras
import numpy as np
import pytest
from support.backend import to_sparse

from keras_dlparts.layers import GraphConvolution
from keras_dlparts.testing import check_layer


def _numpy_gcn(layer, features, adjacency):
    """D~^-1/2 (A + I) D~^-1/2 X W + b, forming the matrices explicitly."""
    kernel = layer.kernel.numpy().astype("float64")
    a_tilde = adjacency + np.eye(adjacency.shape[-1])
    degree = a_tilde.sum(axis=-1)
    d_inv_sqrt = degree[..., :, None] ** -0.5 * np.eye(adjacency.shape[-1])
    out = d_inv_sqrt @ a_tilde @ d_inv_sqrt @ features @ kernel
    if layer.use_bias:
        out = out + layer.bias.numpy()
    return out


def _graphs(batch=4, nodes=5, features=3, seed=0):
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((batch, nodes, nodes)) < 0.5, 1)
    adjacency = (upper | np.swapaxes(upper, 1, 2)).astype("float32")
    x = rng.normal(size=(batch, nodes, features)).astype("float32")
    return x, adjacency


@pytest.mark.slow
def test_contract_with_numpy_reference():
    x, adjacency = _graphs()
    check_layer(
        GraphConvolution,
        {"units": 4, "activation": "tanh"},
        (x, adjacency),
        reference=lambda layer, *inputs: np.tanh(_numpy_gcn(layer, *inputs)),
    )


def test_weighted_shared_adjacency_and_activation():
    x, _ = _graphs(batch=2)
    weights = np.random.default_rng(1).random((5, 5)).astype("float32")
    weights = (weights + weights.T) * (1 - np.eye(5, dtype="float32"))
    layer = GraphConvolution(3, activation="relu")
    layer.build(x.shape, weights.shape)
    layer.bias.assign([0.5, -0.5, 0.1])
    out = np.asarray(layer(x, weights))
    expected = np.maximum(_numpy_gcn(layer, x, weights), 0.0)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert out.shape == layer.compute_output_shape(x.shape, weights.shape)


@pytest.mark.slow
def test_sparse_adjacency_equals_dense():
    x, adjacency = _graphs()
    layer = GraphConvolution(4)
    dense = np.asarray(layer(x, adjacency))
    sparse = np.asarray(layer(x, to_sparse(adjacency)))
    np.testing.assert_allclose(sparse, dense, atol=1e-6)
    # And through a functional model with a sparse Input.
    features_in = keras.Input((5, 3))
    adjacency_in = keras.Input((5, 5), sparse=True)
    model = keras.Model(
        [features_in, adjacency_in], layer(features_in, adjacency_in)
    )
    out = model([keras.ops.convert_to_tensor(x), to_sparse(adjacency)])
    np.testing.assert_allclose(np.asarray(out), dense, atol=1e-6)


def test_isolated_node_keeps_its_own_features():
    x = np.eye(3, dtype="float32")[None]
    adjacency = np.zeros((1, 3, 3), "float32")
    layer = GraphConvolution(3, kernel_initializer="identity", use_bias=False)
    np.testing.assert_allclose(np.asarray(layer(x, adjacency)), x)


def test_mismatched_nodes_raise():
    with pytest.raises(ValueError, match="adjacency"):
        GraphConvolution(2)(np.ones((1, 4, 3)), np.ones((1, 5, 5)))


def test_mismatched_batch_sizes_and_ranks_raise():
    with pytest.raises(
        ValueError, match="`features` and `adjacency`.*batch size"
    ):
        GraphConvolution(2)(np.ones((2, 4, 3)), np.ones((3, 4, 4)))
    with pytest.raises(ValueError, match="`features`"):
        GraphConvolution(2)(np.ones((3,)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="`adjacency`"):
        GraphConvolution(2)(np.ones((1, 3, 2)), np.ones((1, 1, 3, 3)))
    layer = GraphConvolution(2)
    layer(np.ones((1, 3, 2)), np.ones((1, 3, 3)))
    with pytest.raises(
        ValueError, match="`features` must have size 2 along axis -1"
    ):
        layer(np.ones((1, 3, 4)), np.ones((1, 3, 3)))


def test_empty_batch_gives_an_empty_output():
    out = GraphConvolution(2)(
        np.ones((0, 3, 2), "float32"), np.ones((0, 3, 3), "float32")
    )
    assert tuple(out.shape) == (0, 3, 2)


def test_a_node_of_zero_degree_gets_factor_zero():
    # Node 0's row sums to -1, so its degree A 1 + 1 is 0: its factor is 0
    # (PyG's convention), while the others keep 1 / sqrt(degree).
    adjacency = np.array(
        [[0.0, -1.0, 0.0], [-1.0, 0.0, 2.0], [0.0, 2.0, 0.0]], "float32"
    )
    x = np.arange(6, dtype="float32").reshape(3, 2)
    layer = GraphConvolution(
        2, kernel_initializer="identity", bias_initializer="ones"
    )
    out = np.asarray(layer(x, adjacency))
    degree = adjacency.sum(-1) + 1.0
    factor = np.zeros(3)
    factor[degree > 0] = degree[degree > 0] ** -0.5
    a_tilde = adjacency + np.eye(3)
    expected = factor[:, None] * (a_tilde @ (factor[:, None] * x)) + 1.0
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    np.testing.assert_array_equal(out[0], [1.0, 1.0])  # the bias alone


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"units": 0}, ValueError, "units"),
        ({"units": 2.0}, TypeError, "units"),
        ({"units": 2, "use_bias": 1}, TypeError, "use_bias"),
        (
            {"units": 2, "kernel_initializer": "nope"},
            ValueError,
            "kernel_initializer",
        ),
        (
            {"units": 2, "bias_initializer": "nope"},
            ValueError,
            "bias_initializer",
        ),
        ({"units": 2, "activation": "nope"}, ValueError, "activation"),
        (
            {"units": 2, "kernel_regularizer": "nope"},
            ValueError,
            "kernel_regularizer",
        ),
        ({"units": 2, "bias_constraint": 3}, ValueError, "bias_constraint"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        GraphConvolution(**kwargs)
