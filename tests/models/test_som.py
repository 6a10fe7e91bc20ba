import os
import tempfile

import keras
import numpy as np
import pytest
from minisom import MiniSom

from keras_dlparts.models import SOM
from keras_dlparts.testing import check_model


def _compile(model, jit_compile=False):
    model.compile(jit_compile=jit_compile)


def _data(n=24, seed=0):
    return np.random.default_rng(seed).random((n, 3))


def _pair(steps, update, topology="rectangular", neighborhood="gaussian"):
    peer = MiniSom(5, 4, 3, sigma=2.0, learning_rate=0.5, random_seed=1,
                   topology=topology, neighborhood_function=neighborhood)
    ours = SOM((5, 4), sigma=2.0, learning_rate=0.5, decay_steps=steps,
               update=update, topology=topology, neighborhood=neighborhood)
    ours.build((None, 3))
    ours.map.codebook.assign(peer.get_weights().astype("float32"))
    _compile(ours)
    return peer, ours


@pytest.mark.slow
def test_contract():
    x = np.random.default_rng(0).random((32, 3)).astype("float32")
    check_model(
        lambda: SOM((3, 4), sigma=1.5, decay_steps=200),
        x,
        compile_fn=_compile,
        batch_size=16,
    )


def test_online_fit_equals_minisom_train_and_reports_its_errors():
    x = _data()
    epochs = 3
    peer, ours = _pair(epochs * len(x), "online")
    peer.train(x, epochs * len(x))
    history = ours.fit(x.astype("float32"), epochs=epochs, batch_size=5,
                       shuffle=False, verbose=0)
    np.testing.assert_allclose(
        ours.map.codebook.numpy(), peer.get_weights(), atol=1e-5
    )
    assert int(ours.map.iterations.numpy()) == epochs * len(x)
    assert list(history.history) == ["quantization_error", "topographic_error"]
    qe, te = ours.evaluate(x.astype("float32"), batch_size=7, verbose=0)
    assert qe == pytest.approx(peer.quantization_error(x), abs=1e-5)
    assert te == pytest.approx(peer.topographic_error(x), abs=1e-6)


@pytest.mark.parametrize("topology", ["rectangular", "hexagonal"])
def test_batch_fit_equals_minisom_train_batch_offline(topology):
    x = _data()
    peer, ours = _pair(5, "batch", topology=topology, neighborhood="bubble")
    peer.train_batch_offline(x, 5)
    ours.fit(x.astype("float32"), epochs=5, batch_size=len(x), verbose=0)
    np.testing.assert_allclose(
        ours.map.codebook.numpy(), peer.get_weights(), atol=1e-5
    )


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
    with pytest.raises(ValueError, match="`map_shape` must be a pair"):
        SOM(9)
