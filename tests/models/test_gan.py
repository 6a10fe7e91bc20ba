"""Tests of keras_dlparts.models.GAN, ConditionalGAN and the DCGAN builders."""

import os

import keras
import numpy as np
import pytest
from support.backend import jit

from keras_dlparts.data import load_digits
from keras_dlparts.losses import GANDiscriminatorLoss
from keras_dlparts.losses import GANGeneratorLoss
from keras_dlparts.models import GAN
from keras_dlparts.models import ConditionalGAN
from keras_dlparts.models import build_dcgan_discriminator
from keras_dlparts.models import build_dcgan_generator
from keras_dlparts.testing import check_model
from keras_dlparts.testing import distribution_scope

LATENT = 4


def _gan(seed=0):
    return GAN(
        build_dcgan_generator(LATENT, (8, 8, 1), filters=(4,)),
        build_dcgan_discriminator((8, 8, 1), filters=(4,), dropout=0.0),
        latent_dim=LATENT,
        seed=seed,
    )


def _cgan(seed=0):
    return ConditionalGAN(
        build_dcgan_generator(LATENT, (8, 8, 1), filters=(4,), num_classes=3),
        build_dcgan_discriminator(
            (8, 8, 1), filters=(4,), num_classes=3, dropout=0.0
        ),
        latent_dim=LATENT,
        num_classes=3,
        seed=seed,
    )


def _compile(model, jit_compile):
    # A fast discriminator and a slow generator: the contract's "first
    # evaluate value falls" then holds for d_loss.
    model.compile(
        d_optimizer=keras.optimizers.Adam(1e-2),
        g_optimizer=keras.optimizers.Adam(1e-4),
        jit_compile=jit_compile,
    )


def _through_both(model):
    """A loss whose gradient reaches every weight of G and D."""
    z = keras.ops.convert_to_tensor(
        np.random.default_rng(0).normal(size=(4, LATENT)), "float32"
    )
    if isinstance(model, ConditionalGAN):
        labels = keras.ops.convert_to_tensor(np.arange(4) % 3, "int32")
        fake = model.generator([z, labels], training=True)
        logits = model.discriminator([fake, labels], training=True)
    else:
        logits = model.discriminator(model.generator(z, training=True))
    return keras.ops.sum(logits * np.array([[1.0], [2.0], [-0.5], [0.7]]))


def _digits(n):
    (x, y), _ = load_digits()
    return x[:n], y[:n]


@pytest.mark.slow
def test_builders_shapes_and_architecture():
    g = build_dcgan_generator(16, (8, 8, 1), filters=(8, 4))
    kinds = [type(layer).__name__ for layer in g.layers]
    assert kinds.count("Conv2DTranspose") == 2
    assert kinds.count("BatchNormalization") == 3
    assert g.get_layer(index=1).output.shape == (None, 2 * 2 * 8)
    d = build_dcgan_discriminator((16, 8, 3), filters=(8, 16))
    assert d.output_shape == (None, 1)
    assert d.input_shape == (None, 16, 8, 3)
    out = g(np.zeros((3, 16), "float32"))
    assert out.shape == (3, 8, 8, 1)
    assert float(np.min(out)) >= 0.0 and float(np.max(out)) <= 1.0
    cg = build_dcgan_generator(5, (4, 4, 2), filters=(3,), num_classes=4)
    assert [tuple(t.shape) for t in cg.inputs] == [(None, 5), (None,)]
    assert cg.output_shape == (None, 4, 4, 2)


@pytest.mark.slow
def test_gan_contract():
    x, _ = _digits(16)
    check_model(
        _gan, x, compile_fn=_compile, gradient_loss=_through_both, epochs=3
    )


@pytest.mark.slow
def test_conditional_gan_contract():
    x, y = _digits(16)
    check_model(
        _cgan,
        [x, y % 3],
        compile_fn=_compile,
        gradient_loss=_through_both,
        epochs=3,
    )


@pytest.mark.parametrize("frozen", ["generator", "discriminator"])
@pytest.mark.slow
def test_each_step_updates_only_its_own_network(frozen):
    x, y = _digits(16)
    gan = _cgan()
    rates = {"generator": 0.5, "discriminator": 0.5, frozen: 0.0}
    gan.compile(
        d_optimizer=keras.optimizers.SGD(rates["discriminator"]),
        g_optimizer=keras.optimizers.SGD(rates["generator"]),
    )
    nets = {"generator": gan.generator, "discriminator": gan.discriminator}
    before = {
        k: [w.numpy() for w in n.trainable_weights] for k, n in nets.items()
    }
    gan.fit(x, y % 3, batch_size=8, epochs=1, verbose=0)
    for name, net in nets.items():
        changed = [
            not np.array_equal(b, w.numpy())
            for b, w in zip(before[name], net.trainable_weights)
        ]
        if name == frozen:
            assert not any(changed), f"{name} moved with a zero learning rate"
        else:
            assert all(changed), f"some {name} weights never moved"
    # Each optimizer holds slots for its own network's weights only.
    assert (
        int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 2
    )


def _linear_gan(seed):
    """A GAN of one Dense layer each, with fixed weights: G(z) = z Wg + bg."""
    gan = GAN(
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]),
        keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]),
        latent_dim=2,
        seed=seed,
    )
    rng = np.random.default_rng(1)
    weights = [
        rng.normal(0.0, 0.5, shape).astype("float32")
        for shape in [(2, 3), (3,), (3, 1), (1,)]
    ]
    gan.generator.set_weights(weights[:2])
    gan.discriminator.set_weights(weights[2:])
    return gan, [w.astype("float64") for w in weights]


def _numpy_least_squares_gan(x, codes, weights, lr_d, lr_g, batch_size):
    """The alternating SGD steps of a linear least-squares GAN, by hand."""
    wg, bg, wd, bd = weights
    d_losses, g_losses, g_steps = [], [], []
    for step in range(len(x) // batch_size):
        real = x[step * batch_size : (step + 1) * batch_size]
        n = len(real)
        z_d, z_g = codes[2 * step], codes[2 * step + 1]
        # Discriminator: 0.5 (D(x) - 1)^2 + 0.5 D(G(z))^2, mean over the batch.
        fake = z_d @ wg + bg
        r, f = real @ wd + bd, fake @ wd + bd
        d_losses.append(np.mean(0.5 * (r - 1) ** 2 + 0.5 * f**2))
        dr, df = (r - 1) / n, f / n
        wd, bd = (
            wd - lr_d * (real.T @ dr + fake.T @ df),
            bd - lr_d * (dr.sum(0) + df.sum(0)),
        )
        # Generator, against the updated discriminator: 0.5 (D(G(z)) - 1)^2.
        f = (z_g @ wg + bg) @ wd + bd
        g_losses.append(np.mean(0.5 * (f - 1) ** 2))
        d_fake = ((f - 1) / n) @ wd.T
        wg, bg = wg - lr_g * z_g.T @ d_fake, bg - lr_g * d_fake.sum(0)
        g_steps.append([wg, bg])
    return [wg, bg, wd, bd], d_losses, g_losses, g_steps


def _fit_codes(seed, jit_compile):
    """The 4 code batches (4, 2) two steps of `fit` draw, as float64.

    fit draws the codes of each step from a SeedGenerator seeded like the
    model's: the discriminator's, then the generator's. They are drawn
    compiled like fit (TensorFlow's XLA draws differ from its kernels').
    """
    generator = keras.random.SeedGenerator(seed)

    def draw_codes(state):
        mapping = [(generator.state, state)]
        with keras.StatelessScope(state_mapping=mapping):
            return [
                keras.random.normal((4, 2), seed=generator) for _ in range(4)
            ]

    if jit_compile:
        draw_codes = jit(draw_codes)
    return [
        np.asarray(keras.ops.convert_to_numpy(c), "float64")
        for c in draw_codes(generator.state.value)
    ]


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
@pytest.mark.slow
def test_fit_steps_equal_hand_derived_sgd_on_a_linear_gan(jit_compile):
    # The same numbers on every backend: each is checked against NumPy.
    x = np.random.default_rng(2).normal(size=(8, 3)).astype("float32")
    gan, weights = _linear_gan(seed=7)
    lr_d, lr_g = 0.1, 0.05
    gan.compile(
        d_optimizer=keras.optimizers.SGD(lr_d),
        g_optimizer=keras.optimizers.SGD(lr_g),
        d_loss="least_squares",
        g_loss="least_squares",
        jit_compile=jit_compile,
    )
    codes = _fit_codes(seed=7, jit_compile=jit_compile)
    history = gan.fit(x, batch_size=4, epochs=1, shuffle=False, verbose=0)
    expected, d_losses, g_losses, _ = _numpy_least_squares_gan(
        x.astype("float64"), codes, weights, lr_d, lr_g, batch_size=4
    )
    got = gan.generator.get_weights() + gan.discriminator.get_weights()
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-5)
    # fit reports the mean of the steps' losses.
    assert history.history["d_loss"][0] == pytest.approx(
        np.mean(d_losses), abs=1e-5
    )
    assert history.history["g_loss"][0] == pytest.approx(
        np.mean(g_losses), abs=1e-5
    )
    assert (
        int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 2
    )


def test_generator_ema_replaces_its_weights_after_fit_and_d_keeps_its_own():
    # Keras's EMA (use_ema=True): the average is the weights after the
    # first step, then m * average + (1 - m) * weights after each step;
    # fit ends with the generator's weights set to it.
    x = np.random.default_rng(2).normal(size=(8, 3)).astype("float32")
    gan, weights = _linear_gan(seed=7)
    lr_d, lr_g, momentum = 0.1, 0.5, 0.25
    gan.compile(
        d_optimizer=keras.optimizers.SGD(lr_d),
        g_optimizer=keras.optimizers.SGD(
            lr_g, use_ema=True, ema_momentum=momentum
        ),
        d_loss="least_squares",
        g_loss="least_squares",
        jit_compile=True,
    )
    codes = _fit_codes(seed=7, jit_compile=True)
    gan.fit(x, batch_size=4, epochs=1, shuffle=False, verbose=0)
    trained, _, _, g_steps = _numpy_least_squares_gan(
        x.astype("float64"), codes, weights, lr_d, lr_g, batch_size=4
    )
    average = g_steps[0]
    for step in g_steps[1:]:
        average = [
            momentum * a + (1 - momentum) * w for a, w in zip(average, step)
        ]
    assert not np.allclose(average[0], trained[0], atol=1e-3)
    got = gan.generator.get_weights() + gan.discriminator.get_weights()
    for g, e in zip(got, average + trained[2:]):
        np.testing.assert_allclose(g, e, atol=1e-5)
    # A fit of no steps leaves the weights alone (the averages are zeros).
    fresh, _ = _linear_gan(seed=7)
    fresh.compile(g_optimizer=keras.optimizers.SGD(use_ema=True))
    before = fresh.generator.get_weights()
    fresh.fit(x, epochs=1, initial_epoch=1, verbose=0)
    for g, e in zip(fresh.generator.get_weights(), before):
        np.testing.assert_array_equal(g, e)


def _least_squares_callable(real_logits, fake_logits):
    return keras.ops.mean(0.5 * (real_logits - 1) ** 2 + 0.5 * fake_logits**2)


@pytest.mark.parametrize("losses", ["mean", "sum", "callable"])
@pytest.mark.slow
def test_distributed_fit_reports_and_steps_on_the_whole_batch(losses):
    # Two replicas (MirroredStrategy on TensorFlow, DataParallel on JAX)
    # report the losses of the whole batch and take the single-device step.
    x = np.random.default_rng(2).normal(size=(8, 3)).astype("float32")
    lr_d, lr_g = 0.1, 0.05
    d_loss, g_loss = {
        "mean": ("least_squares", "least_squares"),
        "sum": (
            GANDiscriminatorLoss("least_squares", reduction="sum"),
            GANGeneratorLoss("least_squares", reduction="sum"),
        ),
        "callable": (
            _least_squares_callable,
            lambda real, fake: keras.ops.mean(0.5 * (fake - 1) ** 2),
        ),
    }[losses]
    with distribution_scope():
        gan, weights = _linear_gan(seed=1)
        # G(z) = bg whatever the codes (which differ per replica).
        weights[0][:] = 0.0
        gan.generator.set_weights([w.astype("float32") for w in weights[:2]])
        gan.compile(
            d_optimizer=keras.optimizers.SGD(lr_d),
            g_optimizer=keras.optimizers.SGD(lr_g),
            d_loss=d_loss,
            g_loss=g_loss,
        )
        history = gan.fit(x, batch_size=8, epochs=1, verbose=0).history
    codes = [np.zeros((8, 2))] * 2
    expected, d_losses, g_losses, _ = _numpy_least_squares_gan(
        x.astype("float64"), codes, weights, lr_d, lr_g, batch_size=8
    )
    scale = 8.0 if losses == "sum" else 1.0  # the sum's gradient and value
    if losses == "sum":
        expected, d_losses, g_losses, _ = _numpy_least_squares_gan(
            x.astype("float64"), codes, weights, lr_d * scale, lr_g * scale, 8
        )
    assert history["d_loss"][0] == pytest.approx(scale * d_losses[0], abs=1e-5)
    assert history["g_loss"][0] == pytest.approx(scale * g_losses[0], abs=1e-5)
    _, bg = gan.generator.get_weights()
    np.testing.assert_allclose(bg, expected[1], atol=1e-5)
    for got, want in zip(gan.discriminator.get_weights(), expected[2:]):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.slow
def test_seeded_runs_repeat():
    # Codes, dropout masks and batch-norm statistics: all seeded state.
    x = np.random.default_rng(2).normal(size=(8, 3)).astype("float32")

    def run():
        keras.utils.set_random_seed(4)
        gan = GAN(
            keras.Sequential(
                [
                    keras.Input((2,)),
                    keras.layers.Dense(3),
                    keras.layers.BatchNormalization(),
                ]
            ),
            keras.Sequential(
                [
                    keras.Input((3,)),
                    keras.layers.Dropout(0.3),
                    keras.layers.Dense(1),
                ]
            ),
            latent_dim=2,
            seed=4,
        )
        gan.compile()
        history = gan.fit(x, batch_size=4, epochs=2, verbose=0)
        return history.history, gan.get_weights()

    (history, weights), (again, weights_again) = run(), run()
    assert history == again
    for w, w_again in zip(weights, weights_again):
        np.testing.assert_array_equal(w, w_again)


@pytest.mark.slow
def test_optimizer_holds_both_optimizers_and_saves_each_once(tmp_path):
    gan = _gan()
    gan.compile(d_optimizer="adam", g_optimizer=keras.optimizers.SGD(0.1))
    assert gan.optimizer.optimizers == [gan.d_optimizer, gan.g_optimizer]
    assert [v.path for v in gan.optimizer.variables] == [
        v.path for v in gan.d_optimizer.variables + gan.g_optimizer.variables
    ]
    path = os.path.join(tmp_path, "gan.keras")
    gan.save(path)
    import zipfile

    import h5py

    with zipfile.ZipFile(path) as archive:
        archive.extract("model.weights.h5", tmp_path)
    stored = []
    with h5py.File(os.path.join(tmp_path, "model.weights.h5")) as weights:
        weights.visit(stored.append)
    optimizer_groups = {p.split("/")[0] for p in stored if "optimizer" in p}
    assert optimizer_groups == {"d_optimizer", "g_optimizer"}, optimizer_groups
    # A learning-rate callback reaches both optimizers.
    x, _ = _digits(8)
    gan.fit(
        x,
        epochs=1,
        verbose=0,
        callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: lr / 2)],
    )
    assert float(gan.g_optimizer.learning_rate) == pytest.approx(0.05)


@pytest.mark.slow
def test_mixed_float16_wraps_both_optimizers_and_trains():
    x, _ = _digits(8)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        gan = _gan()
    finally:
        keras.config.set_dtype_policy(previous)
    gan.compile(
        d_optimizer=keras.optimizers.LossScaleOptimizer(
            keras.optimizers.SGD(0.1), initial_scale=2.0**40
        ),
        g_optimizer="adam",
    )
    assert isinstance(gan.g_optimizer, keras.optimizers.LossScaleOptimizer)
    history = gan.fit(x, batch_size=4, epochs=1, verbose=0).history
    assert np.isfinite(history["d_loss"][0]) and np.isfinite(
        history["g_loss"][0]
    )
    # The discriminator's scaled gradients overflow float16: both steps are
    # skipped and the scale halved each time, as on every backend.
    assert float(gan.d_optimizer.dynamic_scale) == 2.0**38
    assert int(gan.d_optimizer.iterations) == 0


@pytest.mark.slow
def test_reported_losses_match_the_loss_objects():
    x, _ = _digits(8)
    gan = _gan(seed=5)
    gan.compile(d_loss="least_squares", g_loss="least_squares")
    logs = gan.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    assert set(logs) == {"d_loss", "g_loss"}
    # Re-draw the codes evaluate used: a fresh model with the same seed.
    twin = _gan(seed=5)
    twin.set_weights(gan.get_weights())
    z = keras.random.normal((8, LATENT), seed=keras.random.SeedGenerator(5))
    real = np.asarray(twin.discriminator(x)).ravel()
    fake = np.asarray(twin.discriminator(twin.generator(z))).ravel()
    d_expected = np.mean(0.5 * (real - 1) ** 2 + 0.5 * fake**2)
    g_expected = np.mean(0.5 * (fake - 1) ** 2)
    assert logs["d_loss"] == pytest.approx(d_expected, rel=1e-4)
    assert logs["g_loss"] == pytest.approx(g_expected, rel=1e-4)


@pytest.mark.slow
def test_generate_is_seeded_and_conditional_labels():
    gan = _cgan()
    a = gan.generate(6, seed=1)
    np.testing.assert_array_equal(a, gan.generate(6, seed=1))
    assert a.shape == (6, 8, 8, 1)
    b = gan.generate(6, seed=1, labels=[2] * 6)
    assert not np.allclose(a, b)
    np.testing.assert_array_equal(
        gan.generate(3, seed=1, labels=[0, 1, 2]), gan.generate(3, seed=1)
    )


@pytest.mark.slow
def test_save_load_and_keep_training(tmp_path):
    x, y = _digits(32)
    gan = _cgan(seed=3)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-3),
        g_optimizer="adam",
        d_loss=GANDiscriminatorLoss("hinge"),
        g_loss="hinge",
    )
    gan.fit((x, y % 3), batch_size=16, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "cgan.keras")
    gan.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, ConditionalGAN) and reloaded.num_classes == 3
    np.testing.assert_allclose(
        reloaded.generate(4, seed=0), gan.generate(4, seed=0), rtol=1e-6
    )
    assert (
        reloaded.d_loss_fn.kind == "hinge"
        and reloaded.g_loss_fn.kind == "hinge"
    )
    assert float(reloaded.d_optimizer.learning_rate) == pytest.approx(2e-3)
    assert int(reloaded.d_optimizer.iterations) == int(
        gan.d_optimizer.iterations
    )
    g_before = [w.numpy() for w in reloaded.generator.trainable_weights]
    history = reloaded.fit((x, y % 3), batch_size=16, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss"}
    assert np.isfinite(history.history["d_loss"][0])
    assert not np.array_equal(
        g_before[0], reloaded.generator.trainable_weights[0].numpy()
    )


def test_bad_arguments():
    g = build_dcgan_generator(LATENT, (8, 8, 1), filters=(4,))
    d = build_dcgan_discriminator((8, 8, 1), filters=(4,))
    with pytest.raises(ValueError, match="latent_dim"):
        GAN(g, d, latent_dim=0)
    with pytest.raises(TypeError, match="generator"):
        GAN(keras.layers.Dense(3), d, latent_dim=2)
    with pytest.raises(ValueError, match="num_classes"):
        ConditionalGAN(g, d, latent_dim=LATENT, num_classes=0)
    gan = GAN(g, d, latent_dim=LATENT)
    with pytest.raises(ValueError, match="d_optimizer"):
        gan.compile(optimizer="adam")
    with pytest.raises(ValueError, match="`d_loss` must be one of"):
        gan.compile(d_loss="wasserstein")
    with pytest.raises(TypeError, match="`g_loss` must be callable"):
        gan.compile(g_loss=3)
    with pytest.raises(ValueError, match="divisible"):
        build_dcgan_generator(4, (6, 6, 1), filters=(4, 4))
    with pytest.raises(ValueError, match="image_shape"):
        build_dcgan_discriminator((8, 8), filters=(4,))
    with pytest.raises(ValueError, match="dropout"):
        build_dcgan_discriminator((8, 8, 1), dropout=1.0)
    with pytest.raises(ValueError, match="num_classes"):
        build_dcgan_generator(4, num_classes=1)
    cgan = _cgan()
    with pytest.raises(ValueError, match="labels"):
        cgan.generate(3, labels=[0, 1])
    with pytest.raises(ValueError, match="`labels`.*< 3"):
        cgan.generate(2, labels=[0, 3])


@pytest.mark.slow
@pytest.mark.learning
def test_conditional_samples_are_recognised_as_their_class():
    from support.digits_judge import judge_accuracy

    (x, y), _ = load_digits()
    keras.utils.set_random_seed(0)
    gan = ConditionalGAN(
        build_dcgan_generator(16, (8, 8, 1), filters=(32,), num_classes=10),
        build_dcgan_discriminator((8, 8, 1), filters=(32,), num_classes=10),
        latent_dim=16,
        num_classes=10,
        seed=0,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
    )
    history = gan.fit(x, y, batch_size=64, epochs=25, verbose=0).history
    assert all(np.isfinite(history["d_loss"] + history["g_loss"]))
    labels = np.repeat(np.arange(10), 50)
    samples = np.asarray(gan.generate(500, seed=1, labels=labels))
    rate = judge_accuracy(samples, labels)
    print(f"conditional GAN samples judged as their class: {rate:.3f}")
    assert rate >= 0.5  # chance is 0.1
