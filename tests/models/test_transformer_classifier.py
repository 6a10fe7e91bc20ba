"""Tests of keras_dlparts.models.build_transformer_classifier."""

import keras
import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.layers import TransformerEncoderBlock
from keras_dlparts.models import build_transformer_classifier
from keras_dlparts.testing import check_model

RNG = np.random.default_rng(0)
TINY = {
    "embedding_dim": 8,
    "num_heads": 2,
    "intermediate_dim": 16,
    "num_layers": 1,
}


@pytest.mark.slow
def test_contract_token_ids_with_padding():
    ids = RNG.integers(1, 12, size=(8, 6)).astype("int32")
    ids[:4, 4:] = 0
    labels = RNG.integers(0, 3, size=(8,)).astype("int32")
    check_model(
        lambda: build_transformer_classifier(
            (6,), 3, vocabulary_size=12, mask_zero=True, dropout=0.0, **TINY
        ),
        ids,
        labels,
        loss="sparse_categorical_crossentropy",
    )


@pytest.mark.slow
def test_contract_feature_sequences_pre_norm_sinusoidal():
    x = RNG.normal(size=(8, 8, 8)).astype("float32")
    labels = RNG.integers(0, 10, size=(8,)).astype("int32")
    check_model(
        lambda: build_transformer_classifier(
            (8, 8),
            10,
            position="sinusoidal",
            norm_first=True,
            pooling="max",
            **TINY,
        ),
        x,
        labels,
        loss="sparse_categorical_crossentropy",
    )


@pytest.mark.slow
def test_padding_does_not_change_predictions():
    model = build_transformer_classifier(
        (6,), 3, vocabulary_size=12, mask_zero=True, dropout=0.0, **TINY
    )
    short = np.array([[5, 7, 2, 0, 0, 0]], "int32")
    probs = model.predict(short, verbose=0)
    np.testing.assert_allclose(probs.sum(-1), 1.0, atol=1e-6)
    # Same real tokens, but the model would see different padding ids if the
    # mask were ignored: compare with the explicit NumPy-free route, the
    # encoder on the real prefix only.
    inner = keras.Model(model.input, model.get_layer("pooling").output)
    pooled_full = inner.predict(short, verbose=0)
    embed = model.get_layer("embedding_tokens_and_positions")
    block = model.get_layer("encoder_block_0")
    prefix = block(embed(short)[:, :3])
    np.testing.assert_allclose(
        pooled_full, keras.ops.convert_to_numpy(prefix).mean(1), atol=1e-5
    )


def test_images_are_read_as_rows_and_blocks_are_ours():
    model = build_transformer_classifier((8, 8, 1), 10, **TINY)
    assert model.output_shape == (None, 10)
    assert model.get_layer("embedding_rows").output.shape == (None, 8, 8)
    assert isinstance(
        model.get_layer("encoder_block_0"), TransformerEncoderBlock
    )


@pytest.mark.slow
@pytest.mark.learning
def test_learns_digits_as_rows():
    (x, y), (xt, yt) = load_digits()
    keras.utils.set_random_seed(0)
    model = build_transformer_classifier(
        (8, 8, 1), 10, embedding_dim=32, num_heads=4, intermediate_dim=64
    )
    model.compile(
        "adam", "sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    model.fit(x, y, epochs=12, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(xt, yt, verbose=0)
    assert accuracy >= 0.9


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (8,), "num_classes": 3}, r"`input_shape`.*length 1"),
        (
            {"input_shape": (8, 8), "num_classes": 3, "vocabulary_size": 5},
            r"`input_shape` must be \(length,\).*length 2",
        ),
        ({"input_shape": (8, 8), "num_classes": 0}, r"`num_classes`.*=0"),
        (
            {
                "input_shape": (8, 8),
                "num_classes": 3,
                "embedding_dim": 10,
                "num_heads": 4,
            },
            r"`embedding_dim` must be a positive multiple of 4 "
            r"\(`num_heads`=4\).*=10",
        ),
        (
            {"input_shape": (8, 8), "num_classes": 3, "position": "rope"},
            r"`position`.*'rope'",
        ),
        (
            {"input_shape": (8, 8), "num_classes": 3, "pooling": "cls"},
            r"`pooling`.*'cls'",
        ),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_transformer_classifier(**kwargs)
