"""Tests of keras_dlparts.layers.PixelShuffle and PixelUnshuffle."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_dlparts.layers import PixelShuffle
from keras_dlparts.layers import PixelUnshuffle
from keras_dlparts.testing import check_layer


def numpy_shuffle(x, r, data_format="channels_last"):
    """Shi et al. (2016), written out index by index."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    b, h, w, channels = x.shape
    c = channels // (r * r)
    out = np.zeros((b, h * r, w * r, c), x.dtype)
    for i in range(r):
        for j in range(r):
            if data_format == "channels_last":  # depth_to_space
                picked = x[..., (i * r + j) * c : (i * r + j + 1) * c]
            else:  # PyTorch: channel k r^2 + i r + j
                picked = x[..., i * r + j :: r * r]
            out[:, i::r, j::r, :] = picked
    if data_format == "channels_first":
        out = np.moveaxis(out, -1, 1)
    return out


def _images(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.slow
def test_contract_with_numpy_reference():
    check_layer(
        PixelShuffle,
        {"upscale_factor": 2},
        _images(4, 3, 2, 8),
        reference=lambda layer, x: numpy_shuffle(x, 2),
    )


@pytest.mark.parametrize("r, channels", [(2, 4), (2, 12), (3, 18)])
def test_channels_last_is_depth_to_space(r, channels):
    x = _images(2, 3, 4, channels, seed=r)
    out = np.asarray(PixelShuffle(r, "channels_last")(x))
    np.testing.assert_array_equal(out, tf.nn.depth_to_space(x, r).numpy())
    np.testing.assert_array_equal(out, numpy_shuffle(x, r))


def test_channels_first_is_pytorch_order():
    x = _images(2, 12, 3, 2)
    out = np.asarray(PixelShuffle(2, "channels_first")(x))
    assert out.shape == (2, 3, 6, 4)
    np.testing.assert_array_equal(out, numpy_shuffle(x, 2, "channels_first"))
    # Worked example: channel k r^2 + i r + j lands at offset (i, j).
    one = np.arange(4, dtype="float32").reshape(1, 4, 1, 1)
    np.testing.assert_array_equal(
        np.asarray(PixelShuffle(2, "channels_first")(one))[0, 0],
        [[0.0, 1.0], [2.0, 3.0]],
    )


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_unshuffle_inverts_and_is_space_to_depth(data_format):
    x = _images(2, 6, 4, 2) if data_format == "channels_last" else None
    x = _images(2, 2, 6, 4) if x is None else x
    down = np.asarray(PixelUnshuffle(2, data_format)(x))
    np.testing.assert_array_equal(
        np.asarray(PixelShuffle(2, data_format)(down)), x
    )
    if data_format == "channels_last":
        np.testing.assert_array_equal(down, tf.nn.space_to_depth(x, 2).numpy())
    else:
        assert down.shape == (2, 8, 3, 2)
        np.testing.assert_array_equal(numpy_shuffle(down, 2, data_format), x)


def test_unshuffle_contract():
    check_layer(
        PixelUnshuffle,
        {"upscale_factor": 2},
        _images(4, 4, 2, 3),
        reference=lambda layer, x: tf.nn.space_to_depth(x, 2).numpy(),
        only=["output_shape", "reference", "config", "keras_file"],
    )


def test_output_shapes_with_unknown_dims():
    assert PixelShuffle(2, "channels_last").compute_output_shape(
        (None, None, 5, 12)
    ) == (None, None, 10, 3)
    assert PixelShuffle(3, "channels_first").compute_output_shape(
        (None, 18, 4, None)
    ) == (None, 2, 12, None)
    assert PixelUnshuffle(2, "channels_last").compute_output_shape(
        (None, None, 6, 3)
    ) == (None, None, 3, 12)
    inputs = keras.Input((None, None, 8))
    assert tuple(PixelShuffle(2)(inputs).shape) == (None, None, None, 2)


def test_unknown_sides_in_a_model():
    inputs = keras.Input((None, None, 4))
    model = keras.Model(inputs, PixelShuffle(2)(inputs))
    x = _images(2, 3, 5, 4)
    np.testing.assert_array_equal(
        np.asarray(model.predict(x, verbose=0)), numpy_shuffle(x, 2)
    )


def test_refusals_name_the_argument():
    with pytest.raises(ValueError, match=r"upscale_factor.*\b6 channels"):
        PixelShuffle(2)(np.ones((1, 2, 2, 6), "float32"))
    with pytest.raises(ValueError, match="upscale_factor"):
        PixelUnshuffle(2)(np.ones((1, 3, 2, 1), "float32"))
    with pytest.raises(ValueError, match="inputs"):
        PixelShuffle(2)(np.ones((2, 4, 4), "float32"))
    with pytest.raises(ValueError, match="upscale_factor"):
        PixelShuffle(0)
    with pytest.raises(TypeError, match="upscale_factor"):
        PixelShuffle(2.0)
    with pytest.raises(ValueError, match="data_format"):
        PixelShuffle(2, "nhwc")
    config = PixelShuffle(3, "channels_first").get_config()
    assert config["upscale_factor"] == 3
    assert config["data_format"] == "channels_first"
