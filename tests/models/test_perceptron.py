import os
import tempfile

import keras
import numpy as np
import pytest

from keras_dlparts.models import PerceptronClassifier
from keras_dlparts.testing import check_model

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
AND = np.array([0, 0, 0, 1], "float32")
OR = np.array([0, 1, 1, 1], "float32")
XOR = np.array([0, 1, 1, 0], "float32")


def _compile(model, jit_compile=False):
    model.compile(jit_compile=jit_compile)


def _numpy_rule(x, a, epochs, lr=1.0):
    """The textbook online rule, one sample at a time, from zero weights."""
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(epochs):
        for xi, ai in zip(x, a):
            f = float(xi @ w + b > 0)
            w, b = w + lr * (ai - f) * xi, b + lr * (ai - f)
    return w, b


@pytest.mark.slow
def test_contract():
    check_model(
        lambda: PerceptronClassifier(),
        X,
        AND,
        compile_fn=_compile,
        batch_size=4,
    )


@pytest.mark.parametrize("targets", [AND, OR], ids=["and", "or"])
def test_learns_and_and_or_exactly_by_the_perceptron_rule(targets):
    model = PerceptronClassifier(learning_rate=0.5)
    _compile(model)
    history = model.fit(X, targets, batch_size=1, epochs=8, shuffle=False,
                        verbose=0)
    np.testing.assert_array_equal(np.asarray(model(X)).ravel(), targets)
    assert history.history["accuracy"][-1] == 1.0
    w, b = _numpy_rule(X, targets, epochs=8, lr=0.5)
    np.testing.assert_allclose(
        model.perceptron.kernel.numpy().ravel(), w, atol=1e-6
    )
    np.testing.assert_allclose(model.perceptron.bias.numpy(), [b], atol=1e-6)


def test_never_fits_xor():
    model = PerceptronClassifier()
    _compile(model)
    history = model.fit(X, XOR, batch_size=1, epochs=25, shuffle=False,
                        verbose=0)
    # No line separates XOR: every epoch gets at most 3 of its 4 points.
    assert max(history.history["accuracy"]) <= 0.75
    _, accuracy = model.evaluate(X, XOR, verbose=0)
    assert accuracy <= 0.75


def test_several_outputs_and_saving_keep_training():
    targets = np.stack([AND, OR], axis=1)
    model = PerceptronClassifier(units=2)
    _compile(model)
    model.fit(X, targets, batch_size=1, epochs=2, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "perceptron.keras")
        model.save(path)
        loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(
        np.asarray(loaded(X)), np.asarray(model(X))
    )
    _compile(loaded)
    loaded.fit(X, targets, batch_size=1, epochs=10, shuffle=False, verbose=0)
    np.testing.assert_array_equal(np.asarray(loaded(X)), targets)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`learning_rate` must be a positive"):
        PerceptronClassifier(learning_rate=0)
    with pytest.raises(ValueError, match="`units` must be a positive integer"):
        PerceptronClassifier(units=0)
    model = PerceptronClassifier()
    _compile(model)
    with pytest.raises(ValueError, match="needs targets"):
        model.fit(X, epochs=1, verbose=0)
