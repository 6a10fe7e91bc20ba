import io

import keras
import numpy as np
import pytest
from PIL import Image
from support.tensorboard_events import read_events

from keras_dlparts.callbacks.attention_maps import AttentionMapLogger
from keras_dlparts.callbacks.attention_maps import attention_grid
from keras_dlparts.layers.attention import MultiHeadAttention

ATTENTION_CLASSES = [keras.layers.MultiHeadAttention, MultiHeadAttention]


def attention_model(attention_cls=keras.layers.MultiHeadAttention):
    tokens = keras.Input((6, 4))
    h = keras.layers.Dense(8, name="embed")(tokens)
    h = attention_cls(2, 4, name="mha")(h, h, use_causal_mask=True)
    out = keras.layers.Dense(1)(keras.layers.GlobalAveragePooling1D()(h))
    model = keras.Model(tokens, out)
    model.compile("adam", "mse", run_eagerly=True)
    return model


def decode(image_event):
    png = image_event[2]  # [width, height, png...]
    return np.asarray(Image.open(io.BytesIO(png)), "float32") / 255.0


@pytest.mark.slow
@pytest.mark.parametrize("attention_cls", ATTENTION_CLASSES)
def test_logs_attention_of_named_layer(attention_cls, tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 6, 4)).astype("float32")
    model = attention_model(attention_cls)
    logger = AttentionMapLogger(
        str(tmp_path), "mha", x[:3], max_images=2, zoom=2
    )
    model.fit(x, np.zeros((8, 1)), epochs=2, verbose=0, callbacks=[logger])
    # Independent reading of the weights: the layer called directly
    # on the output of the embedding layer, with the causal mask.
    embed = keras.Model(model.inputs, model.get_layer("embed").output)(x[:3])
    _, expected = model.get_layer("mha")(
        embed, embed, use_causal_mask=True, return_attention_scores=True
    )
    expected = np.asarray(expected)
    np.testing.assert_allclose(logger.last_scores, expected, atol=1e-6)
    assert np.allclose(np.triu(expected[0, 0], 1), 0.0)  # the mask was used
    images = read_events(str(tmp_path))["attention/mha"]
    assert [step for step, _ in images] == [0, 1, 2]
    tensor = images[-1][1]
    assert len(tensor) == 2 + 2  # width, height, two images
    first = decode(tensor)
    assert first.shape == (6 * 2, 2 * 7 * 2 - 2)
    # Head 1 of example 0, one pixel per cell, scaled by its maximum.
    head = first[::2, 14::2]
    np.testing.assert_allclose(
        head, expected[0, 1] / expected[0, 1].max(), atol=1 / 255 + 1e-6
    )
    assert np.all(first[:, 12:14] == 0.0)  # separator column between heads


def test_grid_layout():
    scores = np.arange(2 * 2 * 2 * 3, dtype="float32").reshape(2, 2, 2, 3)
    grid = attention_grid(scores, normalize=False, zoom=1)
    assert grid.shape == (2, 2, 7, 1)
    np.testing.assert_array_equal(
        grid[1, :, :3, 0], np.clip(scores[1, 0], 0, 1)
    )
    norm = attention_grid(scores, normalize=True)
    np.testing.assert_allclose(
        norm[1, :, 4:, 0], scores[1, 1] / scores[1, 1].max()
    )


def test_unknown_layer(tmp_path):
    logger = AttentionMapLogger(
        str(tmp_path), "nope", np.ones((1, 6, 4), "float32")
    )
    logger.set_model(attention_model())
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        logger.log(0)
    with pytest.raises(ValueError, match="max_images"):
        AttentionMapLogger(
            str(tmp_path), "mha", np.ones((1, 6, 4)), max_images=0
        )


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        # inputs=None used to fail only when training started.
        ({"inputs": None}, TypeError, "inputs"),
        ({"inputs": "x"}, TypeError, "inputs"),
        ({"inputs": np.ones((0, 6, 4))}, ValueError, "inputs"),
        ({"layer_name": None}, TypeError, "layer_name"),
        ({"layer_name": ""}, ValueError, "layer_name"),
        ({"normalize": "yes"}, TypeError, "normalize"),
        ({"zoom": 1.5}, TypeError, "zoom"),
    ],
)
def test_bad_arguments_refused_at_construction(kwargs, error, name, tmp_path):
    args = {
        "log_dir": str(tmp_path),
        "layer_name": "mha",
        "inputs": np.ones((1, 6, 4)),
        **kwargs,
    }
    with pytest.raises(error, match=name):
        AttentionMapLogger(**args)
