import os
import tempfile

import keras
import numpy as np
import pytest
from minisom import MiniSom

from keras_dlparts.models import SOM
from keras_dlparts.testing import check_model


def _compile(model, jit_compile="auto"):
    model.compile(jit_compile=jit_compile)


def _data(n=24, seed=0):
    return np.random.default_rng(seed).random((n, 3))


def _pair(
    steps,
    update,
    topology="rectangular",
    neighborhood="gaussian",
    jit_compile=False,
):
    peer = MiniSom(
        5,
        4,
        3,
        sigma=2.0,
        learning_rate=0.5,
        random_seed=1,
        topology=topology,
        neighborhood_function=neighborhood,
    )
    ours = SOM(
        (5, 4),
        sigma=2.0,
        learning_rate=0.5,
        decay_steps=steps,
        update=update,
        topology=topology,
        neighborhood=neighborhood,
    )
    ours.build((None, 3))
    ours.map.codebook.assign(peer.get_weights().astype("float32"))
    _compile(ours, jit_compile)
    return peer, ours


@pytest.mark.slow
@pytest.mark.parametrize("update", ["online", "batch"])
def test_contract(update):
    x = np.random.default_rng(0).random((32, 3)).astype("float32")
    check_model(
        lambda: SOM((3, 4), sigma=1.5, decay_steps=200, update=update),
        x,
        compile_fn=_compile,
        batch_size=16,
    )


@pytest.mark.slow
@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
def test_online_fit_equals_minisom_train_and_reports_its_errors(jit_compile):
    # The same numbers on every backend: each is checked against MiniSom.
    x = _data()
    epochs = 3
    peer, ours = _pair(epochs * len(x), "online", jit_compile=jit_compile)
    peer.train(x, epochs * len(x))
    history = ours.fit(
        x.astype("float32"),
        epochs=epochs,
        batch_size=5,
        shuffle=False,
        verbose=0,
    )
    np.testing.assert_allclose(
        ours.map.codebook.numpy(), peer.get_weights(), atol=1e-5
    )
    assert int(ours.map.iterations.numpy()) == epochs * len(x)
    assert list(history.history) == ["quantization_error", "topographic_error"]
    qe, te = ours.evaluate(x.astype("float32"), batch_size=7, verbose=0)
    assert qe == pytest.approx(peer.quantization_error(x), abs=1e-5)
    assert te == pytest.approx(peer.topographic_error(x), abs=1e-6)


@pytest.mark.parametrize(
    "topology, jit_compile",
    [("rectangular", False), ("hexagonal", True)],
    ids=["rectangular-eager", "hexagonal-jit"],
)
@pytest.mark.slow
def test_batch_fit_equals_minisom_train_batch_offline(topology, jit_compile):
    x = _data()
    peer, ours = _pair(
        5,
        "batch",
        topology=topology,
        neighborhood="bubble",
        jit_compile=jit_compile,
    )
    peer.train_batch_offline(x, 5)
    ours.fit(x.astype("float32"), epochs=5, batch_size=len(x), verbose=0)
    np.testing.assert_allclose(
        ours.map.codebook.numpy(), peer.get_weights(), atol=1e-5
    )


@pytest.mark.parametrize("update", ["online", "batch"])
@pytest.mark.slow
def test_seeded_runs_repeat(update):
    x = _data().astype("float32")

    def run():
        keras.utils.set_random_seed(6)
        model = SOM((3, 3), sigma=1.5, decay_steps=50, update=update)
        _compile(model)
        history = model.fit(x, batch_size=8, epochs=2, verbose=0)
        return history.history, model.map.codebook.numpy()

    (history, codebook), (again, codebook_again) = run(), run()
    assert history == again
    np.testing.assert_array_equal(codebook, codebook_again)


@pytest.mark.slow
def test_saved_model_loads_safely_and_keeps_training():
    x = _data().astype("float32")
    model = SOM((4, 4), sigma=1.5, decay_steps=100)
    _compile(model)
    model.fit(x, epochs=1, batch_size=8, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "som.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(
        loaded.map.codebook.numpy(), model.map.codebook.numpy()
    )
    assert int(loaded.map.iterations.numpy()) == len(x)
    _compile(loaded)
    for m in (model, loaded):
        m.fit(x, epochs=1, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(
        loaded.map.codebook.numpy(), model.map.codebook.numpy(), atol=1e-6
    )
    assert int(loaded.map.iterations.numpy()) == 2 * len(x)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`update` must be one of"):
        SOM((3, 3), update="minibatch")
    with pytest.raises(
        ValueError, match="`map_shape` must be 2 positive integers"
    ):
        SOM(9)
    with pytest.raises(ValueError, match="`distance` must be one of"):
        SOM((3, 3), distance="jaccard")
    with pytest.raises(ValueError, match="`codebook_initializer` must be an"):
        SOM((3, 3), codebook_initializer=np.zeros((3, 2, 2)))


@pytest.mark.slow
def test_fit_initialises_pca_codebook_and_reloads_without_redoing_it():
    x = _data(30, seed=2).astype("float32")
    peer = MiniSom(
        4,
        3,
        3,
        sigma=1.5,
        learning_rate=0.5,
        neighborhood_function="mexican_hat",
        random_seed=0,
    )
    peer.pca_weights_init(x)
    model = SOM(
        (4, 3),
        sigma=1.5,
        decay_steps=3,
        update="batch",
        codebook_initializer="pca",
        neighborhood="mexican_hat",
    )
    _compile(model)
    model.fit(x, epochs=3, batch_size=len(x), verbose=0)
    peer.train_batch_offline(x, 3)
    np.testing.assert_allclose(
        model.map.codebook.numpy(), peer.get_weights(), atol=1e-5
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "som.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.get_config()["codebook_initializer"] == "pca"
    assert not loaded.map.needs_initialization
    _compile(loaded)
    loaded.fit(x[:5], epochs=1, batch_size=5, verbose=0)  # no new PCA
    assert int(loaded.map.iterations.numpy()) == 4


@pytest.mark.slow
def test_array_codebook_and_distance_in_fit_equal_minisom():
    x = _data()
    peer = MiniSom(
        5,
        4,
        3,
        sigma=2.0,
        learning_rate=0.5,
        activation_distance="cosine",
        neighborhood_function="triangle",
        random_seed=1,
    )
    model = SOM(
        (5, 4),
        sigma=2.0,
        decay_steps=2 * len(x),
        distance="cosine",
        neighborhood="triangle",
        codebook_initializer=peer.get_weights(),
    )
    _compile(model)
    model.fit(
        x.astype("float32"), epochs=2, batch_size=6, shuffle=False, verbose=0
    )
    peer.train(x, 2 * len(x))
    np.testing.assert_allclose(
        model.map.codebook.numpy(), peer.get_weights(), atol=1e-5
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "som.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    assert loaded.get_config() == model.get_config()
    assert loaded.get_config()["distance"] == "cosine"
