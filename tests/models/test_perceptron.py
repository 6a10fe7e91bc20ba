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


def _compile(model, jit_compile="auto"):
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
    history = model.fit(
        X, targets, batch_size=1, epochs=8, shuffle=False, verbose=0
    )
    np.testing.assert_array_equal(np.asarray(model(X)).ravel(), targets)
    assert history.history["accuracy"][-1] == 1.0
    w, b = _numpy_rule(X, targets, epochs=8, lr=0.5)
    np.testing.assert_allclose(
        model.perceptron.kernel.numpy().ravel(), w, atol=1e-6
    )
    np.testing.assert_allclose(model.perceptron.bias.numpy(), [b], atol=1e-6)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
def test_batch_rule_from_random_weights_equals_numpy_and_repeats(jit_compile):
    # The same numbers on every backend: each is checked against NumPy.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(12, 3)).astype("float32")
    targets = (x @ np.array([1.0, -2.0, 0.5]) > 0.1).astype("float32")

    def run():
        keras.utils.set_random_seed(7)
        model = PerceptronClassifier(
            learning_rate=0.1, kernel_initializer="random_normal"
        )
        model.compile(jit_compile=jit_compile)
        model.build((None, 3))
        start = model.perceptron.kernel.numpy().astype("float64").ravel()
        model.fit(x, targets, batch_size=4, epochs=2, shuffle=False, verbose=0)
        return model, start

    model, w = run()
    b = 0.0
    for _ in range(2):
        for i in range(0, len(x), 4):
            xb, ab = x[i : i + 4].astype("float64"), targets[i : i + 4]
            error = ab - (xb @ w + b > 0)
            w, b = w + 0.1 * xb.T @ error, b + 0.1 * error.sum()
    np.testing.assert_allclose(
        model.perceptron.kernel.numpy().ravel(), w, atol=1e-5
    )
    np.testing.assert_allclose(model.perceptron.bias.numpy(), [b], atol=1e-5)
    again, _ = run()
    np.testing.assert_array_equal(
        again.perceptron.kernel.numpy(), model.perceptron.kernel.numpy()
    )


def test_never_fits_xor():
    model = PerceptronClassifier()
    _compile(model)
    history = model.fit(
        X, XOR, batch_size=1, epochs=25, shuffle=False, verbose=0
    )
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
    np.testing.assert_array_equal(np.asarray(loaded(X)), np.asarray(model(X)))
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
    with pytest.raises(ValueError, match=r"`y` must hold targets 0 or 1.*-1"):
        model.fit(X, 2 * XOR - 1, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="`y` must have a batch axis"):
        model.evaluate(X[:0], XOR[:0], verbose=0)
    with pytest.raises(ValueError, match=r"1 target\(s\) per example"):
        model.evaluate(X, np.stack([XOR, XOR], axis=1), verbose=0)
