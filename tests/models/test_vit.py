"""Tests of keras_dlparts.models.build_vit."""

import keras
import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.layers import ClassToken
from keras_dlparts.layers import PatchEmbedding
from keras_dlparts.models import build_vit
from keras_dlparts.testing import check_model

TINY = {
    "embedding_dim": 8,
    "num_heads": 2,
    "intermediate_dim": 16,
    "num_layers": 1,
}


@pytest.mark.slow
def test_contract():
    rng = np.random.default_rng(0)
    images = rng.normal(size=(8, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 4, size=(8,)).astype("int32")
    check_model(
        lambda: build_vit((8, 8, 1), 4, 4, dropout=0.0, **TINY),
        images,
        labels,
        loss="sparse_categorical_crossentropy",
    )


@pytest.mark.slow
def test_structure_and_class_token_head():
    model = build_vit((8, 12, 3), (4, 3), 5, **TINY)
    assert isinstance(model.get_layer("patch_embedding"), PatchEmbedding)
    assert isinstance(model.get_layer("class_token"), ClassToken)
    assert model.get_layer("patch_embedding").output.shape == (None, 8, 8)
    assert model.get_layer("position_embedding").output.shape == (None, 9, 8)
    # The head reads only the [class] token's final state.
    state = keras.Model(model.input, model.get_layer("final_norm").output)
    head = keras.Model(model.input, model.get_layer("flatten").output)
    x = np.random.default_rng(1).normal(size=(2, 8, 12, 3)).astype("float32")
    np.testing.assert_allclose(
        head.predict(x, verbose=0), state.predict(x, verbose=0)[:, 0], atol=1e-6
    )


@pytest.mark.slow
@pytest.mark.learning
def test_learns_digits():
    (x, y), (xt, yt) = load_digits()
    keras.utils.set_random_seed(0)
    model = build_vit(
        (8, 8, 1),
        2,
        10,
        embedding_dim=32,
        num_heads=4,
        intermediate_dim=64,
        num_layers=2,
        dropout=0.0,
    )
    model.compile(
        keras.optimizers.Adam(2e-3),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=12, batch_size=64, verbose=0)
    assert model.evaluate(xt, yt, verbose=0)[1] >= 0.85


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"image_shape": (8, 8, 1), "patch_size": 3},
            r"`patch_size`=3 must divide the image size.*\(8, 8\)",
        ),
        ({"image_shape": (8, 8), "patch_size": 2}, r"`image_shape`.*\(8, 8\)"),
        ({"image_shape": (8, 8, 1), "patch_size": 0}, r"`patch_size`.*=0"),
        (
            {"image_shape": (8, 8, 1), "patch_size": 2, "num_classes": 0},
            r"`num_classes`.*=0",
        ),
    ],
)
def test_bad_arguments(kwargs, match):
    kwargs = {"num_classes": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_vit(**kwargs)
