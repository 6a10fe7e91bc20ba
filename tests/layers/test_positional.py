"""Tests of the positional layers: sinusoidal, learned, token + position."""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import LearnedPositionalEmbedding
from keras_dlparts.layers import SinusoidalPositionalEncoding
from keras_dlparts.layers import TokenAndPositionEmbedding
from keras_dlparts.testing import check_layer

RNG = np.random.default_rng(0)


def _numpy_table(length, depth, base=10000.0):
    pos = np.arange(length)[:, None]
    i = np.arange(depth // 2)[None, :]
    angles = pos / base ** (2 * i / depth)
    table = np.empty((length, depth))
    table[:, 0::2], table[:, 1::2] = np.sin(angles), np.cos(angles)
    return table


@pytest.mark.slow
def test_sinusoidal_contract():
    x = RNG.normal(size=(4, 5, 6)).astype("float32")
    check_layer(
        SinusoidalPositionalEncoding,
        {"base": 100.0},
        x,
        reference=lambda layer, x: x + _numpy_table(5, 6, 100.0),
    )


@pytest.mark.slow
def test_learned_contract():
    x = RNG.normal(size=(4, 5, 6)).astype("float32")
    check_layer(
        LearnedPositionalEmbedding,
        {"sequence_length": 7},
        x,
        reference=lambda layer, x: x + layer.position_embeddings.numpy()[:5],
    )


@pytest.mark.slow
def test_token_and_position_contract():
    ids = RNG.integers(0, 11, size=(4, 6)).astype("int32")

    def reference(layer, ids):
        tokens = layer.token_embedding.embeddings.numpy()
        positions = layer.position_embedding.position_embeddings.numpy()
        return tokens[ids] + positions[None]

    check_layer(
        TokenAndPositionEmbedding,
        {
            "vocabulary_size": 11,
            "sequence_length": 6,
            "embedding_dim": 4,
            "mask_zero": True,
        },
        ids,
        reference=reference,
    )


def test_learned_shorter_sequences_use_the_first_rows():
    layer = LearnedPositionalEmbedding(8)
    x = np.zeros((2, 3, 4), "float32")
    out = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(
        out, np.broadcast_to(layer.position_embeddings.numpy()[:3], out.shape)
    )


def test_token_mask_reaches_a_downstream_layer():
    ids = np.array([[3, 5, 2, 0, 0], [4, 0, 0, 0, 0]], "int32")
    inputs = keras.Input((5,), dtype="int32")
    embed = TokenAndPositionEmbedding(7, 5, 3, mask_zero=True)
    pooled = keras.layers.GlobalAveragePooling1D()(embed(inputs))
    model = keras.Model(inputs, pooled)
    full = keras.ops.convert_to_numpy(embed(ids))
    lengths = (ids != 0).sum(1)
    expected = [full[b, : lengths[b]].mean(0) for b in range(2)]
    np.testing.assert_allclose(
        model.predict(ids, verbose=0), expected, atol=1e-6
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(embed.compute_mask(ids)), ids != 0
    )


def test_no_mask_without_mask_zero():
    layer = TokenAndPositionEmbedding(7, 5, 3)
    assert layer.compute_mask(np.array([[1, 0]])) is None


@pytest.mark.parametrize(
    "layer", [SinusoidalPositionalEncoding(), LearnedPositionalEmbedding(5)]
)
def test_mask_passes_through(layer):
    ids = np.array([[3, 5, 0, 0]], "int32")
    inputs = keras.Input((4,), dtype="int32")
    x = keras.layers.Embedding(7, 4, mask_zero=True)(inputs)
    pooled = keras.layers.GlobalAveragePooling1D()(layer(x))
    model = keras.Model(inputs, pooled)
    full = keras.ops.convert_to_numpy(layer(model.layers[1](ids)))
    np.testing.assert_allclose(
        model.predict(ids, verbose=0), full[:, :2].mean(1), atol=1e-6
    )


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SinusoidalPositionalEncoding(base=-1), r"`base`.*base=-1"),
        (lambda: LearnedPositionalEmbedding(0), r"`sequence_length`.*=0"),
        (
            lambda: TokenAndPositionEmbedding(0, 4, 2),
            r"`vocabulary_size`.*vocabulary_size=0",
        ),
        (
            lambda: SinusoidalPositionalEncoding(base=float("nan")),
            r"`base`.*nan",
        ),
        (
            lambda: SinusoidalPositionalEncoding(base=float("inf")),
            r"`base`.*inf",
        ),
        (
            lambda: LearnedPositionalEmbedding(3, embeddings_initializer="x"),
            "`embeddings_initializer`",
        ),
        (
            lambda: TokenAndPositionEmbedding(
                5, 4, 2, position_initializer="x"
            ),
            "`position_initializer`",
        ),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: SinusoidalPositionalEncoding(base="1e4"), "`base`"),
        (
            lambda: TokenAndPositionEmbedding(5, 4, 2.5),
            r"`embedding_dim`.*embedding_dim=2.5",
        ),
        (
            lambda: TokenAndPositionEmbedding(5, 4, 2, mask_zero="yes"),
            r"`mask_zero`.*mask_zero='yes'",
        ),
    ],
)
def test_wrong_types_raise_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make()


@pytest.mark.parametrize(
    "layer, built_for, x",
    [
        (
            LearnedPositionalEmbedding(3),
            (None, None, 2),
            np.zeros((2, 4, 2), "float32"),
        ),
        (
            TokenAndPositionEmbedding(5, 3, 2),
            (None, None),
            np.zeros((2, 4), "int32"),
        ),
    ],
)
def test_a_longer_sequence_after_an_unknown_length_build_names_sequence_length(
    layer, built_for, x
):
    # Built for any length (a model with Input((None,))), then called with a
    # known longer one: a clear error, not a slice out of range.
    layer.build(built_for)
    with pytest.raises(
        ValueError, match=r"at most `sequence_length`=3 positions.*\(2, 4"
    ):
        layer(x)
