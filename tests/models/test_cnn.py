"""Tests of keras_dlparts.models.build_lenet5 and build_vgg."""

import keras
import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.models import build_lenet5
from keras_dlparts.models import build_vgg
from keras_dlparts.testing import check_model


def test_lenet5_parameter_count_worked_out():
    # c1 6*(25+1), c3 16*(6*25+1), c5 120*(400+1), f6 84*(120+1), out 10*85.
    expected = 6 * 26 + 16 * 151 + 120 * 401 + 84 * 121 + 10 * 85
    assert build_lenet5().count_params() == expected == 61_706


@pytest.mark.slow
@pytest.mark.learning
def test_lenet5_learns_digits():
    (x_train, y_train), (x_test, y_test) = load_digits()
    upsample = lambda x: np.kron(x, np.ones((1, 2, 2, 1), "float32"))  # noqa: E731
    keras.utils.set_random_seed(0)
    model = build_lenet5(image_shape=(16, 16, 1), activation="relu")
    model.compile(
        keras.optimizers.Adam(3e-3),
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # 12 epochs: with 8, one seeded run on TensorFlow reached only 88%.
    model.fit(upsample(x_train), y_train, epochs=12, batch_size=64, verbose=0)
    _, accuracy = model.evaluate(upsample(x_test), y_test, verbose=0)
    assert accuracy >= 0.9


@pytest.mark.slow
def test_vgg16_architecture_matches_keras_vgg16():
    ours = build_vgg(16, image_shape=(32, 32, 3), num_classes=10)
    peer = keras.applications.VGG16(
        weights=None, input_shape=(32, 32, 3), classes=10
    )
    assert ours.count_params() == peer.count_params()
    ours_convs = [
        tuple(layer.kernel.shape)
        for layer in ours.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    peer_convs = [
        tuple(layer.kernel.shape)
        for layer in peer.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert ours_convs == peer_convs


def test_vgg_batch_norm_variant():
    model = build_vgg(
        image_shape=(8, 8, 3),
        num_classes=2,
        blocks=((4, 2),),
        dense_units=8,
        batch_norm=True,
    )
    norms = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert len(norms) == 2
    conv = model.get_layer("block1_conv1")
    assert conv.activation is keras.activations.linear
    relu_input = model.get_layer("block1_conv1_relu").input
    assert relu_input is model.get_layer("block1_conv1_bn").output


def _tiny_vgg():
    return build_vgg(
        image_shape=(16, 16, 3),
        num_classes=3,
        blocks=((4, 1), (8, 2)),
        dense_units=16,
        dropout=0.1,
    )


@pytest.mark.slow
def test_contract_tiny_vgg():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 16, 16, 3)).astype("float32")
    y = keras.utils.to_categorical(rng.integers(0, 3, 8), 3)
    check_model(_tiny_vgg, x, y, loss="categorical_crossentropy", epochs=3)


@pytest.mark.parametrize(
    "builder, kwargs, match",
    [
        (build_lenet5, {"image_shape": (8, 8, 1)}, "at least 16 .LeNet-5."),
        (build_vgg, {"depth": 12}, "depth"),
        (
            build_vgg,
            {"blocks": ((4, 1),) * 5, "image_shape": (16, 16, 3)},
            "image_shape",
        ),
        (build_vgg, {"dropout": 1.0}, "`dropout`"),
        (build_vgg, {"blocks": ()}, r"`blocks` must be a non-empty"),
        (build_vgg, {"blocks": ((4,),)}, r"`blocks\[0\]` must be a pair"),
    ],
)
def test_bad_arguments(builder, kwargs, match):
    with pytest.raises(ValueError, match=match):
        builder(**kwargs)
