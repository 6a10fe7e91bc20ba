"""Tests of PatchEmbedding and ClassToken."""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import ClassToken
from keras_dlparts.layers import PatchEmbedding
from keras_dlparts.testing import check_layer

RNG = np.random.default_rng(0)


def numpy_patches(images, p_h, p_w):
    """Patches taken row by row, each flattened in (row, col, channel) order."""
    batch, height, width, _ = images.shape
    patches = []
    for i in range(0, height, p_h):
        for j in range(0, width, p_w):
            patches.append(
                images[:, i : i + p_h, j : j + p_w, :].reshape(batch, -1)
            )
    return np.stack(patches, axis=1)


@pytest.mark.slow
def test_patch_embedding_contract():
    images = RNG.normal(size=(4, 4, 6, 3)).astype("float32")

    def reference(layer, images):
        return (
            numpy_patches(images, 2, 3) @ layer.kernel.numpy()
            + layer.bias.numpy()
        )

    check_layer(
        PatchEmbedding,
        {"patch_size": (2, 3), "embedding_dim": 5},
        images,
        reference=reference,
    )


def test_patch_embedding_equals_strided_conv():
    images = RNG.normal(size=(2, 8, 8, 2)).astype("float32")
    layer = PatchEmbedding(4, 6)
    out = keras.ops.convert_to_numpy(layer(images))
    conv = keras.layers.Conv2D(6, 4, strides=4)
    conv.build(images.shape)
    conv.set_weights(
        [layer.kernel.numpy().reshape(4, 4, 2, 6), layer.bias.numpy()]
    )
    expected = keras.ops.convert_to_numpy(conv(images)).reshape(2, 4, 6)
    np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.slow
def test_class_token_contract():
    x = RNG.normal(size=(4, 3, 5)).astype("float32")

    def reference(layer, x):
        token = np.broadcast_to(layer.token.numpy(), (4, 1, 5))
        return np.concatenate([token, x], axis=1)

    check_layer(
        ClassToken,
        {},
        x,
        reference=reference,
    )


def test_class_token_extends_the_mask():
    ids = np.array([[3, 5, 0, 0]], "int32")
    inputs = keras.Input((4,), dtype="int32")
    embed = keras.layers.Embedding(7, 2, mask_zero=True)
    token = ClassToken(token_initializer="ones")
    pooled = keras.layers.GlobalAveragePooling1D()(token(embed(inputs)))
    model = keras.Model(inputs, pooled)
    vectors = embed.embeddings.numpy()[[3, 5]]
    expected = np.concatenate([np.ones((1, 2)), vectors]).mean(0)
    np.testing.assert_allclose(
        model.predict(ids, verbose=0)[0], expected, atol=1e-6
    )
    mask = token.compute_mask(None, np.array([[True, False]]))
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(mask), [[True, True, False]]
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"patch_size": 0, "embedding_dim": 4}, r"`patch_size`.*patch_size=0"),
        (
            {"patch_size": (2, 2, 2), "embedding_dim": 4},
            r"`patch_size`.*\(2, 2, 2\)",
        ),
        (
            {"patch_size": 2, "embedding_dim": 0},
            r"`embedding_dim`.*embedding_dim=0",
        ),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        PatchEmbedding(**kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"patch_size": "2", "embedding_dim": 4}, "patch_size"),
        ({"patch_size": 2.0, "embedding_dim": 4}, "patch_size"),
        ({"patch_size": 2, "embedding_dim": None}, "embedding_dim"),
    ],
)
def test_wrong_types_raise_type_error(kwargs, name):
    with pytest.raises(TypeError, match=name):
        PatchEmbedding(**kwargs)


@pytest.mark.parametrize("name", ["kernel_initializer", "bias_initializer"])
def test_unknown_initializers_are_named(name):
    with pytest.raises(ValueError, match=name):
        PatchEmbedding(2, 4, **{name: "no-such"})
    with pytest.raises(ValueError, match="token_initializer"):
        ClassToken(token_initializer="no-such")


def test_an_empty_batch_gives_empty_outputs():
    images = np.ones((0, 4, 4, 3), "float32")
    assert tuple(PatchEmbedding(2, 5)(images).shape) == (0, 4, 5)
    assert tuple(ClassToken()(np.ones((0, 3, 4), "float32")).shape) == (0, 4, 4)


def test_bad_inputs():
    with pytest.raises(
        ValueError,
        match=r"`patch_size`=3 must divide.*\(8, 6\).*\(1, 8, 6, 1\)",
    ):
        PatchEmbedding(3, 4)(np.zeros((1, 8, 6, 1), "float32"))
    with pytest.raises(ValueError, match=r"rank 4.*\(1, 8, 8\)"):
        PatchEmbedding(2, 4)(np.zeros((1, 8, 8), "float32"))
    with pytest.raises(ValueError, match=r"rank 3.*\(2, 5\)"):
        ClassToken()(np.zeros((2, 5), "float32"))
