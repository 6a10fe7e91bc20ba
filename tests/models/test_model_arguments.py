"""Model classes refuse bad arguments when they are made, not when first used.

Each case failed late (in `fit`, at the first call) or with a message that
did not name the argument before these checks; `tests/fuzz` walks the
full table of bad values.
"""

import math

import keras
import numpy as np
import pytest

from keras_dlparts.models import GAN
from keras_dlparts.models import VAE
from keras_dlparts.models import ConditionalGAN
from keras_dlparts.models import DiffusionModel
from keras_dlparts.models import DualEncoder
from keras_dlparts.models import NoiseSchedule
from keras_dlparts.models import PerceptronClassifier
from keras_dlparts.models import SiameseNetwork
from keras_dlparts.models import Word2Vec
from keras_dlparts.models import build_dcgan_discriminator
from keras_dlparts.models import build_dcgan_generator

OR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
OR_Y = np.array([0, 1, 1, 1], "float32")


def _dense(inputs, units):
    return keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(units)])


# -- sub-models checked at construction ---------------------------------


def test_siamese_and_dual_encoder_refuse_a_missing_encoder():
    with pytest.raises(TypeError, match="`encoder`.*Received: encoder=None"):
        SiameseNetwork(None)
    with pytest.raises(TypeError, match="`image_encoder`"):
        DualEncoder(None, _dense(3, 4), projection_dim=2)
    with pytest.raises(TypeError, match="`text_encoder`"):
        DualEncoder(_dense(3, 4), "bert", projection_dim=2)


def test_gan_latent_dim_must_match_the_generator():
    # Before: accepted, then a shape error inside the first `fit` step.
    with pytest.raises(
        ValueError, match="`latent_dim` must match the generator's code input"
    ):
        GAN(_dense(2, 3), _dense(3, 1), latent_dim=3)
    gan = GAN(_dense(2, 3), _dense(3, 1), latent_dim=2, seed=0)
    gan.compile()
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    assert set(gan.fit(x, epochs=1, verbose=0).history) == {"d_loss", "g_loss"}


def test_conditional_gan_latent_dim_must_match_the_generator():
    generator = build_dcgan_generator(4, (8, 8, 1), filters=(4,), num_classes=3)
    discriminator = build_dcgan_discriminator(
        (8, 8, 1), filters=(4,), num_classes=3
    )
    with pytest.raises(ValueError, match="`latent_dim`"):
        ConditionalGAN(generator, discriminator, latent_dim=5, num_classes=3)
    with pytest.raises(ValueError, match="`num_classes`"):
        ConditionalGAN(generator, discriminator, latent_dim=4, num_classes=0)
    gan = ConditionalGAN(generator, discriminator, latent_dim=4, num_classes=3)
    with pytest.raises(
        ValueError, match="`samples` and `labels` must have the same batch"
    ):
        gan([np.zeros((4, 8, 8, 1), "float32"), np.zeros((3,), "int32")])


def test_gan_inputs_are_checked_against_the_discriminator():
    gan = GAN(_dense(2, 3), _dense(3, 1), latent_dim=2)
    with pytest.raises(
        ValueError, match=r"Input `inputs` must have shape \(None, 3\)"
    ):
        gan(np.zeros((2, 4), "float32"))


def test_vae_code_shapes_must_agree():
    x = keras.Input((4,))
    encoder = keras.Model(
        x, [keras.layers.Dense(2)(x), keras.layers.Dense(2)(x)]
    )
    with pytest.raises(ValueError, match="`encoder` and `decoder` must agree"):
        VAE(encoder, _dense(3, 4))


# -- messages that name the argument ------------------------------------


def test_diffusion_label_dropout_is_named():
    network = _noise_network()
    # Before: "'<=' not supported between instances of 'float' and 'str'".
    with pytest.raises(
        TypeError, match="`label_dropout` must be a number"
    ) as info:
        DiffusionModel(network, NoiseSchedule(steps=10), label_dropout="x")
    assert "<=" not in str(info.value)
    for bad in (1.0, -0.1, math.nan):
        with pytest.raises(ValueError, match="`label_dropout`"):
            DiffusionModel(network, NoiseSchedule(steps=10), label_dropout=bad)
    with pytest.raises(ValueError, match=r"`data_range\[1\]`"):
        DiffusionModel(
            network, NoiseSchedule(steps=10), data_range=(0.0, math.nan)
        )


def _noise_network():
    x_t = keras.Input((4,))
    t = keras.Input((), dtype="int32")
    features = keras.layers.Concatenate()(
        [x_t, keras.layers.Embedding(10, 2)(t)]
    )
    return keras.Model([x_t, t], keras.layers.Dense(4)(features))


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, 0.0])
def test_perceptron_learning_rate_must_be_positive_and_finite(bad):
    # Before: NaN was accepted and turned every weight into NaN.
    with pytest.raises(
        ValueError, match="`learning_rate` must be a positive finite"
    ):
        PerceptronClassifier(learning_rate=bad)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"beta_start": math.nan}, ValueError, "beta_start"),
        ({"max_beta": math.inf}, ValueError, "max_beta"),
        ({"cosine_s": "x"}, TypeError, "cosine_s"),
    ],
)
def test_noise_schedule_refuses_non_finite_numbers(kwargs, error, match):
    with pytest.raises(error, match=match):
        NoiseSchedule(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"word_counts": [0, -1, 1, 1]}, ValueError, "word_counts"),
        ({"word_counts": [0, 0, 0, 0]}, ValueError, "besides padding"),
        ({"word_counts": "abcd"}, TypeError, "word_counts"),
        ({"vocabulary": "abcd"}, TypeError, "vocabulary"),
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_word2vec_refuses_bad_counts_and_vocabularies(kwargs, error, match):
    with pytest.raises(error, match=match):
        Word2Vec(4, 2, **kwargs)


def test_word2vec_checks_the_id_ranks():
    model = Word2Vec(10, 2, seed=0)
    with pytest.raises(ValueError, match="`contexts` must have rank 1"):
        model((np.array([1, 2]), np.array([[1], [2]])))
    with pytest.raises(
        ValueError, match="`targets` and `contexts` must have the same batch"
    ):
        model((np.array([1, 2, 3]), np.array([1, 2])))


# -- PerceptronClassifier targets ---------------------------------------


@pytest.mark.parametrize(
    "targets, match",
    [
        (
            [2, 5, -1, 3],
            r"targets 0 or 1.*Received values not allowed: \[-1, 2, 3, 5\]",
        ),
        ([-1, 1, 1, 1], r"\(y \+ 1\) / 2"),  # +-1 labels: says how to map them
        ([[0, 1]] * 4, "1 target\\(s\\) per example"),
        ([0, 1, 1], "same batch size"),
    ],
)
def test_perceptron_refuses_targets_outside_zero_and_one(targets, match):
    model = PerceptronClassifier()
    model.compile()
    with pytest.raises(ValueError, match=match):
        model.fit(OR_X, np.array(targets), verbose=0)
    with pytest.raises(ValueError, match=match):
        model.evaluate(OR_X, np.array(targets), verbose=0)


def test_perceptron_still_learns_or_from_zero_one_targets():
    model = PerceptronClassifier()
    model.compile()
    model.fit(OR_X, OR_Y, batch_size=1, epochs=5, shuffle=False, verbose=0)
    np.testing.assert_array_equal(np.asarray(model(OR_X)).ravel(), OR_Y)
    # Eager tensors are values too: checked the same way.
    with pytest.raises(ValueError, match="targets 0 or 1"):
        model.fit(
            OR_X, keras.ops.convert_to_tensor([0.0, 2.0, 1.0, 1.0]), verbose=0
        )
