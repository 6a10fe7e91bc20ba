"""Tests of keras_dlparts.losses.PerceptualLoss."""

import os

import keras
import numpy as np
import pytest
from support.numpy_conv import conv2d
from support.numpy_conv import relu

from keras_dlparts.losses import PerceptualLoss
from keras_dlparts.testing import check_loss


def tiny_cnn(seed=None):
    """Two convolutions standing in for VGG19 (no weights can be fetched).

    With a `seed`, the initializers are seeded: the network rebuilt from
    its config has the same weights."""

    def init(offset):
        if seed is None:
            return "glorot_uniform"
        return keras.initializers.GlorotUniform(seed=seed + offset)

    inputs = keras.Input((8, 8, 3), name="images")
    x = keras.layers.Conv2D(
        4,
        3,
        padding="same",
        activation="relu",
        kernel_initializer=init(0),
        bias_initializer=keras.initializers.Constant(0.1),
        name="conv1",
    )(inputs)
    x = keras.layers.Conv2D(
        5, 3, strides=2, kernel_initializer=init(1), name="conv2"
    )(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return keras.Model(inputs, x, name="tiny_cnn")


def numpy_features(net, x):
    """conv1 and conv2 of `tiny_cnn` in NumPy, from the network's weights."""
    k1, b1 = net.get_layer("conv1").get_weights()
    k2, b2 = net.get_layer("conv2").get_weights()
    first = relu(conv2d(np.asarray(x, "float64"), k1, b1))
    second = conv2d(first, k2, b2, strides=2, padding="valid")
    return first, second


def numpy_loss(net, y_true, y_pred, weights, distance=np.square):
    per_image = 0.0
    for w, t, p in zip(
        weights, numpy_features(net, y_true), numpy_features(net, y_pred)
    ):
        per_image = per_image + w * distance(t - p).mean(axis=(1, 2, 3))
    return per_image


def _images(n=4, seed=0):
    rng = np.random.default_rng(seed)
    y_true = rng.random((n, 8, 8, 3)).astype("float32")
    y_pred = np.clip(y_true + 0.3 * rng.normal(size=y_true.shape), 0, 1)
    return y_true, y_pred.astype("float32")


@pytest.mark.parametrize(
    "base_loss, distance",
    [("mean_squared_error", np.square), ("mean_absolute_error", np.abs)],
)
@pytest.mark.slow
def test_matches_numpy_features(base_loss, distance):
    net = tiny_cnn()
    y_true, y_pred = _images()
    loss = PerceptualLoss(net, ["conv1", "conv2"], [0.5, 2.0], base_loss)
    expected = numpy_loss(net, y_true, y_pred, [0.5, 2.0], distance)
    assert expected.min() > 1e-3
    np.testing.assert_allclose(
        float(loss(y_true, y_pred)), expected.mean(), rtol=1e-5
    )
    weights = np.array([1.0, 0.0, 2.0, 0.5])
    np.testing.assert_allclose(
        float(loss(y_true, y_pred, sample_weight=weights)),
        np.sum(expected * weights) / len(weights),
        rtol=1e-5,
    )
    # conv2 alone (weight 1), per image: the conv1 term weighs 0.
    one = PerceptualLoss(net, ["conv2"], reduction=None)
    np.testing.assert_allclose(
        np.asarray(one(y_true, y_pred)),
        numpy_loss(net, y_true, y_pred, [0.0, 1.0]),
        rtol=1e-5,
    )


@pytest.mark.slow
def test_contract():
    y_true, y_pred = _images(n=8, seed=1)
    net = tiny_cnn(seed=3)
    check_loss(
        lambda: PerceptualLoss(tiny_cnn(seed=3), ["conv1", "conv2"], [1, 3]),
        y_true,
        y_pred,
        reference=lambda t, p: numpy_loss(net, t, p, [1, 3]).mean(),
        x=np.random.default_rng(2).normal(size=(8, 6)).astype("float32"),
        y=y_true,
        learning_rate=0.01,
    )


def test_frozen_features_gradient_to_y_pred_only():
    net = tiny_cnn()
    before = [w.copy() for w in net.get_weights()]
    y_true, _ = _images(n=8)
    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Conv2D(3, 1, name="restorer")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile("adam", PerceptualLoss(net, ["conv1"]))
    history = model.fit(y_true[::-1], y_true, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    for w, b in zip(net.get_weights(), before):
        np.testing.assert_array_equal(w, b)
    assert not net.trainable_weights
    assert len(model.trainable_weights) == 2  # the restorer's only


def test_saved_and_reloaded_with_safe_mode(tmp_path):
    net = tiny_cnn()  # unseeded: the reloaded weights differ until restored
    y_true, y_pred = _images(n=4, seed=5)
    inputs = keras.Input((8, 8, 3))
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(loss=PerceptualLoss(net, ["conv1", "conv2"], [1.0, 0.5]))
    expected = model.evaluate(y_pred, y_true, verbose=0)
    path = os.path.join(str(tmp_path), "m.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    loss = reloaded.loss
    assert type(loss) is PerceptualLoss
    assert loss.layer_names == ("conv1", "conv2")
    assert loss.weights == (1.0, 0.5)
    assert [w.shape for w in loss.feature_model.get_weights()] == [
        w.shape for w in net.get_weights()
    ]
    loss.feature_model.set_weights(net.get_weights())
    assert reloaded.evaluate(y_pred, y_true, verbose=0) == pytest.approx(
        expected, rel=1e-5
    )


def test_refusals_name_the_argument():
    net = tiny_cnn()
    with pytest.raises(TypeError, match="feature_model"):
        PerceptualLoss("vgg19", ["conv1"])
    with pytest.raises(ValueError, match=r"layer_names.*\['conv9'\]"):
        PerceptualLoss(net, ["conv1", "conv9"])
    with pytest.raises(TypeError, match="layer_names"):
        PerceptualLoss(net, "conv1")
    with pytest.raises(ValueError, match="layer_names"):
        PerceptualLoss(net, [])
    with pytest.raises(ValueError, match="weights"):
        PerceptualLoss(net, ["conv1"], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"weights\[0\]"):
        PerceptualLoss(net, ["conv1"], [-1.0])
    with pytest.raises(ValueError, match="base_loss"):
        PerceptualLoss(net, ["conv1"], base_loss="huber")
    unbuilt = keras.Sequential([keras.layers.Dense(2, name="d")])
    with pytest.raises(ValueError, match="feature_model"):
        PerceptualLoss(unbuilt, ["d"])
    y_true, y_pred = _images(n=2)
    with pytest.raises(ValueError, match="y_pred"):
        PerceptualLoss(net, ["conv1"])(y_true, y_pred[:, :4])


@pytest.mark.slow
def test_the_documented_vgg19_recipe(tmp_path):
    # docs/generative.md's VGG19 feature model, without the download.
    images = keras.Input((None, None, 3))
    vgg = keras.applications.VGG19(
        weights=None,
        include_top=False,
        input_tensor=keras.applications.vgg19.preprocess_input(images * 255.0),
    )
    vgg54 = keras.Model(images, vgg.get_layer("block5_conv4").output)
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(loss=PerceptualLoss(vgg54, ["block5_conv4"]))
    y_true, y_pred = (
        np.random.default_rng(s).random((2, 32, 32, 3)) for s in (0, 1)
    )
    expected = model.evaluate(y_pred, y_true, verbose=0)
    assert expected > 0
    path = os.path.join(str(tmp_path), "vgg.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    reloaded.loss.feature_model.set_weights(vgg54.get_weights())
    assert reloaded.evaluate(y_pred, y_true, verbose=0) == pytest.approx(
        expected, rel=1e-5
    )


@pytest.mark.slow
def test_an_upscaler_with_the_super_resolution_parts_trains():
    # docs/generative.md's small upscaler: PixelShuffle, PerceptualLoss,
    # PSNR and SSIM together in one fit, images of unknown size.
    from keras_dlparts import ops
    from keras_dlparts.layers import PixelShuffle
    from keras_dlparts.metrics import PSNR
    from keras_dlparts.metrics import SSIM

    low = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(low)
    x = keras.layers.Conv2D(3 * 2**2, 3, padding="same")(x)
    upscaler = keras.Model(low, PixelShuffle(2)(x))
    features = keras.Input((None, None, 3))
    f = keras.layers.Conv2D(4, 3, activation="relu", name="conv1")(features)
    f = keras.layers.Conv2D(4, 3, name="conv2")(f)
    upscaler.compile(
        keras.optimizers.Adam(0.01),
        PerceptualLoss(keras.Model(features, f), ["conv1", "conv2"]),
        metrics=[PSNR(), SSIM()],
    )
    high = np.random.default_rng(0).random((8, 12, 12, 3)).astype("float32")
    history = upscaler.fit(
        high[:, ::2, ::2], high, epochs=3, batch_size=4, verbose=0
    ).history
    assert history["loss"][-1] < history["loss"][0]
    logs = upscaler.evaluate(
        high[:, ::2, ::2], high, batch_size=4, verbose=0, return_dict=True
    )
    predicted = upscaler.predict(high[:, ::2, ::2], verbose=0)
    for name, op in (("psnr", ops.psnr), ("ssim", ops.ssim)):
        want = float(np.mean(np.asarray(op(high, predicted))))
        assert logs[name] == pytest.approx(want, rel=1e-4)
