import numpy as np
import pytest
from minisom import MiniSom

from keras_dlparts.layers import SelfOrganizingMap
from keras_dlparts.testing import check_layer

_LR_DECAY = {
    "asymptotic": "asymptotic_decay",
    "inverse": "inverse_decay_to_zero",
    "linear": "linear_decay_to_zero",
}
_SIGMA_DECAY = {
    "asymptotic": "asymptotic_decay",
    "inverse": "inverse_decay_to_one",
    "linear": "linear_decay_to_one",
}


def _pair(topology, neighborhood, decay, steps, update="online", shape=(5, 4)):
    """A MiniSom and our layer with the same codebook and schedule."""
    peer = MiniSom(
        *shape,
        3,
        sigma=2.0,
        learning_rate=0.5,
        neighborhood_function=neighborhood,
        topology=topology,
        decay_function=_LR_DECAY[decay],
        sigma_decay_function=_SIGMA_DECAY[decay],
        random_seed=1,
    )
    ours = SelfOrganizingMap(
        shape,
        sigma=2.0,
        learning_rate=0.5,
        decay_steps=steps,
        neighborhood=neighborhood,
        topology=topology,
        learning_rate_decay=decay,
        sigma_decay=decay,
        update=update,
    )
    ours.build((None, 3))
    ours.codebook.assign(peer.get_weights().astype("float32"))
    return peer, ours


def _data(n=24, seed=0):
    return np.random.default_rng(seed).random((n, 3))


@pytest.mark.slow
def test_contract():
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")

    def reference(layer, x):
        w = layer.codebook.numpy()
        return np.linalg.norm(x[:, None, None, :] - w[None], axis=-1)

    check_layer(
        SelfOrganizingMap,
        {"map_shape": (3, 4), "sigma": 1.5, "topology": "hexagonal"},
        x,
        reference=reference,
    )


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("neighborhood", ["gaussian", "bubble"])
def test_online_rule_equals_minisom_update_step_by_step(topology, neighborhood):
    x = _data()
    steps = len(x)
    peer, ours = _pair(topology, neighborhood, "asymptotic", steps)
    for t in range(steps):
        sample = x[t % len(x)]
        peer.update(sample, peer.winner(sample), t, steps)
        ours.online_update(sample[None].astype("float32"))
        if t % 7 == 0:
            np.testing.assert_allclose(
                ours.codebook.numpy(), peer.get_weights(), atol=1e-5
            )
    np.testing.assert_allclose(
        ours.codebook.numpy(), peer.get_weights(), atol=1e-5
    )
    assert int(ours.iterations.numpy()) == steps


@pytest.mark.parametrize("decay", ["asymptotic", "inverse", "linear"])
def test_decay_schedules_equal_minisom_train(decay):
    x = _data()
    steps = 3 * len(x)
    peer, ours = _pair("rectangular", "gaussian", decay, steps)
    peer.train(x, steps)
    for _ in range(3):
        ours.online_update(x.astype("float32"))
    np.testing.assert_allclose(
        ours.codebook.numpy(), peer.get_weights(), atol=1e-5
    )


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
@pytest.mark.parametrize("neighborhood", ["gaussian", "bubble"])
def test_batch_rule_equals_minisom_train_batch_offline(topology, neighborhood):
    x = _data()
    peer, ours = _pair(topology, neighborhood, "asymptotic", 4, update="batch")
    peer.train_batch_offline(x, 4)
    for _ in range(4):
        ours.update_step(x.astype("float32"))
    np.testing.assert_allclose(
        ours.codebook.numpy(), peer.get_weights(), atol=1e-5
    )


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_distances_bmu_errors_and_umatrix_equal_minisom(topology):
    x = _data(40, seed=3)
    peer, ours = _pair(topology, "gaussian", "asymptotic", 40, shape=(6, 5))
    peer.train(x, 40)
    ours.online_update(x.astype("float32"))
    xf = x.astype("float32")
    np.testing.assert_allclose(
        np.asarray(ours(xf)), np.stack([peer.activate(v) for v in x]), atol=1e-5
    )
    np.testing.assert_array_equal(
        np.asarray(ours.bmu(xf)), np.array([peer.winner(v) for v in x])
    )
    np.testing.assert_allclose(
        np.mean(ours.quantization_error(xf)),
        peer.quantization_error(x),
        atol=1e-6,
    )
    te = float(np.mean(ours.topographic_error(xf)))
    assert te == pytest.approx(peer.topographic_error(x), abs=1e-6)
    for scaling in ("sum", "mean"):
        np.testing.assert_allclose(
            np.asarray(ours.umatrix(scaling)),
            peer.distance_map(scaling),
            atol=1e-5,
        )


def test_neighborhood_worked_example():
    som = SelfOrganizingMap((3, 3), neighborhood="gaussian")
    h = np.asarray(som.neighborhood_weights(np.array([4]), 1.0)).reshape(3, 3)
    # Centre unit (1, 1): exp(-d^2 / 2) with d^2 = 0, 1, 2.
    np.testing.assert_allclose(h[1, 1], 1.0)
    np.testing.assert_allclose(h[0, 1], np.exp(-0.5), rtol=1e-6)
    np.testing.assert_allclose(h[0, 0], np.exp(-1.0), rtol=1e-6)
    bubble = SelfOrganizingMap((3, 3), neighborhood="bubble")
    box = np.asarray(bubble.neighborhood_weights(np.array([0]), 2.0)).reshape(
        3, 3
    )
    np.testing.assert_array_equal(box, [[1, 1, 0], [1, 1, 0], [0, 0, 0]])


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="`map_shape` must be a pair"):
        SelfOrganizingMap((1, 1))
    with pytest.raises(ValueError, match="`map_shape` must be 2 positive"):
        SelfOrganizingMap((3, 0))
    with pytest.raises(TypeError, match="`map_shape`"):
        SelfOrganizingMap("3x3")
    with pytest.raises(ValueError, match="`sigma` must be a positive finite"):
        SelfOrganizingMap((2, 2), sigma=0)
    with pytest.raises(ValueError, match="`learning_rate`.*nan"):
        SelfOrganizingMap((2, 2), learning_rate=float("nan"))
    with pytest.raises(ValueError, match="`decay_steps` must be a positive"):
        SelfOrganizingMap((2, 2), decay_steps=0)
    with pytest.raises(TypeError, match="`decay_steps` must be a positive"):
        SelfOrganizingMap((2, 2), decay_steps=10.0)
    with pytest.raises(ValueError, match="`codebook_initializer`"):
        SelfOrganizingMap((2, 2), codebook_initializer="nope")
    with pytest.raises(ValueError, match="`topology` must be one of"):
        SelfOrganizingMap((2, 2), topology="torus")
    with pytest.raises(ValueError, match="`neighborhood` must be one of"):
        SelfOrganizingMap((2, 2), neighborhood="mexican_hat")
    with pytest.raises(ValueError, match="`update` must be one of"):
        SelfOrganizingMap((2, 2), update="stochastic")
    som = SelfOrganizingMap((2, 2))
    som(np.ones((1, 3), "float32"))
    with pytest.raises(ValueError, match=r"shape \(batch, 3\)"):
        som(np.ones((1, 4), "float32"))
    with pytest.raises(ValueError, match="rank 2"):
        SelfOrganizingMap((2, 2)).build((2, 3, 4))
    with pytest.raises(ValueError, match="`scaling` must be one of"):
        som.umatrix("max")
