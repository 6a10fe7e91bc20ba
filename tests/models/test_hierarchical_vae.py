"""Tests of keras_dlparts.models.HierarchicalVAE."""

import os

import keras
import numpy as np
import pytest

from keras_dlparts.models import VAE
from keras_dlparts.models import HierarchicalVAE
from keras_dlparts.testing import check_model

X_DIM, D1, L1, L2 = 6, 5, 3, 2


def _dense(inputs, units, name, activation=None):
    return keras.layers.Dense(units, activation=activation, name=name)(inputs)


def _networks(out_activation="sigmoid"):
    """Four tiny dense networks; every layer named for `_numpy_weights`."""
    x = keras.Input((X_DIM,))
    d1 = _dense(x, D1, "f1", "relu")
    encoder_1 = keras.Model(
        x, [_dense(d1, L1, "mh"), _dense(d1, L1, "lvh"), d1], name="encoder_1"
    )
    d = keras.Input((D1,))
    encoder_2 = keras.Model(
        d, [_dense(d, L2, "m2"), _dense(d, L2, "lv2")], name="encoder_2"
    )
    z2 = keras.Input((L2,))
    prior_1 = keras.Model(
        z2, [_dense(z2, L1, "pm"), _dense(z2, L1, "plv")], name="prior_1"
    )
    z1 = keras.Input((L1,))
    decoder = keras.Model(
        z1, _dense(z1, X_DIM, "out", out_activation), name="decoder"
    )
    return encoder_1, encoder_2, prior_1, decoder


def _numpy_weights(networks, seed=0):
    """Sets every Dense layer to NumPy-drawn weights; returns them by name."""
    rng = np.random.default_rng(seed)
    weights = {}
    for net in networks:
        for layer in net.layers:
            if isinstance(layer, keras.layers.Dense):
                kernel = rng.normal(scale=0.6, size=layer.kernel.shape)
                bias = rng.normal(scale=0.3, size=layer.bias.shape)
                layer.set_weights([kernel, bias])
                weights[layer.name] = (kernel, bias)
    return weights


def _numpy_inference(w, x):
    """The ladder at inference (codes at their means), from the formulas."""

    def dense(name, h):
        kernel, bias = w[name]
        return h @ kernel + bias

    d1 = np.maximum(dense("f1", x), 0.0)
    mean_hat, log_var_hat = dense("mh", d1), dense("lvh", d1)
    mean_2, log_var_2 = dense("m2", d1), dense("lv2", d1)
    prior_mean, prior_log_var = dense("pm", mean_2), dense("plv", mean_2)
    var_hat, prior_var = np.exp(log_var_hat), np.exp(prior_log_var)
    var_1 = 1.0 / (1.0 / var_hat + 1.0 / prior_var)  # Sonderby eq. 19
    mean_1 = (mean_hat / var_hat + prior_mean / prior_var) * var_1  # eq. 18
    kl_1 = 0.5 * (
        prior_log_var
        - np.log(var_1)
        + (var_1 + (mean_1 - prior_mean) ** 2) / prior_var
        - 1.0
    ).sum(-1)
    kl_2 = -0.5 * (1.0 + log_var_2 - mean_2**2 - np.exp(log_var_2)).sum(-1)
    logits = dense("out", mean_1)
    return {
        "mean_1": mean_1,
        "log_var_1": np.log(var_1),
        "mean_2": mean_2,
        "log_var_2": log_var_2,
        "kl_1": kl_1,
        "kl_2": kl_2,
        "logits": logits,
    }


def _data(n=8, seed=1):
    return np.random.default_rng(seed).random((n, X_DIM)).astype("float32")


def _model(reconstruction="bce", beta=1.0, seed=0):
    networks = _networks("sigmoid" if reconstruction == "bce" else None)
    weights = _numpy_weights(networks)
    model = HierarchicalVAE(
        *networks, beta=beta, reconstruction=reconstruction, seed=seed
    )
    return model, weights


@pytest.mark.slow
def test_precision_weighted_posterior_and_kl_terms_match_numpy():
    x = _data()
    model, weights = _model()
    expected = _numpy_inference(weights.copy(), x.astype("float64"))
    (mean_1, log_var_1), (mean_2, log_var_2) = model.encode(x)
    for name, value in [
        ("mean_1", mean_1),
        ("log_var_1", log_var_1),
        ("mean_2", mean_2),
        ("log_var_2", log_var_2),
    ]:
        np.testing.assert_allclose(
            value, expected[name], rtol=1e-4, atol=1e-5, err_msg=name
        )
    out = model(x)
    np.testing.assert_allclose(out["kl_1"], expected["kl_1"], rtol=1e-4)
    np.testing.assert_allclose(out["kl_2"], expected["kl_2"], rtol=1e-4)
    np.testing.assert_allclose(
        out["reconstruction"],
        1.0 / (1.0 + np.exp(-expected["logits"])),
        rtol=1e-4,
    )


@pytest.mark.parametrize("reconstruction, beta", [("bce", 0.5), ("mse", 2.0)])
def test_loss_of_one_batch_is_numpys_elbo(reconstruction, beta):
    x = _data()
    model, weights = _model(reconstruction, beta)
    model.compile(optimizer="adam")
    logs = model.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    expected = _numpy_inference(weights, x.astype("float64"))
    logits = expected["logits"]
    if reconstruction == "bce":
        p = np.clip(1.0 / (1.0 + np.exp(-logits)), 1e-7, 1 - 1e-7)
        per_pixel = -(x * np.log(p) + (1 - x) * np.log(1 - p))
    else:
        per_pixel = (x - logits) ** 2
    rec = per_pixel.sum(-1).mean()
    kl_1, kl_2 = expected["kl_1"].mean(), expected["kl_2"].mean()
    assert logs["reconstruction_loss"] == pytest.approx(rec, rel=1e-4)
    assert logs["kl_1"] == pytest.approx(beta * kl_1, rel=1e-4)
    assert logs["kl_2"] == pytest.approx(beta * kl_2, rel=1e-4)
    assert logs["loss"] == pytest.approx(rec + beta * (kl_1 + kl_2), rel=1e-4)


def test_training_samples_both_levels_reproducibly():
    x = _data()
    first = _model(seed=3)[0](x, training=True)
    again = _model(seed=3)[0](x, training=True)
    other = _model(seed=4)[0](x, training=True)
    mean = _model(seed=3)[0](x, training=False)
    for key in ("reconstruction", "kl_1"):
        np.testing.assert_array_equal(first[key], again[key])
        assert not np.allclose(first[key], other[key])
        assert not np.allclose(first[key], mean[key])
    # q(z2 | x) does not depend on the draw.
    np.testing.assert_allclose(first["kl_2"], mean["kl_2"], rtol=1e-6)


@pytest.mark.slow
def test_generate_draws_ancestrally():
    """Identity decoder: samples are z1, so their law is p(z1) = N(0, C)."""
    encoder_1, encoder_2, _, _ = _networks()
    z2 = keras.Input((L2,))
    prior_1 = keras.Model(
        z2, [_dense(z2, L1, "pm"), _dense(z2, L1, "plv")], name="prior_1"
    )
    lift = np.array([[1.0, 1.0, 0.0], [0.0, 0.5, -1.0]])
    prior_1.get_layer("pm").set_weights([lift, np.zeros(L1)])
    prior_1.get_layer("plv").set_weights(
        [np.zeros((L2, L1)), np.full(L1, np.log(0.25))]
    )
    z1 = keras.Input((L1,))
    decoder = keras.Model(z1, z1, name="identity")
    model = HierarchicalVAE(
        encoder_1, encoder_2, prior_1, decoder, reconstruction="mse"
    )
    samples = model.generate(4000, seed=0)
    assert isinstance(samples, np.ndarray) and samples.shape == (4000, L1)
    # z2 ~ N(0, I), z1 | z2 ~ N(z2 lift, 0.25 I): z1 ~ N(0, lift'lift + .25 I)
    covariance = lift.T @ lift + 0.25 * np.eye(L1)
    np.testing.assert_allclose(samples.mean(0), 0.0, atol=0.08)
    np.testing.assert_allclose(np.cov(samples.T), covariance, atol=0.12)
    np.testing.assert_array_equal(
        model.generate(5, seed=1), model.generate(5, 1)
    )
    assert not np.allclose(model.generate(5, seed=1), model.generate(5, 2))


def test_save_load_and_config(tmp_path):
    x = _data()
    model, _ = _model("mse", beta=0.5, seed=2)
    path = os.path.join(tmp_path, "hvae.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, HierarchicalVAE)
    assert (reloaded.beta, reloaded.reconstruction, reloaded.seed) == (
        0.5,
        "mse",
        2,
    )
    expected, actual = model(x), reloaded(x)
    for key, value in expected.items():
        np.testing.assert_allclose(actual[key], value, rtol=1e-6)
    rebuilt = HierarchicalVAE.from_config(model.get_config())
    assert rebuilt.get_config() == model.get_config()


def _compile(model, jit_compile):
    model.compile(keras.optimizers.Adam(1e-2), jit_compile=jit_compile)


@pytest.mark.slow
def test_contract():
    x = _data(16)
    check_model(
        lambda: HierarchicalVAE(*_networks(), seed=1),
        x,
        compile_fn=_compile,
        epochs=3,
    )


def _one_output():
    inputs = keras.Input((X_DIM,))
    return keras.Model(inputs, keras.layers.Dense(L1)(inputs))


@pytest.mark.parametrize(
    "name, value, error, match",
    [
        ("beta", -1.0, ValueError, "beta"),
        ("reconstruction", "l1", ValueError, "reconstruction"),
        ("seed", -1, ValueError, "seed"),
        ("encoder_1", lambda: keras.layers.Dense(2), TypeError, "encoder_1"),
        ("prior_1", "prior", TypeError, "prior_1"),
        ("encoder_1", _one_output, ValueError, "encoder_1.*3 tensors"),
        ("encoder_2", _one_output, ValueError, "encoder_2.*2 tensors"),
    ],
)
def test_bad_arguments(name, value, error, match):
    args = dict(
        zip(("encoder_1", "encoder_2", "prior_1", "decoder"), _networks())
    )
    args[name] = value() if callable(value) else value  # a fresh network
    with pytest.raises(error, match=match):
        HierarchicalVAE(**args)


def test_networks_must_agree_and_generate_refuses_bad_n():
    encoder_1, encoder_2, prior_1, _ = _networks()
    z1 = keras.Input((L1 + 1,))
    wide = keras.Model(z1, keras.layers.Dense(X_DIM)(z1))
    with pytest.raises(ValueError, match="`decoder`"):
        HierarchicalVAE(encoder_1, encoder_2, prior_1, wide)
    model = _model()[0]
    with pytest.raises(ValueError, match="`n`"):
        model.generate(0)
    with pytest.raises(ValueError, match="inputs"):
        model(np.zeros((2, X_DIM + 1), "float32"))


def test_same_return_type_as_vae_generate():
    inputs = keras.Input((X_DIM,))
    encoder = keras.Model(
        inputs, [keras.layers.Dense(L1)(inputs), keras.layers.Dense(L1)(inputs)]
    )
    vae = VAE(encoder, _networks()[3])
    flat, ladder = vae.generate(3, seed=0), _model()[0].generate(3, seed=0)
    assert type(flat) is type(ladder) and flat.shape == ladder.shape
    assert flat.dtype == ladder.dtype
