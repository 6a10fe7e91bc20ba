"""Tests of keras_dlparts.models.CycleGAN."""

import os

import keras
import numpy as np
import pytest

from keras_dlparts.models import CycleGAN
from keras_dlparts.testing import check_model

# -- a CycleGAN of one Dense layer per network, against NumPy ----------------


def _dense(inputs, units, activation=None):
    return keras.Sequential(
        [keras.Input((inputs,)), keras.layers.Dense(units, activation)]
    )


def _dense_cyclegan(cycle_weight, identity_weight, seed=1):
    """G_AB linear, G_BA tanh, linear discriminators; NumPy weights."""
    model = CycleGAN(
        _dense(3, 3),
        _dense(3, 3, "tanh"),
        _dense(3, 1),
        _dense(3, 1),
        cycle_weight=cycle_weight,
        identity_weight=identity_weight,
    )
    rng = np.random.default_rng(seed)
    weights = [
        rng.normal(0.0, 0.5, shape).astype("float32")
        for shape in [(3, 3), (3,), (3, 3), (3,), (3, 1), (1,), (3, 1), (1,)]
    ]
    nets = [
        model.generator_ab,
        model.generator_ba,
        model.discriminator_a,
        model.discriminator_b,
    ]
    for i, net in enumerate(nets):
        net.set_weights(weights[2 * i : 2 * i + 2])
    return model, [w.astype("float64") for w in weights]


def _softplus(x):
    return np.logaddexp(0.0, x)


_D_TERMS = {
    "least_squares": lambda r, f: 0.5 * (r - 1) ** 2 + 0.5 * f**2,
    "non_saturating": lambda r, f: _softplus(-r) + _softplus(f),
}
_G_TERMS = {
    "least_squares": lambda f: 0.5 * (f - 1) ** 2,
    "non_saturating": lambda f: _softplus(-f),
}


def _numpy_losses(params, a, b, cycle_weight, identity_weight, kind):
    """Zhu et al.'s objectives, written out; `params` as `_dense_cyclegan`."""
    w_ab, c_ab, w_ba, c_ba, v_a, e_a, v_b, e_b = params

    def g_ab(x):
        return x @ w_ab + c_ab

    def g_ba(x):
        return np.tanh(x @ w_ba + c_ba)

    def d_a(x):
        return x @ v_a + e_a

    def d_b(x):
        return x @ v_b + e_b

    fake_b, fake_a = g_ab(a), g_ba(b)
    adversarial = np.mean(_G_TERMS[kind](d_b(fake_b))) + np.mean(
        _G_TERMS[kind](d_a(fake_a))
    )
    cycle = np.mean(np.abs(g_ba(fake_b) - a)) + np.mean(
        np.abs(g_ab(fake_a) - b)
    )
    identity = np.mean(np.abs(g_ba(a) - a)) + np.mean(np.abs(g_ab(b) - b))
    g_loss = (
        adversarial
        + cycle_weight * cycle
        + identity_weight * cycle_weight * identity
    )
    return g_loss, cycle, identity, fake_a, fake_b


def _numpy_d_loss(params, a, b, fake_a, fake_b, kind):
    _, _, _, _, v_a, e_a, v_b, e_b = params
    terms = _D_TERMS[kind]
    return np.mean(terms(a @ v_a + e_a, fake_a @ v_a + e_a)) + np.mean(
        terms(b @ v_b + e_b, fake_b @ v_b + e_b)
    )


def _numeric_gradient(f, params, indices, eps=1e-6):
    """Central differences of `f(params)` for the params at `indices`."""
    grads = []
    for i in indices:
        grad = np.zeros_like(params[i])
        for j in np.ndindex(params[i].shape):
            shifted = [p.copy() for p in params]
            shifted[i][j] += eps
            up = f(shifted)
            shifted[i][j] -= 2 * eps
            grad[j] = (up - f(shifted)) / (2 * eps)
        grads.append(grad)
    return grads


@pytest.mark.parametrize("kind", ["least_squares", "non_saturating"])
def test_one_step_losses_and_updates_equal_numpy(kind):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 3)).astype("float32")
    b = (0.5 * rng.normal(size=(6, 3)) + 1.0).astype("float32")
    cw, iw, lr_g, lr_d = 2.0, 0.25, 0.1, 0.2
    model, params = _dense_cyclegan(cw, iw)
    model.compile(
        d_optimizer=keras.optimizers.SGD(lr_d),
        g_optimizer=keras.optimizers.SGD(lr_g),
        d_loss=kind,
        g_loss=kind,
    )
    logs = model.fit((a, b), batch_size=6, epochs=1, verbose=0).history
    a64, b64 = a.astype("float64"), b.astype("float64")
    g_loss, cycle, identity, fake_a, fake_b = _numpy_losses(
        params, a64, b64, cw, iw, kind
    )
    d_loss = _numpy_d_loss(params, a64, b64, fake_a, fake_b, kind)
    assert logs["g_loss"][0] == pytest.approx(g_loss, rel=1e-5)
    assert logs["cycle_loss"][0] == pytest.approx(cycle, rel=1e-5)
    assert logs["identity_loss"][0] == pytest.approx(identity, rel=1e-5)
    assert logs["d_loss"][0] == pytest.approx(d_loss, rel=1e-5)
    # One SGD step each: the generators on the whole generator objective,
    # then the discriminators on the translations of the old generators.
    g_grads = _numeric_gradient(
        lambda p: _numpy_losses(p, a64, b64, cw, iw, kind)[0],
        params,
        range(4),
    )
    d_grads = _numeric_gradient(
        lambda p: _numpy_d_loss(p, a64, b64, fake_a, fake_b, kind),
        params,
        range(4, 8),
    )
    expected = [p - lr_g * g for p, g in zip(params[:4], g_grads)]
    expected += [p - lr_d * g for p, g in zip(params[4:], d_grads)]
    got = (
        model.generator_ab.get_weights()
        + model.generator_ba.get_weights()
        + model.discriminator_a.get_weights()
        + model.discriminator_b.get_weights()
    )
    for g, e, p in zip(got, expected, params):
        assert not np.allclose(g, p), "a network's weights did not move"
        np.testing.assert_allclose(g, e, atol=2e-5)


def test_evaluate_order_and_no_identity_term():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(4, 3)).astype("float32")
    b = rng.normal(size=(4, 3)).astype("float32")
    model, params = _dense_cyclegan(cycle_weight=3.0, identity_weight=0.0)
    model.compile()
    assert [m.name for m in model.metrics] == ["g_loss", "d_loss", "cycle_loss"]
    values = model.evaluate(a, b, batch_size=4, verbose=0)
    g_loss, cycle, _, fake_a, fake_b = _numpy_losses(
        params, a, b, 3.0, 0.0, "least_squares"
    )
    d_loss = _numpy_d_loss(params, a, b, fake_a, fake_b, "least_squares")
    np.testing.assert_allclose(values, [g_loss, d_loss, cycle], rtol=1e-5)
    fake_b_model, fake_a_model = model([a, b])
    np.testing.assert_allclose(fake_b_model, fake_b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.translate_ba(b), fake_a, atol=1e-6)


# -- contract, saving --------------------------------------------------------

_CONTRACT_DATA = [
    np.random.default_rng(4).random((8, 3)).astype("float32"),
    np.random.default_rng(5).normal(1.0, 0.5, (8, 3)).astype("float32"),
]


def test_generator_ema_is_left_in_both_generators_after_fit():
    # CycleGAN draws no random numbers: a twin without the average, fit
    # one batch at a time, gives the weights after each step.
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(2, 8, 3)).astype("float32")
    averaged, _ = _dense_cyclegan(10.0, 0.5)
    twin, _ = _dense_cyclegan(10.0, 0.5)
    averaged.compile(
        d_optimizer=keras.optimizers.SGD(0.1),
        g_optimizer=keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5),
    )
    twin.compile(
        d_optimizer=keras.optimizers.SGD(0.1),
        g_optimizer=keras.optimizers.SGD(0.1),
    )
    averaged.fit(a, b, batch_size=4, shuffle=False, verbose=0)
    steps = []
    for batch in (slice(0, 4), slice(4, 8)):
        twin.fit(a[batch], b[batch], batch_size=4, verbose=0)
        steps.append(twin.generator_ab.get_weights())
        steps[-1] += twin.generator_ba.get_weights()
    got = averaged.generator_ab.get_weights()
    got += averaged.generator_ba.get_weights()
    for g, first, second in zip(got, *steps):
        assert not np.allclose(first, second, atol=1e-3)
        np.testing.assert_allclose(g, 0.5 * first + 0.5 * second, atol=1e-5)
    for mine, theirs in [
        (averaged.discriminator_a, twin.discriminator_a),
        (averaged.discriminator_b, twin.discriminator_b),
    ]:
        for g, e in zip(mine.get_weights(), theirs.get_weights()):
            np.testing.assert_allclose(g, e, atol=1e-5)


def _contract_cyclegan():
    # Dense networks: the same code paths as images (identity term on),
    # at half the contract's compile time of 8x8 convolutions.
    return _dense_cyclegan(cycle_weight=10.0, identity_weight=0.5)[0]


def _compile(model, jit_compile):
    # Fast generators: the contract's first evaluate value (g_loss, ruled
    # by the cycle term) then falls.
    model.compile(
        d_optimizer=keras.optimizers.Adam(1e-4),
        g_optimizer=keras.optimizers.Adam(1e-2),
        jit_compile=jit_compile,
    )


def _through_all_four(model):
    fake_b, fake_a = model(_CONTRACT_DATA, training=True)
    logits = model.discriminator_a(fake_a) + 2.0 * model.discriminator_b(fake_b)
    return keras.ops.sum(logits * np.arange(1.0, 9.0).reshape(8, 1))


@pytest.mark.slow
def test_cyclegan_contract():
    check_model(
        _contract_cyclegan,
        _CONTRACT_DATA,
        compile_fn=_compile,
        gradient_loss=_through_all_four,
        epochs=2,
    )


@pytest.mark.slow
def test_save_load_and_train_on_a_zipped_dataset(tmp_path):
    tf = pytest.importorskip("tensorflow")
    rng = np.random.default_rng(3)
    a = rng.normal(size=(16, 3)).astype("float32")
    b = rng.normal(1.0, size=(16, 3)).astype("float32")
    model, _ = _dense_cyclegan(cycle_weight=10.0, identity_weight=0.5)
    model.compile(
        d_optimizer=keras.optimizers.Adam(2e-3),
        g_optimizer="adam",
        d_loss="hinge",
        g_loss="least_squares",
    )
    # Two independently shuffled sources, zipped into unpaired batches.
    dataset = tf.data.Dataset.zip(
        (
            tf.data.Dataset.from_tensor_slices(a).shuffle(16, seed=1),
            tf.data.Dataset.from_tensor_slices(b).shuffle(16, seed=2),
        )
    ).batch(8)
    history = model.fit(dataset, epochs=1, verbose=0).history
    assert set(history) == {"g_loss", "d_loss", "cycle_loss", "identity_loss"}
    path = os.path.join(tmp_path, "cyclegan.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, CycleGAN)
    assert (reloaded.cycle_weight, reloaded.identity_weight) == (10.0, 0.5)
    np.testing.assert_allclose(
        reloaded.translate_ab(a), model.translate_ab(a), rtol=1e-6, atol=1e-7
    )
    np.testing.assert_allclose(
        reloaded.translate_ba(b), model.translate_ba(b), rtol=1e-6, atol=1e-7
    )
    assert reloaded.d_loss_fn.kind == "hinge"
    assert reloaded.g_loss_fn.kind == "least_squares"
    assert float(reloaded.d_optimizer.learning_rate) == pytest.approx(2e-3)
    assert int(reloaded.g_optimizer.iterations) == 2
    before = reloaded.discriminator_b.get_weights()[0]
    reloaded.fit((a, b), batch_size=8, epochs=1, verbose=0)
    assert not np.array_equal(before, reloaded.discriminator_b.get_weights()[0])


def test_bad_arguments():
    def nets(a_dim=3, b_dim=3):
        return [
            _dense(a_dim, b_dim),
            _dense(b_dim, a_dim),
            _dense(a_dim, 1),
            _dense(b_dim, 1),
        ]

    with pytest.raises(TypeError, match="generator_ab"):
        CycleGAN(keras.layers.Dense(3), *nets()[1:])
    with pytest.raises(TypeError, match="discriminator_b"):
        CycleGAN(*nets()[:3], "d")
    with pytest.raises(ValueError, match="cycle_weight"):
        CycleGAN(*nets(), cycle_weight=-1.0)
    with pytest.raises(ValueError, match="identity_weight"):
        CycleGAN(*nets(), identity_weight=float("nan"))
    g_ab, _, d_a, d_b = nets()
    with pytest.raises(ValueError, match="`generator_ba` must have input"):
        CycleGAN(g_ab, _dense(2, 3), d_a, d_b)
    with pytest.raises(ValueError, match="`generator_ba` must have output"):
        CycleGAN(g_ab, _dense(3, 2), d_a, d_b)
    with pytest.raises(ValueError, match="`discriminator_a` must have input"):
        CycleGAN(*nets()[:2], _dense(4, 1), d_b)
    # Domains of different shapes: only without the identity loss.
    with pytest.raises(ValueError, match="identity_weight=0"):
        CycleGAN(*nets(3, 2))
    model = CycleGAN(*nets(3, 2), identity_weight=0.0)
    with pytest.raises(ValueError, match="d_optimizer"):
        model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="`d_loss` must be one of"):
        model.compile(d_loss="wasserstein")
    model.compile()
    a, b = np.ones((4, 3), "float32"), np.ones((4, 2), "float32")
    logs = model.fit((a, b), epochs=1, verbose=0).history
    assert set(logs) == {"g_loss", "d_loss", "cycle_loss"}
    with pytest.raises(TypeError, match="`x` must be a pair"):
        model.fit(a, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="Input `b`"):
        model([a, a])
    with pytest.raises(ValueError, match="Input `a`"):
        model.translate_ab(b)
