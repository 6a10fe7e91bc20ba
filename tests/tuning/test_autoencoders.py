"""Two-trial searches of the autoencoder and VAE hypermodels."""

import keras
import keras_tuner
import numpy as np
import pytest

from keras_dlparts.models import VAE
from keras_dlparts.tuning import AutoencoderHyperModel
from keras_dlparts.tuning import VAEHyperModel
from keras_dlparts.tuning import build_dense_vae

# One training step per epoch. TensorFlow runs one eager step faster than
# it traces one; JAX compiles each eager op on its own, so there one
# compiled step is the faster.
ONE_STEP = {"run_eagerly": keras.backend.backend() == "tensorflow"}
# 32 examples: every sampled batch size (16, 32, 64) gives batches of one
# shape, so JAX compiles one training step per trial.
X = np.random.default_rng(0).random((32, 8, 8, 1)).astype("float32")


def _check_training(values, model):
    assert type(model.optimizer).__name__.lower() == values["optimizer"]
    assert float(model.optimizer.learning_rate) == pytest.approx(
        values["learning_rate"], rel=1e-6
    )


def _units(model):
    return [
        layer.units
        for layer in model.layers
        if isinstance(layer, keras.layers.Dense)
    ]


@pytest.mark.slow  # 15-60 s on JAX (compiling), under 10 s on TensorFlow
@pytest.mark.learning
def test_dense_autoencoder_hypermodel(two_trial_search):
    hypermodel = AutoencoderHyperModel((8, 8, 1), compile=ONE_STEP)
    for values, model in two_trial_search(hypermodel, X, X):
        _check_training(values, model)
        hidden = [
            max(1, values["width"] // 2**i) for i in range(values["depth"])
        ]
        assert _units(model.get_layer("encoder")) == hidden + [
            values["latent_dim"]
        ]
        noise = [
            layer
            for layer in model.get_layer("encoder").layers
            if isinstance(layer, keras.layers.GaussianNoise)
        ]
        assert [n.stddev for n in noise] == (
            [values["denoising"]] if values["denoising"] else []
        )
        assert model.loss == "mse"


@pytest.mark.slow  # 15-60 s on JAX (compiling), under 10 s on TensorFlow
def test_conv_autoencoder_hypermodel_widths():
    hypermodel = AutoencoderHyperModel(
        (8, 8, 1), kind="conv", search_space={"depth": 2, "width": 4}
    )
    model = hypermodel.build(keras_tuner.HyperParameters())
    convs = [
        layer.filters
        for layer in model.get_layer("encoder").layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert convs == [4, 8]


@pytest.mark.slow  # 15-60 s on JAX (compiling), under 10 s on TensorFlow
@pytest.mark.learning
def test_vae_hypermodel(two_trial_search):
    hypermodel = VAEHyperModel((8, 8, 1), compile=ONE_STEP)
    for values, model in two_trial_search(hypermodel, X):
        _check_training(values, model)
        assert isinstance(model, VAE)
        assert model.beta == pytest.approx(values["beta"])
        assert model.latent_shape == (values["latent_dim"],)
        hidden = [
            max(1, values["width"] // 2**i) for i in range(values["depth"])
        ]
        assert _units(model.encoder) == hidden + [values["latent_dim"]] * 2


@pytest.mark.slow
def test_build_dense_vae_trains_and_generates():
    vae = build_dense_vae(
        (4,), latent_dim=2, hidden_units=(8,), beta=0.5, seed=0
    )
    vae.compile(optimizer="adam")
    history = vae.fit(X.reshape(-1, 64)[:, :4], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert tuple(vae.generate(3, seed=1).shape) == (3, 4)
    assert vae.reconstruction == "bce" and vae.beta == 0.5


def test_build_dense_vae_without_hidden_layers():
    vae = build_dense_vae((4,), latent_dim=2, hidden_units=())
    assert _units(vae.encoder) == [2, 2]


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"latent_dim": 0}, ValueError, "latent_dim"),  # named `units` before
        ({"latent_dim": 2.5}, TypeError, "latent_dim"),
        ({"latent_dim": None}, TypeError, "latent_dim"),
        ({"hidden_units": (8, 0)}, ValueError, "hidden_units"),
        ({"hidden_units": "8"}, TypeError, "hidden_units"),
        ({"input_shape": (4, 0)}, ValueError, "input_shape"),
        ({"input_shape": None}, TypeError, "input_shape"),
        ({"beta": float("nan")}, ValueError, "beta"),
        ({"reconstruction": "nope"}, ValueError, "reconstruction"),
    ],
)
def test_build_dense_vae_names_the_bad_argument(kwargs, error, argument):
    kwargs = {"input_shape": (4,), **kwargs}
    with pytest.raises(error, match=f"`{argument}`"):
        build_dense_vae(**kwargs)


@pytest.mark.parametrize(
    "make, error, argument",
    [
        (lambda: AutoencoderHyperModel((64,), kind="dens"), ValueError, "kind"),
        (
            lambda: AutoencoderHyperModel((8, 8), kind="conv"),
            ValueError,
            "input_shape",
        ),
        (lambda: AutoencoderHyperModel(0), ValueError, "input_shape"),
        (lambda: AutoencoderHyperModel((64,), fixed="x"), TypeError, "fixed"),
        (lambda: VAEHyperModel(None), TypeError, "input_shape"),
        (
            lambda: VAEHyperModel((64,), search_space=[]),
            TypeError,
            "search_space",
        ),
        (lambda: VAEHyperModel((64,), compile=1), TypeError, "compile"),
    ],
)
def test_hypermodels_name_the_bad_argument(make, error, argument):
    with pytest.raises(error, match=f"`{argument}`"):
        make()
