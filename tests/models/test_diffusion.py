import os
import tempfile

import keras
import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.layers import MultiHeadAttention
from keras_dlparts.models.diffusion import DiffusionModel
from keras_dlparts.models.diffusion import _step_tables
from keras_dlparts.models.diffusion import _target
from keras_dlparts.models.diffusion import _to_x0_eps
from keras_dlparts.models.diffusion_unet import build_diffusion_unet
from keras_dlparts.models.noise_schedule import NoiseSchedule
from keras_dlparts.testing import check_model


@keras.saving.register_keras_serializable(package="keras_dlparts_tests")
class OracleNoise(keras.layers.Layer):
    """The exact noise for a one-point data set (one point per label).

    `eps = (x_t - sqrt(abar_t) x0) / sqrt(1 - abar_t)`, where `x0` is the
    data point of the label (the last row for the "no label" index).
    """

    def __init__(self, points, schedule, **kwargs):
        super().__init__(**kwargs)
        self.points = [list(map(float, p)) for p in points]
        self.schedule = schedule

    def call(self, x_t, t, labels=None):
        s = NoiseSchedule.from_config(self.schedule)
        points = keras.ops.convert_to_tensor(np.array(self.points, "float32"))
        index = keras.ops.zeros_like(t) if labels is None else labels
        x0 = keras.ops.reshape(
            keras.ops.take(points, index, axis=0), (-1,) + tuple(x_t.shape[1:])
        )
        n = len(x_t.shape)
        return (x_t - s.gather("sqrt_alphas_cumprod", t, n) * x0) / s.gather(
            "sqrt_one_minus_alphas_cumprod", t, n
        )

    def get_config(self):
        return {
            **super().get_config(),
            "points": self.points,
            "schedule": self.schedule,
        }


def oracle_model(schedule, points, conditional=False):
    x_t = keras.Input((2, 2, 1))
    t = keras.Input((), dtype="int32")
    inputs = [x_t, t]
    if conditional:
        inputs.append(keras.Input((), dtype="int32"))
    out = OracleNoise(points, schedule.get_config())(*inputs)
    return DiffusionModel(
        keras.Model(inputs, out),
        schedule,
        num_classes=len(points) - 1 if conditional else None,
    )


POINT = [0.5, -0.25, 0.9, -0.8]


@pytest.mark.parametrize(
    "schedule, kwargs",
    [
        (NoiseSchedule("linear", steps=1000), {"sampler": "ddpm"}),
        (NoiseSchedule("cosine", steps=1000), {"sampler": "ddpm", "steps": 50}),
        (NoiseSchedule("linear", steps=1000), {"sampler": "ddim", "steps": 20}),
        (NoiseSchedule("cosine", steps=200), {"sampler": "ddim", "eta": 1.0}),
    ],
)
def test_oracle_sampler_returns_the_one_point(schedule, kwargs):
    model = oracle_model(schedule, [POINT])
    samples = model.generate(16, seed=3, **kwargs)
    expected = np.broadcast_to(np.reshape(POINT, (1, 2, 2, 1)), samples.shape)
    np.testing.assert_allclose(samples, expected, atol=1e-4)


def test_step_tables_equal_the_schedule_posterior():
    s = NoiseSchedule("linear", steps=300)
    tables = _step_tables(s, 300, "ddpm", 0.0)
    np.testing.assert_allclose(
        tables["coef_x0"], s.posterior_mean_coef1, rtol=1e-5
    )
    np.testing.assert_allclose(
        tables["coef_xt"], s.posterior_mean_coef2, rtol=1e-5
    )
    np.testing.assert_allclose(
        tables["sigma"] ** 2, s.posterior_variance, rtol=1e-4, atol=1e-12
    )
    # DDIM with eta=1 has DDPM's noise level; eta=0 is deterministic.
    ddim = _step_tables(s, 300, "ddim", 1.0)
    np.testing.assert_allclose(ddim["sigma"], tables["sigma"], rtol=1e-5)
    assert not _step_tables(s, 300, "ddim", 0.0)["sigma"].any()
    short = _step_tables(s, 10, "ddim", 0.0)["timesteps"]
    assert short[0] == 0 and short[-1] == 299 and len(set(short)) == 10


def test_guidance_identities_and_seeds():
    schedule = NoiseSchedule("linear", steps=50)
    points = [POINT, [-0.5] * 4, [0.1, 0.2, 0.3, 0.4]]  # 2 classes + "none"
    model = oracle_model(schedule, points, conditional=True)
    labels = np.array([0, 1, 0, 1])
    # Guidance scale w: eps_u + w (eps_c - eps_u); w=0 is unconditional.
    uncond = model.generate(4, seed=5, labels=None, sampler="ddim", steps=10)
    w0 = model.generate(
        4, seed=5, labels=labels, guidance_scale=0.0, sampler="ddim", steps=10
    )
    np.testing.assert_allclose(w0, uncond, atol=1e-5)
    np.testing.assert_allclose(
        uncond,
        np.broadcast_to(np.reshape(points[2], (1, 2, 2, 1)), (4, 2, 2, 1)),
        atol=1e-4,
    )
    cond = model.generate(4, seed=5, labels=labels)
    np.testing.assert_allclose(
        cond, np.reshape(np.array(points)[labels], (4, 2, 2, 1)), atol=1e-4
    )
    again = model.generate(4, seed=5, labels=labels)
    np.testing.assert_array_equal(cond, again)


def tiny_digits_model():
    # A label-conditioned U-Net of one level (plus the middle attention
    # block): the U-Net's own test covers the multi-level network; this
    # keeps the traced graph small.
    net = build_diffusion_unet(
        (8, 8, 1),
        base_filters=8,
        channel_multipliers=(1,),
        num_res_blocks=1,
        attention_resolutions=(),
        num_classes=10,
        groups=4,
    )
    return DiffusionModel(
        net,
        NoiseSchedule("linear", steps=100),
        num_classes=10,
        data_range=(0.0, 1.0),
        seed=0,
    )


def compile_fn(model, jit_compile):
    model.compile(
        optimizer=keras.optimizers.Adam(3e-3), jit_compile=jit_compile
    )


def small_digits_model():
    """A conditional DiffusionModel around `small_conditional_network`."""
    return DiffusionModel(
        small_conditional_network(),
        NoiseSchedule("linear", steps=100),
        num_classes=10,
        data_range=(0.0, 1.0),
        seed=0,
        ema_decay=0.9,  # the averages go through the contract too
    )


@pytest.mark.slow
def test_contract_on_digits():
    # The contract of DiffusionModel itself (its train step, averages,
    # saving, distribution, mixed precision) around a small network: the
    # U-Net has its own contract (test_diffusion_unet.py) and trains inside
    # DiffusionModel in test_loss_falls_save_reload_and_keep_training. Ten
    # compiles of a U-Net's step took 3.5 minutes on the floor JAX.
    (x, y), _ = load_digits()
    check_model(
        small_digits_model,
        (x[:32], y[:32]),
        None,
        compile_fn=compile_fn,
        epochs=8,
        batch_size=16,
    )


@pytest.mark.slow
def test_loss_falls_save_reload_and_keep_training():
    (x, y), _ = load_digits()
    x, y = x[:128], y[:128]
    model = tiny_digits_model()
    compile_fn(model, "auto")
    before = model.evaluate((x, y), batch_size=64, verbose=0)
    model.fit((x, y), epochs=6, batch_size=32, verbose=0)
    after = model.evaluate((x, y), batch_size=64, verbose=0)
    assert after < 0.8 * before
    samples = model.generate(
        4, seed=7, labels=[0, 1, 2, 3], steps=5, sampler="ddim"
    )
    other = model.generate(
        4, seed=8, labels=[0, 1, 2, 3], steps=5, sampler="ddim"
    )
    assert np.abs(samples - other).max() > 1e-3  # the seed decides the noise
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ddpm.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded.schedule, NoiseSchedule)
    assert reloaded.schedule.get_config() == model.schedule.get_config()
    np.testing.assert_allclose(
        reloaded.evaluate((x, y), batch_size=64, verbose=0), after, rtol=1e-5
    )
    np.testing.assert_allclose(
        reloaded.generate(
            4, seed=7, labels=[0, 1, 2, 3], steps=5, sampler="ddim"
        ),
        samples,
        atol=1e-5,
    )
    reloaded.fit((x, y), epochs=2, batch_size=32, verbose=0)
    assert reloaded.evaluate((x, y), batch_size=64, verbose=0) < after


@pytest.mark.slow
def test_bad_arguments():
    schedule = NoiseSchedule("linear", steps=10)
    model = oracle_model(schedule, [POINT])
    for kwargs, match in [
        ({"n": 0}, "`n`"),
        ({"n": 2, "steps": 11}, "steps"),
        ({"n": 2, "sampler": "euler"}, "sampler"),
        ({"n": 2, "labels": 1}, "labels"),
        ({"n": 2, "eta": -1.0}, "eta"),
    ]:
        with pytest.raises(ValueError, match=match):
            model.generate(**kwargs)
    for kwargs, match in [
        ({"n": 2.5}, "`n`"),
        ({"n": 2, "steps": "x"}, "steps"),
    ]:
        with pytest.raises(TypeError, match=match):
            model.generate(**kwargs)
    with pytest.raises(ValueError, match="num_classes"):
        DiffusionModel(model.network, schedule, num_classes=3)
    with pytest.raises(ValueError, match="label_dropout"):
        DiffusionModel(model.network, schedule, label_dropout=1.0)
    with pytest.raises(ValueError, match="data_range"):
        DiffusionModel(model.network, schedule, data_range=(1.0, 0.0))
    with pytest.raises(TypeError, match="schedule"):
        DiffusionModel(model.network, "linear")
    with pytest.raises(ValueError, match="ema_decay"):
        DiffusionModel(model.network, schedule, ema_decay=1.0)
    with pytest.raises(TypeError, match="use_ema"):
        oracle_model(schedule, [POINT]).generate(2, use_ema="yes")
    with pytest.raises(ValueError, match="use_ema"):
        model.generate(2, use_ema=True)  # no ema_decay, no averages
    ema = DiffusionModel(model.network, schedule, ema_decay=0.5)
    assert DiffusionModel.from_config(ema.get_config()).ema_decay == 0.5
    # Before any step the averages are the weights: the same samples.
    np.testing.assert_array_equal(
        ema.generate(2, seed=0, steps=3), model.generate(2, seed=0, steps=3)
    )
    cond = oracle_model(schedule, [POINT, POINT], conditional=True)
    with pytest.raises(ValueError, match="labels"):
        cond.generate(2, labels=[0, 5])
    x = np.zeros((2, 2, 2, 1), "float32")
    cond.compile()
    with pytest.raises(ValueError, match="labels"):
        cond.fit(x, epochs=1, verbose=0)  # a conditional model needs labels
    # Called on x alone it predicts with the "no label" class (num_classes).
    null = np.full((2,), cond.num_classes, "int32")
    for a, b in zip(
        keras.tree.flatten(cond(x)), keras.tree.flatten(cond((x, null)))
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    with pytest.raises(ValueError, match="labels"):
        cond.generate(3, labels=[0, 1])


def small_conditional_network():
    """[x_t, t, labels] -> noise for 8x8 images, far smaller than a U-Net."""
    x_t = keras.Input((8, 8, 1))
    t = keras.Input((), dtype="int32")
    labels = keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()(
        [
            keras.layers.Flatten()(x_t),
            keras.layers.Embedding(100, 4)(t),
            keras.layers.Embedding(11, 4)(labels),  # 10 classes and "no label"
        ]
    )
    noise = keras.layers.Dense(64)(keras.layers.Dense(16, activation="relu")(h))
    return keras.Model([x_t, t, labels], keras.layers.Reshape((8, 8, 1))(noise))


def test_compile_builds_the_optimizer_for_every_weight():
    # Built at compile, the optimizer's variables are not created while
    # fit traces its first step (which TensorFlow would trace twice).
    model = tiny_digits_model()
    compile_fn(model, "auto")
    assert model.optimizer.built
    # Adam: a momentum and a velocity for each trainable weight.
    assert len(model.optimizer.variables) >= 2 * len(model.trainable_variables)
    # Compiled again with its own optimizer, the optimizer keeps its state.
    slot = model.optimizer.variables[-1]
    slot.assign(np.ones(slot.shape, "float32"))
    model.compile(optimizer=model.optimizer)
    assert model.optimizer.variables[-1] is slot
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(slot.value), 1.0)


@pytest.mark.slow
def test_fit_x_labels_equals_fit_tuple():
    """`fit(x, labels)` and `fit((x, labels))` take the same steps."""
    (x, y), _ = load_digits()
    x, y = x[:16], y[:16]
    weights = []
    for data in ((x, y), ((x, y),)):
        keras.utils.set_random_seed(0)
        model = DiffusionModel(
            small_conditional_network(),
            NoiseSchedule("linear", steps=100),
            num_classes=10,
            data_range=(0.0, 1.0),
            seed=0,
        )
        compile_fn(model, "auto")  # the unpacking is the point, not XLA
        model.fit(*data, epochs=1, batch_size=8, shuffle=False, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------
# Prediction targets (epsilon, v, sample) and DPM-Solver++(2M).
# ----------------------------------------------------------------------


def np_x0_eps(prediction, out, x_t, abar):
    """(x0, eps) from a prediction, from the formulas (float64)."""
    a, s = np.sqrt(abar), np.sqrt(1.0 - abar)
    if prediction == "epsilon":
        return (x_t - s * out) / a, out
    if prediction == "v":  # v = a eps - s x0 (Salimans and Ho, 2022)
        return a * x_t - s * out, s * x_t + a * out
    return out, (x_t - a * out) / s


@keras.saving.register_keras_serializable(package="keras_dlparts_tests")
class LinearFake(keras.layers.Layer):
    """A fixed fake network: `0.5 x_t + (t / T) c (+ 0.2 label)`."""

    def __init__(self, total, **kwargs):
        super().__init__(**kwargs)
        self.total = total

    def call(self, x_t, t, labels=None):
        c = keras.ops.convert_to_tensor(
            np.reshape([0.3, -0.6, 0.9, 0.1], (1, 2, 2, 1)).astype("float32")
        )
        ts = keras.ops.reshape(keras.ops.cast(t, "float32"), (-1, 1, 1, 1))
        out = 0.5 * x_t + ts / self.total * c
        if labels is not None:
            lab = keras.ops.cast(labels, "float32")
            out = out + 0.2 * keras.ops.reshape(lab, (-1, 1, 1, 1))
        return out

    def get_config(self):
        return {**super().get_config(), "total": self.total}


def np_linear_fake(x_t, t, total, label=None):
    c = np.reshape([0.3, -0.6, 0.9, 0.1], (1, 2, 2, 1))
    out = 0.5 * x_t + t / total * c
    return out if label is None else out + 0.2 * label


def fake_model(schedule, prediction, conditional=False, clip=True):
    x_t = keras.Input((2, 2, 1))
    t = keras.Input((), dtype="int32")
    inputs = [x_t, t]
    if conditional:
        inputs.append(keras.Input((), dtype="int32"))
    out = LinearFake(schedule.steps)(*inputs)
    return DiffusionModel(
        keras.Model(inputs, out),
        schedule,
        num_classes=2 if conditional else None,
        clip_denoised=clip,
        prediction=prediction,
    )


def np_dpmpp_2m(x, abar, timesteps, predict, clip):
    """Algorithm 2 of Lu et al. (2022), data prediction, float64.

    `timesteps` descending (the last is 0); first order at the first step,
    into t = 0 and from there to abar = 1 (sigma = 0: returns x0_hat).
    """
    alpha = np.sqrt(abar)
    sigma = np.sqrt(1.0 - abar)
    lam = np.log(alpha / sigma)
    x0_prev, h_prev = None, None
    for i, t in enumerate(timesteps):
        x0 = predict(x, t)
        if clip:
            x0 = np.clip(x0, -1.0, 1.0)
        if i == len(timesteps) - 1:
            return x0  # sigma_next = 0: x_next = alpha_next * D = x0
        t_next = timesteps[i + 1]
        h = lam[t_next] - lam[t]
        if x0_prev is None or t_next == 0:
            d = x0
        else:
            r = h_prev / h
            d = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * x0_prev
        x = sigma[t_next] / sigma[t] * x - alpha[t_next] * np.expm1(-h) * d
        x0_prev, h_prev = x0, h


@pytest.mark.parametrize("prediction", ["epsilon", "v", "sample"])
@pytest.mark.parametrize("guided", [False, True])
@pytest.mark.slow
def test_dpmpp_2m_follows_algorithm_2(prediction, guided):
    schedule = NoiseSchedule("cosine", steps=100)
    model = fake_model(schedule, prediction, conditional=guided)
    n, steps, w, seed = 3, 8, 2.5, 4
    labels = np.array([0, 1, 0]) if guided else None
    kwargs = {"labels": labels, "guidance_scale": w} if guided else {}
    got = model.generate(
        n,
        seed=seed,
        steps=steps,
        sampler="dpmpp_2m",
        jit_compile=False,  # x_T is drawn eagerly below: no XLA random
        **kwargs,
    )
    seed_pair = np.array([seed, 0], model._sampling_seed.state.dtype)
    x_T = np.asarray(model._normal((n, 2, 2, 1), seed_pair)[0], "float64")
    abar = schedule.alphas_cumprod
    timesteps = _step_tables(schedule, steps, "dpmpp_2m", 0.0)["timesteps"]

    def predict(x, t):
        if guided:
            cond = np_linear_fake(x, t, 100, labels.reshape(-1, 1, 1, 1))
            null = np_linear_fake(x, t, 100, 2)
            out = null + w * (cond - null)
        else:
            out = np_linear_fake(x, t, 100)
        return np_x0_eps(prediction, out, x, abar[t])[0]

    want = np_dpmpp_2m(x_T, abar, timesteps[::-1], predict, clip=True)
    np.testing.assert_allclose(got, np.clip(want, -1, 1), atol=1e-5)
    # Not only the final clip agrees: most values lie inside (-1, 1).
    assert np.mean(np.abs(want) < 0.999) >= 0.3


@keras.saving.register_keras_serializable(package="keras_dlparts_tests")
class OracleTarget(OracleNoise):
    """The exact `v` or `x0` of a one-point data set, from its noise."""

    def __init__(self, points, schedule, prediction, **kwargs):
        super().__init__(points, schedule, **kwargs)
        self.prediction = prediction

    def call(self, x_t, t):
        eps = super().call(x_t, t)
        s = NoiseSchedule.from_config(self.schedule)
        a = s.gather("sqrt_alphas_cumprod", t, 4)
        b = s.gather("sqrt_one_minus_alphas_cumprod", t, 4)
        x0 = (x_t - b * eps) / a
        return a * eps - b * x0 if self.prediction == "v" else x0

    def get_config(self):
        return {**super().get_config(), "prediction": self.prediction}


@pytest.mark.parametrize("sampler", ["ddpm", "ddim", "dpmpp_2m"])
@pytest.mark.parametrize("prediction", ["v", "sample"])
@pytest.mark.slow
def test_every_sampler_and_prediction_find_the_one_point(sampler, prediction):
    schedule = NoiseSchedule("linear", steps=200)
    x_t = keras.Input((2, 2, 1))
    t = keras.Input((), dtype="int32")
    out = OracleTarget([POINT], schedule.get_config(), prediction)(x_t, t)
    model = DiffusionModel(
        keras.Model([x_t, t], out), schedule, prediction=prediction
    )
    samples = model.generate(8, seed=1, steps=20, sampler=sampler)
    expected = np.broadcast_to(np.reshape(POINT, (1, 2, 2, 1)), samples.shape)
    np.testing.assert_allclose(samples, expected, atol=1e-4)


def numpy_ema(trajectory, decay):
    """Update k: ema = d_k ema + (1 - d_k) w, d_0 = 0, warm-up after."""
    ema = None
    for k, weights in enumerate(trajectory):
        d = 0.0 if k == 0 else min(decay, (1.0 + k) / (10.0 + k))
        ema = [
            w if ema is None else d * e + (1 - d) * w
            for e, w in zip(ema or weights, weights)
        ]
    return ema


def ema_twin(model, weights):
    """A model without EMA whose network holds `weights`."""
    network = keras.models.clone_model(model.network)
    for v, w in zip(network.trainable_variables, weights):
        v.assign(w)
    config = {**model.get_config(), "ema_decay": None}
    config.pop("network")
    return DiffusionModel(network, **config)


@pytest.mark.slow  # six sampling loops compiled: 4 s idle, 20 s loaded
def test_ema_follows_numpy_samples_with_it_and_reloads():
    (x, y), _ = load_digits()
    x, y = x[:16], y[:16]
    keras.utils.set_random_seed(0)
    model = DiffusionModel(
        small_conditional_network(),
        NoiseSchedule("linear", steps=100),
        num_classes=10,
        data_range=(0.0, 1.0),
        seed=0,
        ema_decay=0.9,
    )
    network = model.network
    initial = [v.numpy() for v in network.trainable_variables]
    for a, b in zip(model._ema.averages, initial):
        np.testing.assert_array_equal(a.numpy(), b)  # before any step
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    trajectory = []
    for _ in range(4):  # one step per fit, the weights recorded after each
        model.fit((x, y), epochs=1, batch_size=16, verbose=0)
        trajectory.append([v.numpy() for v in network.trainable_variables])
    expected = numpy_ema(trajectory, 0.9)
    for a, b in zip(model._ema.averages, expected):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-6)
    assert int(model._ema.count.numpy()) == 4

    kwargs = {"seed": 1, "labels": [0, 1, 2, 3], "steps": 4}
    kwargs["sampler"] = "ddim"
    raw = trajectory[-1]
    with_ema = model.generate(4, **kwargs)  # use_ema defaults to True
    without = model.generate(4, use_ema=False, **kwargs)
    for v, w in zip(network.trainable_variables, raw):
        np.testing.assert_array_equal(v.numpy(), w)  # weights put back
    np.testing.assert_allclose(
        without, ema_twin(model, raw).generate(4, **kwargs), atol=1e-5
    )
    np.testing.assert_allclose(
        with_ema, ema_twin(model, expected).generate(4, **kwargs), atol=1e-5
    )
    assert np.abs(with_ema - without).max() > 1e-4

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "ema.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
        weights_path = os.path.join(tmp, "ema.weights.h5")
        model.save_weights(weights_path)
        fresh = DiffusionModel.from_config(model.get_config())
        fresh.load_weights(weights_path)
    assert reloaded.ema_decay == 0.9
    for other in (reloaded, fresh):
        for a, b in zip(other._ema.averages, model._ema.averages):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        np.testing.assert_allclose(
            other.generate(4, **kwargs), with_ema, atol=1e-5
        )
    old = model.get_config()
    del old["ema_decay"]  # saved before the argument existed
    assert DiffusionModel.from_config(old).ema_decay is None
    with pytest.raises(ValueError, match="use_ema"):
        ema_twin(model, raw).generate(4, use_ema=True, **kwargs)


@pytest.mark.parametrize("prediction", ["epsilon", "v", "sample"])
def test_targets_and_conversions_against_numpy(prediction):
    rng = np.random.default_rng(0)
    x0, eps = rng.normal(size=(2, 5, 3))
    abar = rng.uniform(0.01, 0.99, size=(5, 1))
    a, s = np.sqrt(abar), np.sqrt(1 - abar)
    x_t = a * x0 + s * eps
    want = {"epsilon": eps, "v": a * eps - s * x0, "sample": x0}[prediction]
    target = _target(prediction, x0, eps, a, s)
    np.testing.assert_allclose(np.asarray(target), want, atol=1e-6)
    got = _to_x0_eps(
        prediction, *(keras.ops.convert_to_tensor(v) for v in (want, x_t, a, s))
    )
    np.testing.assert_allclose(np.asarray(got[0]), x0, atol=1e-5)
    np.testing.assert_allclose(np.asarray(got[1]), eps, atol=1e-5)
    for g, w in zip(got, np_x0_eps(prediction, want, x_t, abar)):
        np.testing.assert_allclose(np.asarray(g), w, atol=1e-5)


@pytest.mark.parametrize("prediction", ["epsilon", "v", "sample"])
@pytest.mark.slow
def test_call_returns_the_training_target_of_each_mode(prediction):
    schedule = NoiseSchedule("cosine", steps=100)
    model = fake_model(schedule, prediction)
    x = np.random.default_rng(1).uniform(-1, 1, (4, 2, 2, 1))
    out = {k: np.asarray(v) for k, v in model(x).items()}
    # training=False draws t and the noise from the fixed seeds 11 and 12.
    t = np.asarray(keras.random.randint((4,), 0, 100, "int32", seed=11))
    noise = np.asarray(keras.random.normal((4, 2, 2, 1), seed=12))
    abar = schedule.alphas_cumprod[t].reshape(-1, 1, 1, 1)
    x_t = np.sqrt(abar) * x + np.sqrt(1 - abar) * noise
    a, s = np.sqrt(abar), np.sqrt(1 - abar)
    target = {"epsilon": noise, "v": a * noise - s * x, "sample": x}
    np.testing.assert_allclose(out["noise"], noise, atol=1e-6)
    np.testing.assert_allclose(out["target"], target[prediction], atol=1e-5)
    predicted = np_linear_fake(x_t, t.reshape(-1, 1, 1, 1), 100)
    np.testing.assert_allclose(out["prediction"], predicted, atol=1e-5)
    np.testing.assert_allclose(
        out["predicted_noise"],
        np_x0_eps(prediction, predicted, x_t, abar)[1],
        rtol=1e-4,
        atol=1e-4,
    )
    model.compile()
    loss = model.evaluate(x, verbose=0)
    mse = np.mean((out["target"] - out["prediction"]) ** 2)
    np.testing.assert_allclose(loss, mse, rtol=1e-5)


def small_network():
    x_t = keras.Input((8, 8, 1))
    t = keras.Input((), dtype="int32")
    h = keras.layers.Concatenate()(
        [keras.layers.Flatten()(x_t), keras.layers.Embedding(100, 4)(t)]
    )
    out = keras.layers.Dense(64)(keras.layers.Dense(32, activation="relu")(h))
    return keras.Model([x_t, t], keras.layers.Reshape((8, 8, 1))(out))


@pytest.mark.parametrize("prediction", ["v", "sample"])
@pytest.mark.slow
def test_fit_lowers_the_loss_and_reloads(prediction):
    (x, _), _ = load_digits()
    x = x[:64]
    keras.utils.set_random_seed(0)
    model = DiffusionModel(
        small_network(),
        NoiseSchedule("linear", steps=100),
        data_range=(0.0, 1.0),
        seed=0,
        prediction=prediction,
    )
    compile_fn(model, "auto")
    before = model.evaluate(x, verbose=0)
    model.fit(x, epochs=8, batch_size=16, verbose=0)
    after = model.evaluate(x, verbose=0)
    assert after < 0.8 * before
    samples = model.generate(3, seed=2, steps=4, sampler="dpmpp_2m")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "v.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
    assert reloaded.prediction == prediction
    np.testing.assert_allclose(
        reloaded.evaluate(x, verbose=0), after, rtol=1e-5
    )
    np.testing.assert_allclose(
        reloaded.generate(3, seed=2, steps=4, sampler="dpmpp_2m"),
        samples,
        atol=1e-5,
    )


def test_old_configs_load_as_epsilon():
    model = oracle_model(NoiseSchedule("linear", steps=10), [POINT])
    config = model.get_config()
    assert config["prediction"] == "epsilon"
    del config["prediction"]
    assert DiffusionModel.from_config(config).prediction == "epsilon"
    with pytest.raises(ValueError, match="prediction"):
        DiffusionModel(model.network, prediction="x0")
    with pytest.raises(ValueError, match="prediction"):
        DiffusionModel(model.network, prediction=None)


@keras.saving.register_keras_serializable(package="keras_dlparts_tests")
class GaussianNoiseOracle(keras.layers.Layer):
    """E[eps | x_t] for data N(mu, std^2 I): the exact noise predictor.

    `x_t ~ N(a mu, a^2 std^2 + s^2)`, so `E[eps | x_t] = s (x_t - a mu) /
    (a^2 std^2 + s^2)` with `a = sqrt(abar_t)`, `s = sqrt(1 - abar_t)`.
    """

    def __init__(self, mu, std, schedule, **kwargs):
        super().__init__(**kwargs)
        self.mu, self.std, self.schedule = mu, std, schedule

    def call(self, x_t, t):
        s = NoiseSchedule.from_config(self.schedule)
        a = s.gather("sqrt_alphas_cumprod", t, 4)
        b = s.gather("sqrt_one_minus_alphas_cumprod", t, 4)
        return b * (x_t - a * self.mu) / (a**2 * self.std**2 + b**2)

    def get_config(self):
        return {
            **super().get_config(),
            "mu": self.mu,
            "std": self.std,
            "schedule": self.schedule,
        }


@pytest.mark.parametrize("steps", [10, 20])
def test_dpmpp_2m_solves_the_flow_better_than_ddim(steps):
    """Gaussian data: the probability-flow ODE keeps `(x_t - a mu) /
    sqrt(a^2 std^2 + s^2)` constant, so each start `x_T` has an exact
    end `mu + std (x_T - a_T mu) / sqrt(a_T^2 std^2 + s_T^2)`."""
    schedule = NoiseSchedule("cosine", steps=1000)
    mu, std, n, seed = 0.0, 0.5, 64, 9
    x_t = keras.Input((2, 2, 1))
    t = keras.Input((), dtype="int32")
    out = GaussianNoiseOracle(mu, std, schedule.get_config())(x_t, t)
    model = DiffusionModel(
        keras.Model([x_t, t], out), schedule, clip_denoised=False
    )
    seed_pair = np.array([seed, 0], model._sampling_seed.state.dtype)
    x_T = np.asarray(model._normal((n, 2, 2, 1), seed_pair)[0], "float64")
    abar = schedule.alphas_cumprod[-1]
    exact = mu + std * (x_T - np.sqrt(abar) * mu) / np.sqrt(
        abar * std**2 + 1 - abar
    )
    inside = np.abs(exact) < 0.95  # generate clips to data_range
    errors = {}
    for sampler in ("ddim", "dpmpp_2m"):
        got = model.generate(
            n, seed=seed, steps=steps, sampler=sampler, jit_compile=False
        )
        errors[sampler] = np.sqrt(np.mean((got - exact)[inside] ** 2))
    assert errors["dpmpp_2m"] < 0.5 * errors["ddim"]


# ----------------------------------------------------------------------
# Conditioning on a context sequence (cross-attention networks).


@keras.saving.register_keras_serializable(package="keras_dlparts_tests")
class ContextOracleNoise(keras.layers.Layer):
    """The exact noise when `x0` is the mean of the visible context tokens.

    Tokens are 4-vectors (one 2x2 image each); the null context (zeros)
    stands for the point 0.
    """

    def call(self, x_t, t, context, mask):
        s = NoiseSchedule("linear", steps=50)
        mask = keras.ops.cast(mask, "float32")[..., None]
        x0 = keras.ops.sum(context * mask, 1) / keras.ops.maximum(
            keras.ops.sum(mask, 1), 1.0
        )
        x0 = keras.ops.reshape(x0, (-1, 2, 2, 1))
        return (x_t - s.gather("sqrt_alphas_cumprod", t, 4) * x0) / s.gather(
            "sqrt_one_minus_alphas_cumprod", t, 4
        )


def context_oracle_model():
    inputs = [
        keras.Input((2, 2, 1)),
        keras.Input((), dtype="int32"),
        keras.Input((3, 4)),
        keras.Input((3,)),
    ]
    return DiffusionModel(
        keras.Model(inputs, ContextOracleNoise()(*inputs)),
        NoiseSchedule("linear", steps=50),
    )


def test_context_guidance_follows_the_cfg_formula_and_the_mask():
    model = context_oracle_model()
    assert model.context_shape == (3, 4) and model.context_mask
    context = np.zeros((2, 3, 4), "float32")
    context[:, 0] = [0.2, -0.1, 0.3, 0.0]
    context[:, 1] = [0.0, -0.3, 0.1, 0.2]
    context[1, 2] = 9.0  # padding: masked below
    mask = np.array([[True, True, False], [True, True, False]])
    point = np.reshape((context[0, 0] + context[0, 1]) / 2, (1, 2, 2, 1))
    kwargs = {"seed": 1, "sampler": "ddim", "steps": 10, "jit_compile": False}
    # Guided eps_u + w (eps_c - eps_u) is the oracle of x0 = w * point (the
    # null context is the point 0); masked positions change nothing.
    for w in (0.0, 1.0, 2.5):
        samples = model.generate(
            2, context=context, context_mask=mask, guidance_scale=w, **kwargs
        )
        np.testing.assert_allclose(
            samples, np.broadcast_to(w * point, samples.shape), atol=1e-4
        )
    # One context for every sample; None: the null context (the point 0).
    np.testing.assert_allclose(
        model.generate(2, context=context[0], context_mask=mask[0], **kwargs),
        np.broadcast_to(point, (2, 2, 2, 1)),
        atol=1e-4,
    )
    np.testing.assert_allclose(model.generate(2, **kwargs), 0.0, atol=1e-4)


def small_context_network():
    """[x_t, t, context (2, 3), mask] -> noise via one cross-attention."""
    x_t = keras.Input((8, 8, 1))
    t = keras.Input((), dtype="int32")
    context = keras.Input((2, 3))
    mask = keras.Input((2,))
    h = keras.layers.Concatenate()(
        [keras.layers.Flatten()(x_t), keras.layers.Embedding(100, 4)(t)]
    )
    query = keras.layers.Reshape((1, 8))(keras.layers.Dense(8)(h))
    # Ours: Keras's own layer replaces `value_mask` with the Keras mask.
    attended = MultiHeadAttention(1, 8)(query, context, value_mask=mask)
    h = keras.layers.Concatenate()([h, keras.layers.Flatten()(attended)])
    out = keras.layers.Dense(64)(keras.layers.Dense(32, activation="relu")(h))
    return keras.Model(
        [x_t, t, context, mask], keras.layers.Reshape((8, 8, 1))(out)
    )


def digit_contexts(y):
    """A two-token context: `[1, y / 9, 0]` and the parity `[0, odd, even]`."""
    context = np.zeros((len(y), 2, 3), "float32")
    context[:, 0, 0] = 1.0
    context[:, 0, 1] = y / 9.0
    context[np.arange(len(y)), 1, 2 - y % 2] = 1.0
    return context


@pytest.mark.slow  # 4 s on TensorFlow, 18 s on JAX (idle 2-core VM)
def test_fit_with_context_lowers_the_loss_and_reloads():
    (x, y), _ = load_digits()
    x, context = x[:64], digit_contexts(y[:64])
    mask = np.ones((64, 2), bool)
    mask[::2, 1] = False  # parity hidden on every other example
    keras.utils.set_random_seed(0)
    model = DiffusionModel(
        small_context_network(),
        NoiseSchedule("linear", steps=100),
        data_range=(0.0, 1.0),
        seed=0,
        prediction="v",
    )
    compile_fn(model, "auto")
    before = model.evaluate((x, (context, mask)), verbose=0)
    model.fit(x, (context, mask), epochs=8, batch_size=16, verbose=0)
    after = model.evaluate((x, (context, mask)), verbose=0)
    assert after < 0.8 * before
    kwargs = {
        "seed": 2,
        "steps": 4,
        "sampler": "ddim",
        "guidance_scale": 2.0,
        "jit_compile": False,
    }
    samples = model.generate(3, context=context[:3], **kwargs)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "context.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
    assert reloaded.context_shape == (2, 3) and reloaded.context_mask
    # The same weights: the same (fixed-seed) predictions, in eager mode
    # (no second sampling loop to compile).
    batch = (x[:4], (context[:4], mask[:4]))
    np.testing.assert_allclose(
        np.asarray(reloaded(batch)["prediction"]),
        np.asarray(model(batch)["prediction"]),
        atol=1e-5,
    )
    # Without a mask every position is visible; with one, not.
    masked = model.generate(
        3, context=context[:3], context_mask=mask[:3], **kwargs
    )
    assert np.abs(masked[0] - samples[0]).max() > 1e-4  # parity hidden
    np.testing.assert_allclose(masked[1], samples[1], atol=1e-5)


def test_bad_context_arguments():
    model = context_oracle_model()
    x = np.zeros((2, 2, 2, 1), "float32")
    context = np.zeros((2, 3, 4), "float32")
    with pytest.raises(ValueError, match="num_classes"):
        DiffusionModel(model.network, num_classes=3)
    for kwargs, match in [
        ({"context": np.zeros((2, 3, 5))}, "context"),
        ({"context": np.zeros((3, 3, 4))}, "context"),
        ({"context": context, "context_mask": np.ones((2, 4))}, "mask"),
        ({"labels": [0, 1]}, "labels"),
    ]:
        with pytest.raises(ValueError, match=match):
            model.generate(2, **kwargs)
    with pytest.raises(ValueError, match="context"):
        model((x, np.zeros((2, 3))))  # rank 2
    with pytest.raises(ValueError, match="context"):
        model((x, np.zeros((2, 3, 5))))  # wrong dim
    with pytest.raises(ValueError, match="context_mask"):
        model((x, (context, np.ones((2, 2), bool))))
    model.compile()
    with pytest.raises(ValueError, match="context"):
        model.fit(x, epochs=1, verbose=0)
    # Called on x alone: the null context, every position visible.
    null = (np.zeros_like(context), np.ones((2, 3), "float32"))
    for a, b in zip(
        keras.tree.flatten(model(x)), keras.tree.flatten(model((x, null)))
    ):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    labelled = oracle_model(NoiseSchedule("linear", steps=10), [POINT])
    with pytest.raises(ValueError, match="context"):
        labelled.generate(2, context=context)
    no_mask = keras.Model(
        model.network.inputs[:3],
        keras.layers.Reshape((2, 2, 1))(
            keras.layers.Dense(4)(
                keras.layers.Flatten()(model.network.inputs[2])
            )
        ),
    )
    with pytest.raises(ValueError, match="context_mask"):
        DiffusionModel(no_mask).generate(
            2, context=context, context_mask=np.ones((2, 3), bool)
        )
