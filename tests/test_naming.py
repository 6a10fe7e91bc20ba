"""One name for each thing across the public API.

Keras's and keras-hub's conventions: `vocabulary_size` (not
`vocab_size`), `dropout` (not `dropout_rate`), `image_shape` for image
inputs and `input_shape` for generic ones, and `generate` returning a
NumPy array, like `Model.predict`.
"""

import importlib
import inspect

import keras
import numpy as np
import pytest
from fuzz.test_fuzz import public_callables

import keras_dlparts
from keras_dlparts import models
from keras_dlparts import tuning


def _public_callables():
    """'folder.Name' -> the object, for every public class and function."""
    for path in sorted(public_callables()):
        sub, name = path.split(".")
        module = importlib.import_module(f"keras_dlparts.{sub}")
        yield path, getattr(module, name)


def _parameters(value):
    target = value.__init__ if inspect.isclass(value) else value
    try:
        return set(inspect.signature(target).parameters)
    except (TypeError, ValueError):  # a builtin without a signature
        return set()


PUBLIC = dict(_public_callables())


def test_the_scan_sees_the_renamed_parts():
    assert {
        "models.Word2Vec",
        "models.build_vgg",
        "layers.DenseBlock",
        "tuning.ResNetHyperModel",
    } <= set(PUBLIC)


@pytest.mark.parametrize("old", ["vocab_size", "dropout_rate"])
def test_no_public_parameter_has_an_old_name(old):
    offenders = [n for n, v in PUBLIC.items() if old in _parameters(v)]
    assert offenders == []


IMAGE_INPUTS = [
    models.build_lenet5,
    models.build_vgg,
    models.build_resnet,
    models.build_densenet,
    models.build_unet,
    models.build_vit,
    models.build_diffusion_unet,
    models.build_dcgan_generator,
    models.build_dcgan_discriminator,
    tuning.LeNet5HyperModel,
    tuning.VGGHyperModel,
    tuning.ResNetHyperModel,
    tuning.ViTHyperModel,
]
GENERIC_INPUTS = [
    models.build_mlp,
    models.build_autoencoder,
    models.build_rbf_network,
    models.build_transformer_classifier,
    tuning.MLPHyperModel,
    tuning.AutoencoderHyperModel,
    tuning.TransformerClassifierHyperModel,
    tuning.VAEHyperModel,
]


@pytest.mark.parametrize("part", IMAGE_INPUTS, ids=lambda p: p.__name__)
def test_image_parts_take_image_shape(part):
    parameters = _parameters(part)
    assert "image_shape" in parameters and "input_shape" not in parameters


@pytest.mark.parametrize("part", GENERIC_INPUTS, ids=lambda p: p.__name__)
def test_generic_parts_take_input_shape(part):
    parameters = _parameters(part)
    assert "input_shape" in parameters and "image_shape" not in parameters


@pytest.mark.parametrize(
    "part",
    [
        models.Word2Vec,
        models.build_lstm_language_model,
        models.build_transformer_classifier,
    ],
    ids=lambda p: p.__name__,
)
def test_token_parts_take_vocabulary_size(part):
    assert "vocabulary_size" in _parameters(part)


@pytest.mark.parametrize(
    "part",
    [
        keras_dlparts.layers.DenseBlock,
        models.build_densenet,
        models.build_lstm_language_model,
        models.build_unet,
        models.build_vgg,
    ],
    ids=lambda p: p.__name__,
)
def test_renamed_dropout_parts_take_dropout(part):
    assert "dropout" in _parameters(part)


def _dense(inputs, units, activation=None):
    x = keras.Input(inputs)
    return keras.Model(x, keras.layers.Dense(units, activation=activation)(x))


def _conditional(inputs, units):
    x = keras.Input((inputs,))
    labels = keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()([x, keras.layers.Embedding(3, 2)(labels)])
    return keras.Model([x, labels], keras.layers.Dense(units)(h))


def _rbm():
    rbm = models.RBM(hidden_units=2, seed=0)
    rbm.build((None, 3))
    return rbm


def _vae():
    x = keras.Input((3,))
    encoder = keras.Model(
        x, [keras.layers.Dense(2)(x), keras.layers.Dense(2)(x)]
    )
    return models.VAE(encoder, _dense((2,), 3, "sigmoid"), seed=0)


def _diffusion():
    network = models.build_diffusion_unet(
        (4, 4, 1),
        base_filters=4,
        channel_multipliers=(1,),
        attention_resolutions=(),
        groups=2,
    )
    return models.DiffusionModel(
        network, models.NoiseSchedule("linear", steps=3), seed=0
    )


@pytest.mark.parametrize(
    "make, sample, shape",
    [
        (
            lambda: models.GAN(_dense((2,), 3), _dense((3,), 1), 2, seed=0),
            lambda m: m.generate(4, seed=1),
            (4, 3),
        ),
        (
            lambda: models.ConditionalGAN(
                _conditional(2, 3), _conditional(3, 1), 2, 3, seed=0
            ),
            lambda m: m.generate(3, seed=1, labels=[0, 1, 2]),
            (3, 3),
        ),
        (_vae, lambda m: m.generate(4, seed=1), (4, 3)),
        (_vae, lambda m: m.decode(np.zeros((2, 2), "float32")), (2, 3)),
        (_vae, lambda m: m.interpolate(np.zeros(3), np.ones(3), 5), (5, 3)),
        (_rbm, lambda m: m.sample(np.ones((2, 3), "float32")), (2, 3)),
        (
            _diffusion,
            lambda m: m.generate(2, seed=1, jit_compile=False),
            (2, 4, 4, 1),
        ),
    ],
    ids=[
        "GAN.generate",
        "ConditionalGAN.generate",
        "VAE.generate",
        "VAE.decode",
        "VAE.interpolate",
        "RBM.sample",
        "DiffusionModel.generate",
    ],
)
@pytest.mark.slow
def test_samples_come_back_as_numpy_arrays(make, sample, shape):
    samples = sample(make())
    assert type(samples) is np.ndarray
    assert samples.shape == shape
