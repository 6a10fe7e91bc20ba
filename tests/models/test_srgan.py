"""Tests of keras_dlparts.models.SRGAN and the SRGAN builders.

PixelShuffle's order and values are tested in tests/layers; here the
objectives of one training step are checked against NumPy on tiny linear
networks with fixed weights.
"""

import copy
import os

import keras
import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.layers import PixelShuffle
from keras_dlparts.losses import PerceptualLoss
from keras_dlparts.models import SRGAN
from keras_dlparts.models import build_srgan_discriminator
from keras_dlparts.models import build_srgan_generator
from keras_dlparts.testing import check_model


def _softplus(x):
    return np.logaddexp(0.0, x)


def _pixel_shuffle(x, r):
    """out[b, h r + i, w r + j, c] = x[b, h, w, (i r + j) C + c]."""
    b, h, w, channels = x.shape
    c = channels // (r * r)
    out = np.zeros((b, h * r, w * r, c))
    for i in range(r):
        for j in range(r):
            out[:, i::r, j::r, :] = x[
                ..., (i * r + j) * c : (i * r + j + 1) * c
            ]
    return out


def _linear_srgan(adversarial_weight, content_loss="mean_squared_error"):
    """G: 1x1 conv to 4 channels + PixelShuffle(2); D: one Dense logit."""
    generator = keras.Sequential(
        [keras.Input((2, 2, 1)), keras.layers.Conv2D(4, 1), PixelShuffle(2)]
    )
    discriminator = keras.Sequential(
        [keras.Input((4, 4, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]
    )
    rng = np.random.default_rng(3)
    weights = [
        rng.normal(0.0, 0.5, shape).astype("float32")
        for shape in [(1, 1, 1, 4), (4,), (16, 1), (1,)]
    ]
    generator.set_weights(weights[:2])
    discriminator.set_weights(weights[2:])
    model = SRGAN(
        generator,
        discriminator,
        content_loss=content_loss,
        adversarial_weight=adversarial_weight,
    )
    return model, [w.astype("float64") for w in weights]


def _numpy_generator(low, kernel, bias):
    return _pixel_shuffle(low * kernel.reshape(1, 1, 1, 4) + bias, 2)


def _numpy_discriminator(images, w, b):
    return images.reshape(len(images), -1) @ w + b


def _numeric_gradient(f, params, eps=1e-6):
    """Central differences of `f(params)` (a list of float64 arrays)."""
    grads = []
    for k, p in enumerate(params):
        g = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            shifted = []
            for sign in (1.0, -1.0):
                q = [x.copy() for x in params]
                q[k][idx] += sign * eps
                shifted.append(f(q))
            g[idx] = (shifted[0] - shifted[1]) / (2 * eps)
        grads.append(g)
    return grads


def _pairs(n, seed=0):
    rng = np.random.default_rng(seed)
    high = rng.random((n, 4, 4, 1))
    low = high.reshape(n, 2, 2, 2, 2, 1).mean(axis=(2, 4))
    return low.astype("float32"), high.astype("float32")


def test_one_fit_step_equals_numpy_sgd_on_both_objectives():
    low, high = _pairs(4)
    weight, lr_d, lr_g = 0.5, 0.1, 0.2
    model, (kg, bg, wd, bd) = _linear_srgan(weight)
    model.compile(
        d_optimizer=keras.optimizers.SGD(lr_d),
        g_optimizer=keras.optimizers.SGD(lr_g),
    )
    logs = model.fit(low, high, batch_size=4, epochs=1, verbose=0).history
    low64, high64 = low.astype("float64"), high.astype("float64")
    fake = _numpy_generator(low64, kg, bg)

    # Discriminator: mean softplus(-D(hr)) + softplus(D(sr)), then SGD.
    def d_objective(p):
        real_logits = _numpy_discriminator(high64, *p)
        fake_logits = _numpy_discriminator(fake, *p)
        return np.mean(_softplus(-real_logits) + _softplus(fake_logits))

    d_loss = d_objective([wd, bd])
    gwd, gbd = _numeric_gradient(d_objective, [wd, bd])
    wd, bd = wd - lr_d * gwd, bd - lr_d * gbd

    # Generator, against the updated D: MSE + weight * -log sigmoid(D(sr)).
    def parts(p):
        sr = _numpy_generator(low64, *p)
        content = np.mean((high64 - sr) ** 2)
        adversarial = np.mean(_softplus(-_numpy_discriminator(sr, wd, bd)))
        return content, adversarial, sr

    def g_objective(p):
        content, adversarial, _ = parts(p)
        return content + weight * adversarial

    content, adversarial, sr = parts([kg, bg])
    gkg, gbg = _numeric_gradient(g_objective, [kg, bg])
    expected = [kg - lr_g * gkg, bg - lr_g * gbg, wd, bd]
    got = model.generator.get_weights() + model.discriminator.get_weights()
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-5)
    psnr = np.mean(10 * np.log10(1.0 / np.mean((high64 - sr) ** 2, (1, 2, 3))))
    numbers = {
        "d_loss": d_loss,
        "g_loss": content + weight * adversarial,
        "content_loss": content,
        "adversarial_loss": adversarial,
        "psnr": psnr,
    }
    assert set(logs) == set(numbers)
    for name, value in numbers.items():
        assert logs[name][0] == pytest.approx(value, rel=1e-5), name


def test_zero_adversarial_weight_is_plain_content_training():
    # The first stage of the paper's recipe (SRResNet): with weight 0 the
    # generator takes the step of a plain Keras fit on the content loss.
    low, high = _pairs(8, seed=1)
    model, _ = _linear_srgan(0.0, content_loss="mae")
    model.compile(
        d_optimizer=keras.optimizers.SGD(0.1),
        g_optimizer=keras.optimizers.SGD(0.3),
    )
    alone, _ = _linear_srgan(0.0)
    alone.generator.compile(keras.optimizers.SGD(0.3), "mae")
    for fit in (model.fit, alone.generator.fit):
        fit(low, high, batch_size=4, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(
        model.generator.get_weights(), alone.generator.get_weights()
    ):
        np.testing.assert_allclose(a, b, atol=1e-6)
    np.testing.assert_allclose(
        model.predict(low, verbose=0), alone.generator(low), atol=1e-6
    )


def test_evaluate_with_a_perceptual_loss_matches_numpy():
    inputs = keras.Input((4, 4, 1))
    features = keras.layers.Conv2D(3, 1, name="conv")(inputs)
    feature_model = keras.Model(inputs, features)
    rng = np.random.default_rng(5)
    fk, fb = rng.normal(size=(1, 1, 1, 3)), rng.normal(size=(3,))
    feature_model.set_weights([fk.astype("float32"), fb.astype("float32")])
    loss = PerceptualLoss(feature_model, ["conv"])
    model, (kg, bg, wd, bd) = _linear_srgan(0.25, content_loss=loss)
    model.compile(d_loss="least_squares", g_loss="hinge")
    low, high = _pairs(6, seed=2)
    before = model.get_weights()
    logs = model.evaluate(low, high, verbose=0, return_dict=True)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    sr = _numpy_generator(low.astype("float64"), kg, bg)
    r = _numpy_discriminator(high.astype("float64"), wd, bd)
    f = _numpy_discriminator(sr, wd, bd)

    def phi(x):
        return x * fk.reshape(1, 1, 1, 3) + fb

    content = np.mean((phi(high) - phi(sr)) ** 2)
    adversarial = np.mean(-f)
    assert logs["content_loss"] == pytest.approx(content, rel=1e-5)
    assert logs["adversarial_loss"] == pytest.approx(adversarial, rel=1e-5)
    assert logs["g_loss"] == pytest.approx(content + 0.25 * adversarial, 1e-5)
    d_loss = np.mean(0.5 * (r - 1) ** 2 + 0.5 * f**2)
    assert logs["d_loss"] == pytest.approx(d_loss, rel=1e-5)


@pytest.mark.slow
def test_builders_follow_the_paper():
    g = build_srgan_generator(4, channels=3, filters=8, num_residual_blocks=2)
    kinds = [type(layer).__name__ for layer in g.layers]
    # Two residual blocks of two BN each, and the BN before the global skip.
    assert kinds.count("BatchNormalization") == 5
    assert kinds.count("PixelShuffle") == 2  # 4x: two 2x stages
    assert kinds.count("PReLU") == 1 + 2 + 2
    assert kinds.count("Add") == 3
    assert g.compute_output_shape((None, 3, 5, 3)) == (None, 12, 20, 3)
    assert g.layers[-1].activation is keras.activations.sigmoid
    d = build_srgan_discriminator((16, 8, 1), filters=(4, 8), dense_units=6)
    strides = [
        layer.strides[0]
        for layer in d.layers
        if isinstance(layer, keras.layers.Conv2D)
    ]
    assert strides == [1, 2, 1, 2]
    assert [type(x).__name__ for x in d.layers].count("BatchNormalization") == 3
    assert d.get_layer(index=-1).input.shape == (None, 6)
    assert d.output_shape == (None, 1)


@pytest.mark.slow
def test_config_round_trip_and_keras_file_reload(tmp_path):
    inputs = keras.Input((8, 8, 1))
    feature_model = keras.Model(
        inputs, keras.layers.Conv2D(2, 3, name="conv")(inputs)
    )

    model = SRGAN(
        build_srgan_generator(2, 1, filters=4, num_residual_blocks=1),
        build_srgan_discriminator((8, 8, 1), (4,), dense_units=4),
        content_loss=PerceptualLoss(feature_model, ["conv"]),
        adversarial_weight=0.01,
        max_val=2.0,
    )
    config = model.get_config()
    # from_config consumes the nested configs it deserializes: a copy.
    clone = SRGAN.from_config(copy.deepcopy(config))
    assert clone.get_config() == config
    assert clone.adversarial_weight == 0.01 and clone.max_val == 2.0
    # Training and reloading: the contract's tiny networks (faster).
    model = _contract_srgan(
        content_loss=PerceptualLoss(feature_model, ["conv"]), max_val=2.0
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(2e-3),
        g_optimizer="sgd",
        g_loss="hinge",
    )
    low, high = _digit_pairs(8)
    model.fit(low, high, batch_size=4, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "srgan.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, SRGAN)
    assert isinstance(reloaded.content_loss, PerceptualLoss)
    assert reloaded.content_loss.layer_names == ("conv",)
    assert reloaded.g_loss_fn.kind == "hinge"
    assert float(reloaded.d_optimizer.learning_rate) == pytest.approx(2e-3)
    np.testing.assert_allclose(reloaded(low), model(low), atol=1e-6)
    # The feature model's weights are not saved (PerceptualLoss's rule).
    assert reloaded.content_loss.feature_model is not feature_model


def _digit_pairs(n):
    (x, _), _ = load_digits()
    high = x[:n]
    return high.reshape(n, 4, 2, 4, 2, 1).mean(axis=(2, 4)), high


def test_bad_arguments():
    g = build_srgan_generator(2, 1, filters=4, num_residual_blocks=1)
    d = build_srgan_discriminator((8, 8, 1), (4,), dense_units=4)
    with pytest.raises(TypeError, match="generator"):
        SRGAN(keras.layers.Dense(2), d)
    with pytest.raises(ValueError, match="`content_loss` must be one of"):
        SRGAN(g, d, content_loss="ssim")
    with pytest.raises(TypeError, match="`content_loss` must be callable"):
        SRGAN(g, d, content_loss=3)
    with pytest.raises(ValueError, match="adversarial_weight"):
        SRGAN(g, d, adversarial_weight=-1.0)
    with pytest.raises(ValueError, match="max_val"):
        SRGAN(g, d, max_val=0)
    rgb = build_srgan_discriminator((8, 8, 3), (4,), dense_units=4)
    with pytest.raises(ValueError, match="`discriminator` must take"):
        SRGAN(g, rgb)
    with pytest.raises(ValueError, match="power of two"):
        build_srgan_generator(3)
    with pytest.raises(ValueError, match="num_residual_blocks"):
        build_srgan_generator(2, num_residual_blocks=0)
    with pytest.raises(ValueError, match="divisible"):
        build_srgan_discriminator((12, 12, 1), (4, 4, 4))
    model = SRGAN(g, d)
    with pytest.raises(ValueError, match="d_optimizer"):
        model.compile(optimizer="adam")
    model.compile()
    low, high = _digit_pairs(8)
    with pytest.raises(ValueError, match="samples"):
        model.fit(low[:4], high, verbose=0)
    with pytest.raises(ValueError, match="high_res"):
        model.fit(low, high[:, :4, :4], verbose=0)
    with pytest.raises(TypeError, match="model.predict"):
        model.generate(4)
    with pytest.raises(ValueError, match="inputs"):
        model(low[0])


def _contract_srgan(**kwargs):
    # The smallest networks that take every path of the step (batch-norm
    # statistics in G, a strided convolution in D): the builders' networks
    # double the contract's time and are plain functional models.
    generator = keras.Sequential(
        [
            keras.Input((None, None, 1)),
            keras.layers.Conv2D(4, 3, padding="same"),
            keras.layers.BatchNormalization(),
            PixelShuffle(2),
        ]
    )
    discriminator = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(2, 3, strides=2),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ]
    )
    return SRGAN(generator, discriminator, **kwargs)


def _compile(model, jit_compile):
    model.compile(
        d_optimizer=keras.optimizers.Adam(1e-3),
        g_optimizer=keras.optimizers.Adam(1e-2),
        jit_compile=jit_compile,
    )


def _through_both(model):
    """A loss whose gradient reaches every weight of G and D."""
    low, _ = _digit_pairs(4)
    logits = model.discriminator(model.generator(low, training=True))
    return keras.ops.sum(logits * np.array([[1.0], [2.0], [-0.5], [0.7]]))


@pytest.mark.slow
def test_srgan_contract():
    low, high = _digit_pairs(16)
    check_model(
        _contract_srgan,
        low,
        high,
        compile_fn=_compile,
        gradient_loss=_through_both,
        epochs=2,
    )
