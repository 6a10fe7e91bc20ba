"""Tests of keras_dlparts.models.AnomalyDetector."""

import os

import keras
import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.models import AnomalyDetector
from keras_dlparts.models import build_autoencoder
from keras_dlparts.testing import check_model


def _detector(quantile=0.95):
    return AnomalyDetector(
        build_autoencoder((64,), 8, hidden_units=(32,)), quantile=quantile
    )


def _compile(model, jit_compile):
    model.compile(keras.optimizers.Adam(1e-2), jit_compile=jit_compile)


@pytest.mark.slow
def test_contract():
    x = np.random.default_rng(0).random((16, 64)).astype("float32")
    check_model(_detector, x, compile_fn=_compile, epochs=3)


@pytest.mark.slow
def test_score_threshold_and_flags_match_numpy():
    x = np.random.default_rng(1).random((50, 64)).astype("float32")
    detector = _detector(quantile=0.8)
    _compile(detector, "auto")
    detector.fit(x, epochs=2, batch_size=10, verbose=0)
    reconstructions = np.asarray(detector(x))
    expected = np.mean((x - reconstructions) ** 2, axis=-1)
    scores = detector.score(x)
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    threshold = float(detector.threshold.numpy())
    assert threshold == pytest.approx(np.quantile(expected, 0.8), rel=1e-5)
    flags = detector.predict(x)
    assert flags.dtype == bool
    np.testing.assert_array_equal(flags, expected > threshold)
    assert np.mean(flags) == pytest.approx(0.2, abs=0.02)


@pytest.mark.slow
def test_threshold_is_saved_and_training_resumes(tmp_path):
    x = np.random.default_rng(2).random((32, 64)).astype("float32")
    detector = _detector()
    _compile(detector, "auto")
    detector.fit(x, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "detector.keras")
    detector.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert float(reloaded.threshold.numpy()) == float(
        detector.threshold.numpy()
    )
    np.testing.assert_array_equal(reloaded.predict(x), detector.predict(x))
    before = reloaded.evaluate(x, verbose=0)
    reloaded.fit(x, epochs=3, verbose=0)
    assert reloaded.evaluate(x, verbose=0) < before


@pytest.mark.slow
@pytest.mark.learning
def test_held_out_digit_is_flagged_more_often():
    (x_train, y_train), (x_test, y_test) = load_digits(as_images=False)
    anomaly = 8
    keras.utils.set_random_seed(0)
    detector = AnomalyDetector(
        build_autoencoder((64,), 8, hidden_units=(64,)), quantile=0.95
    )
    detector.compile(keras.optimizers.Adam(3e-3))
    detector.fit(
        x_train[y_train != anomaly], epochs=40, batch_size=64, verbose=0
    )
    flags = detector.predict(x_test)
    normal_rate = float(np.mean(flags[y_test != anomaly]))
    anomaly_rate = float(np.mean(flags[y_test == anomaly]))
    assert anomaly_rate > 3 * normal_rate and anomaly_rate > 0.3, (
        anomaly_rate,
        normal_rate,
    )


def test_bad_arguments_and_unfitted_threshold():
    with pytest.raises(ValueError, match="quantile"):
        _detector(quantile=1.0)
    with pytest.raises(TypeError, match="autoencoder"):
        AnomalyDetector(keras.layers.Dense(3))
    detector = _detector()
    with pytest.raises(ValueError, match="not fitted"):
        detector.predict(np.zeros((2, 64), "float32"))
