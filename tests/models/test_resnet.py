"""Tests of keras_dlparts.models.build_resnet."""

import keras
import numpy as np
import pytest
from support.batch_norm import fast_batch_norm

from keras_dlparts.layers import ResidualBlock
from keras_dlparts.models import build_resnet
from keras_dlparts.testing import check_model


def _counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


@pytest.mark.slow
def test_resnet50_has_exactly_the_parameters_of_keras_resnet50():
    ours = build_resnet(50)
    assert _counts(ours) == _counts(keras.applications.ResNet50(weights=None))
    assert ours.count_params() == 25_636_712
    blocks = [x for x in ours.layers if isinstance(x, ResidualBlock)]
    assert len(blocks) == 16  # 3 + 4 + 6 + 3 bottleneck blocks


@pytest.mark.slow
def test_depths_and_stage_shapes():
    model = build_resnet(34, image_shape=(32, 32, 3), num_classes=3, width=4)
    blocks = [x for x in model.layers if isinstance(x, ResidualBlock)]
    assert [b.kind for b in blocks] == ["basic"] * 16
    assert [b.strides for b in blocks if b.strides == 2] == [2, 2, 2]
    # Stem /4, then /2 per later stage: 32 -> 8 -> 4 -> 2 -> 1.
    assert tuple(blocks[-1].output.shape) == (None, 1, 1, 32)
    probabilities = np.asarray(model(np.ones((2, 32, 32, 3), "float32")))
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, rtol=1e-5)


def _tiny():
    return fast_batch_norm(
        build_resnet(
            18,
            image_shape=(16, 16, 3),
            num_classes=3,
            width=4,
            blocks_per_stage=(1, 1),
            kind="bottleneck",
        )
    )


@pytest.mark.slow
def test_contract_tiny():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 16, 16, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 8), 3)
    check_model(_tiny, x, y, loss="categorical_crossentropy", epochs=3)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"depth": 20}, "depth"),
        ({"image_shape": (16, 16)}, "image_shape"),
        ({"depth": 18, "blocks_per_stage": (1, 0)}, "blocks_per_stage"),
        ({"num_classes": 0}, "num_classes"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_resnet(**kwargs)
