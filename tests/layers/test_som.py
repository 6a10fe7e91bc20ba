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


@pytest.mark.slow
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
@pytest.mark.slow
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
@pytest.mark.slow
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
@pytest.mark.slow
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
        SelfOrganizingMap((2, 2), neighborhood="donut")
    with pytest.raises(ValueError, match="`distance` must be one of"):
        SelfOrganizingMap((2, 2), distance="hamming")
    with pytest.raises(ValueError, match="`codebook_initializer` must be an"):
        SelfOrganizingMap((2, 2), codebook_initializer=np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="`codebook_initializer` must hold"):
        SelfOrganizingMap((1, 2), codebook_initializer=[[[np.nan, 1.0]] * 2])
    with pytest.raises(TypeError, match="`codebook_initializer`"):
        SelfOrganizingMap((1, 2), codebook_initializer=[[["a"], ["b"]]])
    with pytest.raises(ValueError, match="`codebook_initializer` must have"):
        SelfOrganizingMap(
            (1, 2), codebook_initializer=np.zeros((1, 2, 3))
        ).build((None, 4))
    with pytest.raises(ValueError, match="`codebook_initializer` can be 'pca'"):
        SelfOrganizingMap((2, 2), codebook_initializer="pca").build((None, 1))
    waiting = SelfOrganizingMap((2, 2), codebook_initializer="sample")
    waiting.build((None, 3))
    with pytest.raises(ValueError, match="`codebook_initializer`='sample'"):
        waiting.batch_update(np.ones((4, 3), "float32"))
    with pytest.raises(ValueError, match="`method` must be one of"):
        waiting.initialize(np.ones((4, 3)), method="kmeans")
    with pytest.raises(ValueError, match="`inputs` must have at least 2"):
        waiting.initialize(np.ones((1, 3)), method="pca")
    with pytest.raises(ValueError, match="`inputs` must hold finite"):
        waiting.initialize(np.full((4, 3), np.nan))
    with pytest.raises(ValueError, match="`epochs` must be a positive"):
        waiting.train_batch(np.ones((4, 3), "float32"), 0)
    with pytest.raises(ValueError, match="`target_error` must be a finite"):
        waiting.train_batch(np.ones((4, 3), "float32"), 2, target_error=-1.0)
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
    with pytest.raises(ValueError, match="`labels` must hold one label"):
        som.labels_map(np.ones((3, 3), "float32"), [0, 1])
    with pytest.raises(TypeError, match="`return_indices` must be True"):
        som.win_map(np.ones((3, 3), "float32"), return_indices="yes")


def _chebyshev(x, w):
    # The true Chebyshev distance; MiniSom 2.3.6's "chebyshev" drops abs().
    return np.max(np.abs(x - w), axis=-1)


_PEER_DISTANCE = {
    "euclidean": "euclidean",
    "cosine": "cosine",
    "manhattan": "manhattan",
    "chebyshev": _chebyshev,
}


def _peer_and_ours(
    neighborhood="gaussian",
    distance="euclidean",
    topology="rectangular",
    sigma=2.0,
    steps=24,
    constant=False,
    update="online",
):
    """MiniSom and our layer with one codebook, data-free options only."""
    peer = MiniSom(
        5,
        4,
        3,
        sigma=sigma,
        learning_rate=0.5,
        neighborhood_function="bubble"
        if neighborhood == "winner"
        else (neighborhood),
        topology=topology,
        activation_distance=_PEER_DISTANCE[distance],
        decay_function=(lambda lr, t, T: lr)
        if constant
        else ("asymptotic_decay"),
        random_seed=1,
    )
    if constant:  # MiniSom takes no callable for sigma: set its function.
        peer._sigma_decay_function = lambda sigma, t, T: sigma
    ours = SelfOrganizingMap(
        (5, 4),
        sigma=sigma,
        learning_rate=0.5,
        decay_steps=steps,
        neighborhood=neighborhood,
        topology=topology,
        distance=distance,
        learning_rate_decay="constant" if constant else "asymptotic",
        sigma_decay="constant" if constant else "asymptotic",
        update=update,
        codebook_initializer=peer.get_weights().copy(),
    )
    ours.build((None, 3))
    return peer, ours


@pytest.mark.parametrize("distance", list(_PEER_DISTANCE))
@pytest.mark.slow
def test_distances_equal_minisom_and_formula(distance):
    x = _data(30, seed=4) - 0.3
    peer, ours = _peer_and_ours(distance=distance, steps=len(x))
    w = peer.get_weights().reshape(-1, 3)
    gaps = x[:, None, :] - w[None]
    formula = {
        "euclidean": np.sqrt(np.sum(gaps**2, -1)),
        "manhattan": np.sum(np.abs(gaps), -1),
        "chebyshev": np.max(np.abs(gaps), -1),
        "cosine": 1
        - x
        @ w.T
        / (
            np.linalg.norm(x, axis=1)[:, None] * np.linalg.norm(w, axis=1)
            + 1e-8
        ),
    }[distance]
    xf = x.astype("float32")
    got = np.asarray(ours(xf)).reshape(len(x), -1)
    np.testing.assert_allclose(got, formula, atol=1e-5)
    np.testing.assert_allclose(
        got, np.stack([peer.activate(v).ravel() for v in x]), atol=1e-5
    )
    np.testing.assert_array_equal(
        np.asarray(ours.bmu(xf)), np.array([peer.winner(v) for v in x])
    )
    # Both rules pick winners by `distance`; the errors stay Euclidean.
    peer.train(x, len(x))
    ours.online_update(xf)
    np.testing.assert_allclose(
        ours.codebook.numpy(), peer.get_weights(), atol=1e-5
    )
    assert np.mean(ours.quantization_error(xf)) == pytest.approx(
        peer.quantization_error(x), abs=1e-5
    )
    peer, ours = _peer_and_ours(distance=distance, steps=3, update="batch")
    peer.train_batch_offline(x, 3)
    for _ in range(3):
        ours.batch_update(xf)
    np.testing.assert_allclose(
        ours.codebook.numpy(), peer.get_weights(), atol=1e-5
    )


@pytest.mark.parametrize(
    "neighborhood, topology, sigma",
    [
        ("mexican_hat", "rectangular", 1.5),
        ("mexican_hat", "hexagonal", 1.5),
        ("triangle", "rectangular", 2.0),
        ("winner", "rectangular", 1.0),
    ],
)
@pytest.mark.parametrize("constant", [False, True], ids=["decay", "constant"])
@pytest.mark.slow
def test_neighborhoods_and_constant_schedules_equal_minisom(
    neighborhood, topology, sigma, constant
):
    # "winner" is MiniSom's bubble at sigma = 1 (the winner alone). The
    # constant Mexican hat pushes units far out (|w| ~ 50): rtol too.
    x = _data()
    peer, ours = _peer_and_ours(
        neighborhood, topology=topology, sigma=sigma, constant=constant
    )
    peer.train(x, len(x))
    ours.online_update(x.astype("float32"))
    np.testing.assert_allclose(
        ours.codebook.numpy(), peer.get_weights(), rtol=1e-5, atol=1e-5
    )
    peer, ours = _peer_and_ours(
        neighborhood,
        topology=topology,
        sigma=sigma,
        constant=constant,
        steps=3,
        update="batch",
    )
    peer.train_batch_offline(x, 3)
    for _ in range(3):
        ours.batch_update(x.astype("float32"))
    np.testing.assert_allclose(
        ours.codebook.numpy(), peer.get_weights(), rtol=1e-5, atol=1e-5
    )


def test_new_neighborhoods_and_constant_schedule_from_the_formula():
    def h(neighborhood, centre, sigma):
        som = SelfOrganizingMap((3, 3), neighborhood=neighborhood)
        weights = som.neighborhood_weights(np.array([centre]), sigma)
        return np.asarray(weights).reshape(3, 3)

    # Centre (1, 1), p = 0, 1, 2: exp(-p / 2 s^2) (1 - p / s^2), s = 1.
    hat = h("mexican_hat", 4, 1.0)
    np.testing.assert_allclose(hat[1, 1], 1.0)
    np.testing.assert_allclose(hat[0, 1], 0.0, atol=1e-7)
    np.testing.assert_allclose(hat[0, 0], -np.exp(-1.0), rtol=1e-6)
    # Triangle at (0, 0), sigma 2: (2 - |di|)(2 - |dj|), clipped at 0.
    np.testing.assert_allclose(
        h("triangle", 0, 2.0), [[4, 2, 0], [2, 1, 0], [0, 0, 0]]
    )
    np.testing.assert_array_equal(
        h("winner", 5, 3.0), [[0, 0, 0], [0, 0, 1], [0, 0, 0]]
    )
    som = SelfOrganizingMap(
        (2, 2),
        sigma=2.5,
        learning_rate=0.3,
        decay_steps=4,
        learning_rate_decay="constant",
        sigma_decay="constant",
    )
    for t in (0, 3, 100):
        lr, sigma = som.schedule(t)
        assert float(lr) == pytest.approx(0.3)
        assert float(sigma) == pytest.approx(2.5)


def test_initializers_equal_minisom():
    x = np.random.default_rng(5).normal(size=(40, 3)) * [3.0, 1.0, 0.2]
    peer = MiniSom(5, 4, 3, random_seed=1)
    peer.pca_weights_init(x)
    pca = SelfOrganizingMap((5, 4), codebook_initializer="pca")
    pca.build((None, 3))
    assert pca.needs_initialization
    pca.initialize(x)
    assert not pca.needs_initialization
    np.testing.assert_allclose(
        pca.codebook.numpy(), peer.get_weights(), atol=1e-5
    )
    # "sample" puts data rows in the codebook (as random_weights_init).
    sample = SelfOrganizingMap((5, 4), codebook_initializer="sample")
    sample.initialize(x.astype("float32"), seed=3)
    rows = sample.codebook.numpy().reshape(-1, 3)
    gaps = np.abs(rows[:, None] - x[None].astype("float32")).max(-1)
    assert np.all(gaps.min(axis=1) == 0.0)
    again = SelfOrganizingMap((5, 4), codebook_initializer="sample")
    again.initialize(x.astype("float32"), seed=3)
    np.testing.assert_array_equal(again.codebook.numpy(), sample.codebook)
    # "random": MiniSom's default, unit vectors in random directions.
    unit = SelfOrganizingMap((5, 4), codebook_initializer="random")
    unit.build((None, 3))
    norms = np.linalg.norm(unit.codebook.numpy(), axis=-1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-5)
    assert np.ptp(unit.codebook.numpy()) > 0.5
    # An array is the codebook as given, and survives the config.
    given = np.arange(60, dtype="float32").reshape(5, 4, 3) / 60.0
    layer = SelfOrganizingMap((5, 4), codebook_initializer=given)
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.codebook.numpy(), given)
    clone = SelfOrganizingMap.from_config(layer.get_config())
    clone.build((None, 3))
    np.testing.assert_array_equal(clone.codebook.numpy(), given)


@pytest.mark.slow
def test_helpers_equal_minisom():
    x = _data(50, seed=6)
    labels = np.random.default_rng(6).integers(0, 3, size=len(x))
    for topology in ("rectangular", "hexagonal"):
        peer, ours = _peer_and_ours(topology=topology, steps=50)
        peer.train(x, 50)
        ours.online_update(x.astype("float32"))
        xf = x.astype("float32")
        wins = peer.win_map(x)
        got = ours.win_map(xf)
        assert set(got) == set(wins)
        for place, rows in wins.items():
            np.testing.assert_allclose(np.stack(got[place]), np.stack(rows))
        assert ours.win_map(xf, return_indices=True) == dict(
            peer.win_map(x, return_indices=True)
        )
        assert ours.labels_map(xf, labels) == dict(peer.labels_map(x, labels))
        counts = np.asarray(ours.activation_response(xf))
        np.testing.assert_array_equal(counts, peer.activation_response(x))
        assert counts.sum() == len(x)
        for scaling in ("sum", "mean"):
            np.testing.assert_allclose(
                np.asarray(ours.distance_map(scaling)),
                peer.distance_map(scaling),
                atol=1e-5,
            )


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
@pytest.mark.slow
def test_train_batch_equals_minisom_and_stops_at_the_target(jit_compile):
    x = _data()
    peer, ours = _peer_and_ours(steps=5, update="batch")
    peer.train_batch_offline(x, 5)
    errors = np.asarray(
        ours.train_batch(x.astype("float32"), 5, jit_compile=jit_compile)
    )
    np.testing.assert_allclose(
        ours.codebook.numpy(), peer.get_weights(), atol=1e-5
    )
    assert int(ours.iterations.numpy()) == 5
    assert errors[-1] == pytest.approx(peer.quantization_error(x), abs=1e-4)
    # Stopping: the first error at or below the target ends training.
    _, again = _peer_and_ours(steps=5, update="batch")
    target = float(errors[2]) + 1e-5  # rounding differs between modes
    stopped = np.asarray(
        again.train_batch(
            x.astype("float32"),
            5,
            target_error=target,
            jit_compile=jit_compile,
        )
    )
    np.testing.assert_allclose(stopped[:3], errors[:3], atol=1e-6)
    assert np.all(np.isnan(stopped[3:]))
    assert int(again.iterations.numpy()) == 2
