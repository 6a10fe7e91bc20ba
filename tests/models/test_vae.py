"""Tests of keras_dlparts.models.VAE."""

import os

import keras
import numpy as np
import pytest
from support.digits_judge import judge_accuracy

from keras_dlparts.data import load_digits
from keras_dlparts.models import VAE
from keras_dlparts.testing import check_model


def _halves(latent_dim=2, hidden=16, shape=(8, 8, 1)):
    inputs = keras.Input(shape)
    h = keras.layers.Dense(hidden, activation="relu")(
        keras.layers.Flatten()(inputs)
    )
    encoder = keras.Model(
        inputs,
        [keras.layers.Dense(latent_dim)(h), keras.layers.Dense(latent_dim)(h)],
        name="encoder",
    )
    codes = keras.Input((latent_dim,))
    h = keras.layers.Dense(hidden, activation="relu")(codes)
    out = keras.layers.Dense(int(np.prod(shape)), activation="sigmoid")(h)
    decoder = keras.Model(
        codes, keras.layers.Reshape(shape)(out), name="decoder"
    )
    return encoder, decoder


def _compile(model, jit_compile):
    model.compile(keras.optimizers.Adam(1e-2), jit_compile=jit_compile)


def _digits(n=None):
    (x_train, y_train), (x_test, y_test) = load_digits()
    return x_train[:n], y_train[:n], x_test, y_test


@pytest.mark.slow
def test_contract():
    x = _digits(32)[0]
    check_model(
        lambda: VAE(*_halves(), seed=1), x, compile_fn=_compile, epochs=3
    )


def _sigmoid_bce(t, p):
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return -(t * np.log(p) + (1 - t) * np.log(1 - p))


@pytest.mark.parametrize("reconstruction, beta", [("bce", 0.5), ("mse", 2.0)])
@pytest.mark.slow
def test_reported_losses_match_numpy(reconstruction, beta):
    x = _digits(12)[0]
    encoder, decoder = _halves(latent_dim=3)
    vae = VAE(encoder, decoder, beta=beta, reconstruction=reconstruction)
    _compile(vae, "auto")
    logs = vae.evaluate(x, batch_size=12, verbose=0, return_dict=True)
    mean, log_var = (np.asarray(t, "float64") for t in encoder(x))
    recon = np.asarray(decoder(mean), "float64")  # inference uses the mean
    if reconstruction == "bce":
        per_pixel = _sigmoid_bce(x, recon)
    else:
        per_pixel = (x - recon) ** 2
    rec = per_pixel.reshape(len(x), -1).sum(-1).mean()
    kl = (-0.5 * (1 + log_var - mean**2 - np.exp(log_var)).sum(-1)).mean()
    assert logs["reconstruction_loss"] == pytest.approx(rec, rel=1e-4)
    assert logs["kl_loss"] == pytest.approx(beta * kl, rel=1e-4)
    assert logs["loss"] == pytest.approx(rec + beta * kl, rel=1e-4)


@pytest.mark.slow
def test_beta_zero_is_a_plain_autoencoder_loss():
    x = _digits(8)[0]
    vae = VAE(*_halves(), beta=0.0)
    _compile(vae, "auto")
    logs = vae.evaluate(x, verbose=0, return_dict=True)
    assert logs["kl_loss"] == 0.0
    assert logs["loss"] == pytest.approx(logs["reconstruction_loss"])


@pytest.mark.slow
def test_encode_decode_generate_interpolate():
    x = _digits(4)[0]
    vae = VAE(*_halves(latent_dim=3), seed=0)
    mean, log_var = vae.encode(x)
    assert mean.shape == (4, 3) and log_var.shape == (4, 3)
    np.testing.assert_allclose(vae.decode(mean), vae(x), rtol=1e-6)
    a, b = vae.generate(5, seed=3), vae.generate(5, seed=3)
    assert a.shape == (5, 8, 8, 1)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, vae.generate(5, seed=4))
    line = np.asarray(vae.interpolate(x[0], x[1:2], steps=5))
    assert line.shape == (5, 8, 8, 1)
    np.testing.assert_allclose(line[0], vae(x[:1])[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(line[-1], vae(x[1:2])[0], rtol=1e-5, atol=1e-6)
    midpoint = vae.decode((mean[:1] + mean[1:2]) / 2.0)
    np.testing.assert_allclose(line[2], midpoint[0], rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_save_load_and_keep_training(tmp_path):
    x = _digits(64)[0]
    vae = VAE(*_halves(), beta=0.5, reconstruction="mse", seed=2)
    _compile(vae, "auto")
    vae.fit(x, epochs=2, batch_size=16, verbose=0)
    path = os.path.join(tmp_path, "vae.keras")
    vae.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, VAE)
    assert (reloaded.beta, reloaded.reconstruction, reloaded.seed) == (
        0.5,
        "mse",
        2,
    )
    np.testing.assert_allclose(reloaded(x), vae(x), rtol=1e-6, atol=1e-7)
    assert int(reloaded.optimizer.iterations) == int(vae.optimizer.iterations)
    before = reloaded.evaluate(x, verbose=0, return_dict=True)["loss"]
    history = reloaded.fit(x, epochs=3, batch_size=16, verbose=0)
    assert set(history.history) == {"loss", "reconstruction_loss", "kl_loss"}
    assert reloaded.evaluate(x, verbose=0, return_dict=True)["loss"] < before


@pytest.mark.slow
@pytest.mark.learning
def test_digits_reconstructions_are_recognised():
    x_train, _, x_test, y_test = _digits()
    keras.utils.set_random_seed(0)
    vae = VAE(*_halves(latent_dim=8, hidden=128), beta=1.0, seed=0)
    vae.compile(keras.optimizers.Adam(2e-3))
    history = vae.fit(x_train, epochs=60, batch_size=64, verbose=0)
    losses = history.history
    assert losses["loss"][-1] < 0.7 * losses["loss"][0]
    assert losses["reconstruction_loss"][-1] < losses["reconstruction_loss"][0]
    accuracy = judge_accuracy(np.asarray(vae(x_test)), y_test)
    print(f"VAE held-out reconstructions judged correct: {accuracy:.3f}")
    assert accuracy >= 0.8


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"beta": -1.0}, ValueError, "beta"),
        ({"reconstruction": "l1"}, ValueError, "reconstruction"),
        ({"encoder": keras.layers.Dense(2)}, TypeError, "encoder"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    encoder, decoder = _halves()
    args = {"encoder": encoder, "decoder": decoder}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        VAE(**args)


def test_bad_encoder_and_generate_arguments():
    inputs = keras.Input((4,))
    single = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="mean, log_var"):
        VAE(single, _halves()[1])
    vae = VAE(*_halves())
    with pytest.raises(ValueError, match="`n`"):
        vae.generate(0)
    with pytest.raises(ValueError, match="steps"):
        vae.interpolate(np.zeros((8, 8, 1)), np.zeros((8, 8, 1)), steps=1)
    with pytest.raises(TypeError, match="`n` must be a positive integer"):
        vae.generate(2.0)
