"""Tests of keras_dlparts.models.build_densenet."""

import keras
import numpy as np
import pytest
from support.batch_norm import fast_batch_norm

from keras_dlparts.layers import DenseBlock
from keras_dlparts.layers import TransitionLayer
from keras_dlparts.models import build_densenet
from keras_dlparts.testing import check_model


def _counts(model):
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    return model.count_params(), trainable


@pytest.mark.slow
def test_densenet121_has_exactly_the_parameters_of_keras_densenet121():
    ours = build_densenet(121)
    peer = keras.applications.DenseNet121(weights=None)
    assert _counts(ours) == _counts(peer)
    assert ours.count_params() == 8_062_504
    assert tuple(ours.get_layer("dense_block4").output.shape) == (
        None,
        7,
        7,
        1024,
    )


@pytest.mark.slow
def test_custom_blocks_channel_arithmetic():
    model = build_densenet(
        image_shape=(32, 32, 3),
        num_classes=2,
        blocks=(2, 3),
        growth_rate=4,
        compression=0.5,
    )
    block1, block2 = [x for x in model.layers if isinstance(x, DenseBlock)]
    (transition,) = [x for x in model.layers if isinstance(x, TransitionLayer)]
    # stem 2k = 8 channels; +2*4 = 16; transition halves to 8; +3*4 = 20.
    assert block1.output.shape[-1] == 16
    assert transition.output.shape[-1] == 8
    assert tuple(block2.output.shape) == (None, 4, 4, 20)


def _tiny():
    # Two dense blocks of one layer and the transition between them: every
    # kind of block, with the fewest layers to compile.
    return fast_batch_norm(
        build_densenet(
            image_shape=(16, 16, 3), num_classes=3, blocks=(1, 1), growth_rate=4
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
        ({"depth": 100}, "depth"),
        ({"blocks": (2, 0)}, "blocks"),
        ({"growth_rate": 0}, "growth_rate"),
        ({"blocks": (1,), "compression": 2.0}, "compression"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_densenet(**kwargs)
