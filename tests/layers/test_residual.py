"""Tests of keras_dlparts.layers.ResidualBlock."""

import numpy as np
import pytest
from support.batch_norm import randomise_weights
from support.numpy_conv import batch_norm
from support.numpy_conv import conv2d
from support.numpy_conv import relu

from keras_dlparts.layers import ResidualBlock
from keras_dlparts.testing import check_layer


def _bn(x, layer):
    return batch_norm(
        x,
        layer.gamma.numpy(),
        layer.beta.numpy(),
        layer.moving_mean.numpy(),
        layer.moving_variance.numpy(),
        layer.epsilon,
    )


def _conv(x, layer):
    bias = layer.bias.numpy() if layer.use_bias else None
    return conv2d(x, layer.kernel.numpy(), bias, strides=layer.strides[0])


def _numpy_block(block, x):
    """The block's formula, from its weights, in NumPy."""
    y = x.astype("float64")
    for i, (conv, norm) in enumerate(zip(block.convs, block.norms)):
        y = _bn(_conv(y, conv), norm)
        if i < len(block.convs) - 1:
            y = relu(y)
    shortcut = x
    if block.shortcut_conv is not None:
        shortcut = _bn(_conv(x, block.shortcut_conv), block.shortcut_norm)
    return relu(y + shortcut)


X = np.random.default_rng(1).normal(size=(4, 6, 6, 3)).astype("float32")


@pytest.mark.slow
def test_contract_bottleneck_with_projection():
    check_layer(
        ResidualBlock,
        {
            "filters": 2,
            "kind": "bottleneck",
            "strides": 2,
            "use_bias": True,
            "momentum": 0.5,
        },
        X,
        reference=_numpy_block,
        atol=1e-4,
    )


@pytest.mark.parametrize(
    "kwargs, channels, projected, out_shape",
    [
        ({"filters": 3}, 3, False, (4, 6, 6, 3)),
        ({"filters": 5}, 3, True, (4, 6, 6, 5)),
        ({"filters": 3, "strides": 2}, 3, True, (4, 3, 3, 3)),
        ({"filters": 2, "kind": "bottleneck"}, 8, False, (4, 6, 6, 8)),
        (
            {"filters": 2, "kind": "bottleneck", "strides": 2},
            3,
            True,
            (4, 3, 3, 8),
        ),
    ],
)
@pytest.mark.slow
def test_numpy_reference_and_shortcut(kwargs, channels, projected, out_shape):
    x = np.random.default_rng(2).normal(size=(4, 6, 6, channels))
    x = x.astype("float32")
    block = ResidualBlock(**kwargs)
    block(x)
    randomise_weights(block)
    out = np.asarray(block(x))
    assert out.shape == out_shape == block.compute_output_shape(x.shape)
    assert (block.shortcut_conv is not None) == projected
    np.testing.assert_allclose(out, _numpy_block(block, x), atol=1e-4)


def test_identity_shortcut_adds_the_input():
    block = ResidualBlock(3)
    block(X)
    block.set_weights(
        [
            np.zeros(w.shape) if "variance" not in w.path else np.ones(w.shape)
            for w in block.weights
        ]
    )
    np.testing.assert_allclose(np.asarray(block(X)), relu(X), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filters": 0}, "filters"),
        ({"filters": 2, "kind": "wide"}, "kind"),
        ({"filters": 2, "strides": 0}, "strides"),
        ({"filters": 2, "kernel_size": 2}, "kernel_size"),
        ({"filters": 2, "epsilon": float("nan")}, "epsilon"),
        ({"filters": 2, "momentum": 1.5}, "momentum"),
        ({"filters": 2, "kernel_initializer": "no-such"}, "kernel_initializer"),
        ({"filters": 2, "kernel_regularizer": "no-such"}, "kernel_regularizer"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResidualBlock(**kwargs)


def test_bad_input_rank():
    with pytest.raises(ValueError, match="`inputs` .*height, width, channels"):
        ResidualBlock(2)(np.ones((2, 5, 3), "float32"))


@pytest.mark.parametrize(
    "kwargs", [{"filters": 2.0}, {"filters": 2, "use_bias": 1}]
)
def test_wrong_types_raise_type_error(kwargs):
    with pytest.raises(TypeError, match=next(reversed(kwargs))):
        ResidualBlock(**kwargs)


def test_an_empty_batch_gives_an_empty_output_and_keeps_the_statistics():
    block = ResidualBlock(2, strides=2)
    out = block(np.ones((0, 4, 4, 3), "float32"), training=True)
    assert tuple(out.shape) == (0, 2, 2, 2)
    assert all(np.isfinite(np.asarray(w)).all() for w in block.weights)
