import os
import tempfile

import keras
import numpy as np
import pytest
from support.backend import jit

from keras_dlparts.data import load_digits
from keras_dlparts.models import RBM
from keras_dlparts.testing import check_model


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _numpy_cd(v0, w, b, c, noise, k):
    """CD-k written from the equations, with the given uniform draws."""
    h0 = _sigmoid(v0 @ w + c)
    h, vk = (noise[0] < h0).astype("float64"), v0
    for step in range(k):
        vk = (noise[2 * step + 1] < _sigmoid(h @ w.T + b)).astype("float64")
        hk = _sigmoid(vk @ w + c)
        if step + 1 < k:
            h = (noise[2 * step + 2] < hk).astype("float64")
    n = len(v0)
    return (v0.T @ h0 - vk.T @ hk) / n, (v0 - vk).mean(0), (h0 - hk).mean(0)


def _built(visible=6, hidden=4, k=1, seed=0):
    rng = np.random.default_rng(seed)
    model = RBM(hidden, k=k, seed=seed)
    model.build((None, visible))
    model.kernel.assign(rng.normal(0, 0.5, (visible, hidden)).astype("float32"))
    model.visible_bias.assign(rng.normal(0, 0.5, visible).astype("float32"))
    model.hidden_bias.assign(rng.normal(0, 0.5, hidden).astype("float32"))
    v0 = (rng.random((5, visible)) > 0.5).astype("float32")
    return model, v0


def _weights(model):
    return [
        v.numpy().astype("float64")
        for v in (model.kernel, model.visible_bias, model.hidden_bias)
    ]


def _binary_data(n=32, visible=12, seed=0):
    return (np.random.default_rng(seed).random((n, visible)) > 0.5).astype(
        "float32"
    )


@pytest.mark.slow
def test_contract():
    check_model(
        lambda: RBM(8, seed=0),
        _binary_data(),
        compile_fn=lambda m, jit: m.compile(jit_compile=jit),
        batch_size=16,
    )


@pytest.mark.parametrize("k", [1, 3])
def test_cd_k_gradient_equals_numpy_with_the_same_draws(k):
    model, v0 = _built(k=k)
    rng = np.random.default_rng(9)
    shapes = [(5, 4), (5, 6)] * k
    noise = [rng.random(s).astype("float32") for s in shapes]
    gradients, _ = model.contrastive_divergence(v0, noise=noise)
    w, b, c = _weights(model)
    expected = _numpy_cd(v0.astype("float64"), w, b, c, noise, k)
    for got, want in zip(gradients, expected):
        np.testing.assert_allclose(-np.asarray(got), want, atol=1e-5)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
def test_one_fit_step_is_one_cd1_update_with_sgd(jit_compile):
    # The same numbers on every backend: each is checked against NumPy.
    model, v0 = _built(seed=3)
    lr = 0.5
    model.compile(optimizer=keras.optimizers.SGD(lr), jit_compile=jit_compile)
    w, b, c = _weights(model)
    # The train step draws from a SeedGenerator seeded like the model's:
    # first the hidden states (batch, hidden), then the visible ones. Draw
    # them compiled like fit (TensorFlow's XLA draws differ from its
    # kernels').
    generator = keras.random.SeedGenerator(3)

    def draw(state):
        with keras.StatelessScope(state_mapping=[(generator.state, state)]):
            return [
                keras.random.uniform(s, seed=generator)
                for s in [(5, 4), (5, 6)]
            ]

    if jit_compile:
        draw = jit(draw)
    noise = [keras.ops.convert_to_numpy(n) for n in draw(generator.state.value)]
    model.fit(v0, batch_size=5, epochs=1, shuffle=False, verbose=0)
    dw, db, dc = _numpy_cd(v0.astype("float64"), w, b, c, noise, 1)
    for got, want in zip(
        _weights(model), (w + lr * dw, b + lr * db, c + lr * dc)
    ):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.slow
def test_seeded_runs_repeat():
    x = _binary_data()

    def run():
        keras.utils.set_random_seed(5)
        model = RBM(8, k=2, seed=5)
        model.compile(optimizer=keras.optimizers.Adam(0.01))
        history = model.fit(x, batch_size=8, epochs=2, verbose=0)
        return history.history, model.get_weights()

    (history, weights), (again, weights_again) = run(), run()
    assert history == again
    for w, w_again in zip(weights, weights_again):
        np.testing.assert_array_equal(w, w_again)


def test_mixed_float16_scales_the_cd_gradients():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model, v0 = _built(seed=3)
    finally:
        keras.config.set_dtype_policy(previous)
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    reference, _ = _built(seed=3)
    reference.compile(optimizer=keras.optimizers.SGD(0.5))
    for m in (model, reference):
        m.fit(v0, batch_size=5, epochs=1, shuffle=False, verbose=0)
    # The chain runs in float32; the gradients are scaled by a power of
    # two, then unscaled by the loss-scale optimizer: the same step.
    for got, want in zip(_weights(model), _weights(reference)):
        np.testing.assert_allclose(got, want, atol=1e-6)
    assert int(model.optimizer.iterations) == 1


def test_free_energy_reconstruction_and_sampling():
    model, v0 = _built()
    w, b, c = _weights(model)
    v = v0.astype("float64")
    free = -v @ b - np.log1p(np.exp(v @ w + c)).sum(-1)
    np.testing.assert_allclose(
        np.asarray(model.free_energy(v0)), free, atol=1e-5
    )
    recon = _sigmoid(_sigmoid(v @ w + c) @ w.T + b)
    np.testing.assert_allclose(
        np.asarray(model.reconstruct(v0)), recon, atol=1e-6
    )
    np.testing.assert_allclose(np.asarray(model(v0)), recon, atol=1e-6)
    samples = np.asarray(model.sample(v0, steps=3))
    assert samples.shape == v0.shape and set(np.unique(samples)) <= {0.0, 1.0}
    again, _ = _built()
    np.testing.assert_array_equal(
        np.asarray(again.sample(v0, steps=3)), samples
    )


@pytest.mark.slow
def test_reconstruction_error_falls_on_binarised_digits():
    (x, _), (x_test, _) = load_digits(as_images=False)
    x, x_test = (x > 0.5).astype("float32"), (x_test > 0.5).astype("float32")
    model = RBM(64, seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    before = model.evaluate(x_test, batch_size=128, verbose=0)
    history = model.fit(x, batch_size=32, epochs=8, verbose=0)
    after = model.evaluate(x_test, batch_size=128, verbose=0)
    errors = history.history["reconstruction_error"]
    assert errors[-1] < errors[0]
    assert after < 0.5 * before, (before, after)


@pytest.mark.slow
def test_saved_model_loads_safely_and_keeps_training():
    x = _binary_data()
    model = RBM(8, seed=1)
    model.compile()
    model.fit(x, batch_size=16, epochs=1, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "rbm.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)))
    assert loaded.get_config() == model.get_config()
    # Configs store the initializer with Keras's `serialize`; older ones
    # holding a plain name still load.
    assert model.get_config()["kernel_initializer"] == (
        keras.initializers.serialize(keras.initializers.RandomNormal())
    )
    config = {**model.get_config(), "kernel_initializer": "glorot_uniform"}
    old = RBM.from_config(config)
    assert isinstance(old.kernel_initializer, keras.initializers.GlorotUniform)
    custom = RBM(4, kernel_initializer=keras.initializers.RandomNormal(0, 0.3))
    again = RBM.from_config(custom.get_config())
    assert again.kernel_initializer.stddev == 0.3
    before = loaded.kernel.numpy().copy()
    loaded.fit(x, batch_size=16, epochs=1, verbose=0)
    assert not np.allclose(loaded.kernel.numpy(), before)


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="`hidden_units` must be a positive"):
        RBM(0)
    with pytest.raises(ValueError, match="`k` must be a positive integer"):
        RBM(3, k=0)
    with pytest.raises(TypeError, match="`seed` must be an integer >= 0"):
        RBM(3, seed="a")
    model, v0 = _built()
    with pytest.raises(ValueError, match=r"`inputs` must have size 6"):
        model.free_energy(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match="`inputs` must have rank 2"):
        model.free_energy(np.ones((2, 3, 6), "float32"))
    with pytest.raises(ValueError, match="must be 2 \\* k = 2 arrays"):
        model.contrastive_divergence(v0, noise=[np.ones((5, 4))])
