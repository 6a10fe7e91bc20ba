"""Tests of keras_dlparts.layers.DenseBlock and TransitionLayer."""

import numpy as np
import pytest
from support.batch_norm import randomise_weights
from support.numpy_conv import average_pool
from support.numpy_conv import batch_norm
from support.numpy_conv import conv2d
from support.numpy_conv import relu

from keras_dlparts.layers import DenseBlock
from keras_dlparts.layers import TransitionLayer
from keras_dlparts.testing import check_layer


def _bn_relu(x, layer):
    return relu(
        batch_norm(
            x,
            layer.gamma.numpy(),
            layer.beta.numpy(),
            layer.moving_mean.numpy(),
            layer.moving_variance.numpy(),
            layer.epsilon,
        )
    )


def _numpy_dense_block(block, x):
    x = x.astype("float64")
    for layers in block.composites:
        y = x
        for norm, conv in zip(layers[::2], layers[1::2]):
            y = conv2d(_bn_relu(y, norm), conv.kernel.numpy())
        x = np.concatenate([x, y], axis=-1)
    return x


def _numpy_transition(layer, x):
    y = _bn_relu(x.astype("float64"), layer.norm)
    return average_pool(conv2d(y, layer.conv.kernel.numpy(), padding="valid"))


X = np.random.default_rng(1).normal(size=(4, 5, 5, 3)).astype("float32")


@pytest.mark.slow
def test_dense_block_contract():
    check_layer(
        DenseBlock,
        {
            "num_layers": 2,
            "growth_rate": 2,
            "bottleneck": True,
            "momentum": 0.5,
        },
        X,
        reference=_numpy_dense_block,
        atol=1e-4,
    )


@pytest.mark.slow
def test_transition_contract():
    x = np.random.default_rng(2).normal(size=(4, 4, 4, 6)).astype("float32")
    check_layer(
        TransitionLayer,
        {"compression": 0.5, "momentum": 0.5},
        x,
        reference=_numpy_transition,
        atol=1e-5,
    )


@pytest.mark.parametrize("bottleneck", [False, True])
@pytest.mark.slow
def test_dense_block_numpy_reference(bottleneck):
    block = DenseBlock(3, growth_rate=4, bottleneck=bottleneck)
    block(X)
    randomise_weights(block)
    out = np.asarray(block(X))
    assert out.shape == (4, 5, 5, 3 + 3 * 4)
    assert out.shape == block.compute_output_shape(X.shape)
    # Dense connectivity: the input channels are passed through unchanged.
    np.testing.assert_array_equal(out[..., :3], X)
    np.testing.assert_allclose(out, _numpy_dense_block(block, X), atol=1e-4)
    convs_per_layer = 2 if bottleneck else 1
    assert len(block.trainable_weights) == 3 * convs_per_layer * 3


def test_transition_numpy_reference_odd_size():
    x = np.random.default_rng(3).normal(size=(2, 5, 5, 7)).astype("float32")
    layer = TransitionLayer(compression=0.5)
    layer(x)
    randomise_weights(layer)
    out = np.asarray(layer(x))
    assert out.shape == (2, 2, 2, 3) == layer.compute_output_shape(x.shape)
    np.testing.assert_allclose(out, _numpy_transition(layer, x), atol=1e-5)


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (DenseBlock, {"num_layers": 0, "growth_rate": 2}, "num_layers"),
        (DenseBlock, {"num_layers": 2, "growth_rate": -1}, "growth_rate"),
        (
            DenseBlock,
            {"num_layers": 2, "growth_rate": 2, "dropout": 1.0},
            "`dropout`",
        ),
        (TransitionLayer, {"compression": 0.0}, "compression"),
        (TransitionLayer, {"compression": 1.5}, "compression"),
        (TransitionLayer, {"compression": float("nan")}, "compression"),
        (TransitionLayer, {"epsilon": 0.0}, "epsilon"),
        (TransitionLayer, {"momentum": float("inf")}, "momentum"),
        (
            DenseBlock,
            {"num_layers": 2, "growth_rate": 2, "epsilon": float("nan")},
            "epsilon",
        ),
        (
            DenseBlock,
            {"num_layers": 2, "growth_rate": 2, "kernel_regularizer": "l3"},
            "kernel_regularizer",
        ),
        (
            DenseBlock,
            {"num_layers": 2, "growth_rate": 2, "kernel_initializer": "x"},
            "kernel_initializer",
        ),
    ],
)
def test_bad_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_bad_input_rank():
    with pytest.raises(ValueError, match="`inputs` .*height, width, channels"):
        DenseBlock(2, 2)(np.ones((2, 5, 3), "float32"))


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (
            DenseBlock,
            {"num_layers": 2, "growth_rate": 2, "bottleneck": 1},
            "bottleneck",
        ),
        (DenseBlock, {"num_layers": 2, "growth_rate": 2, "seed": "0"}, "seed"),
        (TransitionLayer, {"compression": "0.5"}, "compression"),
    ],
)
def test_wrong_types_raise_type_error(cls, kwargs, name):
    with pytest.raises(TypeError, match=name):
        cls(**kwargs)


def test_a_compression_keeping_no_channel_names_compression():
    with pytest.raises(ValueError, match="`compression`=0.5 keeps no channel"):
        TransitionLayer(0.5)(np.ones((1, 4, 4, 1), "float32"))


@pytest.mark.parametrize(
    "layer, shape",
    [(DenseBlock(2, 2), (0, 4, 4, 7)), (TransitionLayer(0.5), (0, 2, 2, 1))],
)
def test_an_empty_batch_gives_an_empty_output_and_keeps_the_statistics(
    layer, shape
):
    out = layer(np.ones((0, 4, 4, 3), "float32"), training=True)
    assert tuple(out.shape) == shape
    assert all(np.isfinite(np.asarray(w)).all() for w in layer.weights)
