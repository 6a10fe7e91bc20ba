"""Tests of keras_dlparts.models.build_unet."""

import keras
import numpy as np
import pytest
from support.batch_norm import fast_batch_norm

from keras_dlparts.models import build_unet
from keras_dlparts.testing import check_model


@pytest.mark.parametrize(
    "upsampling",
    [pytest.param("transpose", marks=pytest.mark.slow), "resize"],
)
def test_keeps_spatial_size_and_concatenates_encoder_features(upsampling):
    model = build_unet(
        (16, 24, 2), num_classes=3, filters=(4, 8), upsampling=upsampling
    )
    assert model.output_shape == (None, 16, 24, 3)
    out = np.asarray(model(np.ones((1, 16, 24, 2), "float32")))
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)  # softmax
    for level, filters in ((1, 4), (2, 8)):
        concat = model.get_layer(f"decoder{level}_concat")
        skip, upsampled = concat.input
        # The first input of the concatenation IS the encoder's output.
        assert skip is model.get_layer(f"encoder{level}_relu2").output
        assert upsampled is model.get_layer(f"decoder{level}_up").output
        assert concat.output.shape[-1] == 2 * filters


@pytest.mark.slow
def test_skip_connection_carries_fine_detail():
    """Zeroing the encoder path's features changes the decoder's input."""
    model = build_unet((8, 8, 1), filters=(2,), batch_norm=False)
    encoder = keras.Model(
        model.input, model.get_layer("decoder1_concat").output
    )
    x = np.random.default_rng(0).normal(size=(1, 8, 8, 1)).astype("float32")
    features = np.asarray(encoder(x))
    expected_skip = np.asarray(
        keras.Model(model.input, model.get_layer("encoder1_relu2").output)(x)
    )
    np.testing.assert_allclose(features[..., :2], expected_skip, atol=1e-6)


def _tiny():
    return fast_batch_norm(
        build_unet((16, 16, 1), num_classes=1, filters=(4, 8))
    )


@pytest.mark.slow
def test_contract_tiny():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 16, 16, 1)).astype("float32")
    y = (x > 0).astype("float32")
    check_model(_tiny, x, y, loss="binary_crossentropy", epochs=3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"image_shape": (12, 12, 1), "filters": (4, 8, 16)}, "divisible by 8"),
        ({"upsampling": "nearest"}, "upsampling"),
        ({"filters": ()}, "filters"),
        ({"dropout": -0.1}, "`dropout`"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_unet(**kwargs)
