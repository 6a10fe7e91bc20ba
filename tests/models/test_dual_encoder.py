import math

import keras
import numpy as np
import pytest

from keras_dlparts.data import DIGIT_NAMES
from keras_dlparts.data import Vocabulary
from keras_dlparts.data import digit_captions
from keras_dlparts.data import load_digits
from keras_dlparts.losses import CLIPLoss
from keras_dlparts.models import DualEncoder
from keras_dlparts.testing import check_model

LENGTH = 8


def encoders(vocabulary_size, width=16):
    images = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(width),
        ]
    )
    texts = keras.Sequential(
        [
            keras.Input((LENGTH,), dtype="int32"),
            keras.layers.Embedding(vocabulary_size, width, mask_zero=True),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(width),
        ]
    )
    return images, texts


def normalise(v):
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.slow
def test_logits_are_scaled_cosines_of_the_projections():
    images, texts = encoders(12)
    model = DualEncoder(images, texts, projection_dim=5, temperature=0.25)
    x_img = np.random.default_rng(0).random((3, 8, 8, 1)).astype("float32")
    x_txt = np.array(
        [
            [2, 3, 0, 0, 0, 0, 0, 0],
            [4, 0, 0, 0, 0, 0, 0, 0],
            [5, 6, 7, 0, 0, 0, 0, 0],
        ],
        "int32",
    )
    logits = keras.ops.convert_to_numpy(model((x_img, x_txt)))
    img = normalise(
        images.predict(x_img, verbose=0) @ model.image_projection.kernel.numpy()
    )
    txt = normalise(
        texts.predict(x_txt, verbose=0) @ model.text_projection.kernel.numpy()
    )
    np.testing.assert_allclose(logits, 4.0 * img @ txt.T, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_temperature_is_learned_only_when_asked_and_clipped():
    images, texts = encoders(12)
    x = (
        np.random.default_rng(0).random((8, 8, 8, 1)).astype("float32"),
        np.random.default_rng(1).integers(1, 12, (8, LENGTH)).astype("int32"),
    )
    for learn in (True, False):
        model = DualEncoder(
            *encoders(12), projection_dim=4, learn_temperature=learn
        )
        model.compile(keras.optimizers.Adam(0.05), loss=CLIPLoss())
        model.fit(x, np.zeros(8), epochs=3, verbose=0)
        moved = (
            abs(float(model.log_logit_scale.numpy()) - math.log(1 / 0.07))
            > 1e-4
        )
        assert moved == learn
    model.log_logit_scale.assign(10.0)
    assert float(model.logit_scale()) == pytest.approx(100.0)


@pytest.mark.slow
@pytest.mark.learning
def test_zero_shot_digit_classification_with_an_unseen_prompt():
    (x_train, y_train), (x_test, y_test) = load_digits()
    captions = digit_captions(y_train)
    vocab = Vocabulary(captions)
    keras.utils.set_random_seed(0)
    model = DualEncoder(*encoders(len(vocab), 64), projection_dim=32)
    model.compile(keras.optimizers.Adam(3e-3), loss=CLIPLoss())
    model.fit(
        (x_train, vocab.encode_batch(captions, LENGTH)),
        np.zeros(len(x_train)),
        batch_size=128,
        epochs=25,
        verbose=0,
    )
    # A prompt template never seen in training ("picture", "showing" are UNK).
    prompts = vocab.encode_batch(
        [f"a picture showing a {name}" for name in DIGIT_NAMES], LENGTH
    )
    accuracy = float(
        np.mean(model.zero_shot_classify(x_test, prompts) == y_test)
    )
    print(f"zero-shot accuracy on held-out digits: {accuracy:.3f}")
    assert accuracy > 0.8  # chance is 0.1


@pytest.mark.slow
def test_contract():
    rng = np.random.default_rng(0)
    x = (
        rng.random((8, 8, 8, 1)).astype("float32"),
        rng.integers(1, 12, (8, LENGTH)).astype("int32"),
    )
    check_model(
        lambda: DualEncoder(*encoders(12), projection_dim=4, temperature=0.5),
        x,
        np.zeros(8, "float32"),
        loss=CLIPLoss(),
    )


@pytest.mark.slow
def test_bad_config():
    images, texts = encoders(12)
    with pytest.raises(ValueError, match="`projection_dim`"):
        DualEncoder(images, texts, projection_dim=0)
    with pytest.raises(ValueError, match="`temperature`"):
        DualEncoder(images, texts, projection_dim=4, temperature=0.0)
    model = DualEncoder(images, texts, projection_dim=4)
    with pytest.raises(TypeError, match="`inputs` must be \\(images, texts\\)"):
        model(np.ones((2, 8, 8, 1)))
    with pytest.raises(ValueError, match="`inputs` .*of length 3"):
        model((np.ones((2, 8, 8, 1)),) * 3)
