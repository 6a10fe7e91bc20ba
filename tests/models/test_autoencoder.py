"""Tests of keras_dlparts.models.build_autoencoder."""

import keras
import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.models import build_autoencoder
from keras_dlparts.testing import check_model

X = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")


@pytest.mark.slow
@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": "dense", "hidden_units": (16,), "denoising": 0.1},
        {"kind": "conv", "filters": (4,), "upsampling": "resize"},
    ],
)
def test_contract(kwargs):
    check_model(
        lambda: build_autoencoder((8, 8, 1), 3, **kwargs),
        X,
        X,
        batch_size=4,
        epochs=3,
    )


@pytest.mark.slow
def test_conv_architecture_and_transpose_decoder():
    model = build_autoencoder((8, 8, 1), 5, kind="conv", filters=(4, 8))
    encoder = model.get_layer("encoder")
    decoder = model.get_layer("decoder")
    kinds = [type(layer).__name__ for layer in encoder.layers]
    assert kinds[:6] == [
        "Conv2D",
        "LeakyReLU",
        "BatchNormalization",
        "Conv2D",
        "LeakyReLU",
        "BatchNormalization",
    ]
    assert encoder.output_shape == (None, 5)
    decoder_kinds = {type(layer).__name__ for layer in decoder.layers}
    assert "Conv2DTranspose" in decoder_kinds
    assert "UpSampling2D" not in decoder_kinds
    resize = build_autoencoder((8, 8, 1), 5, kind="conv", upsampling="resize")
    resize_kinds = {
        type(layer).__name__ for layer in resize.get_layer("decoder").layers
    }
    assert (
        "UpSampling2D" in resize_kinds and "Conv2DTranspose" not in resize_kinds
    )
    out = model(X)
    assert out.shape == X.shape
    assert float(np.min(out)) >= 0.0 and float(np.max(out)) <= 1.0


def test_denoising_noise_only_in_training():
    model = build_autoencoder((64,), 4, denoising=0.5)
    noise = model.get_layer("input_noise")
    x = np.ones((3, 64), "float32")
    np.testing.assert_array_equal(noise(x), x)
    noisy = np.asarray(noise(x, training=True))
    assert 0.3 < noisy.std() < 0.7
    np.testing.assert_allclose(model(x), model(x))


@pytest.mark.slow
def test_learns_digits_better_than_the_mean_image():
    (x_train, _), (x_test, _) = load_digits()
    baseline = float(np.mean((x_test - x_train.mean(0)) ** 2))
    keras.utils.set_random_seed(0)
    model = build_autoencoder((8, 8, 1), 16, kind="dense", hidden_units=(64,))
    model.compile(keras.optimizers.Adam(3e-3), loss="mse")
    model.fit(x_train, x_train, epochs=30, batch_size=64, verbose=0)
    error = float(np.mean((model.predict(x_test, verbose=0) - x_test) ** 2))
    assert error < 0.35 * baseline


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"latent_dim": 0}, "latent_dim"),
        ({"kind": "lstm"}, "kind"),
        ({"upsampling": "bilinear"}, "upsampling"),
        ({"denoising": -0.1}, "denoising"),
        ({"kind": "conv", "input_shape": (64,)}, "height, width, channels"),
        ({"kind": "conv", "filters": (4, 4, 4, 4)}, "divisible"),
        ({"hidden_units": (0,)}, "hidden_units"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {"input_shape": (8, 8, 1), "latent_dim": 2}
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        build_autoencoder(**args)
