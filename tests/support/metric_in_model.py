"""A stateful metric inside `compile`/`fit`/`evaluate`, saved and reloaded.

The model passes its input through unchanged (a Dense layer with an
identity kernel, trained with a learning rate of 0), so the metric logged
by `fit` and `evaluate` must equal the metric of the inputs against the
targets computed directly. `two_raters` makes labels for classification
metrics.
"""

import os

import keras
import numpy as np
import pytest

from keras_dlparts.testing import distribution_scope


def two_raters(n=40, classes=5, seed=0):
    """Labels of two raters who agree on about 60% of `n` examples, and
    positive example weights."""
    rng = np.random.default_rng(seed)
    first = rng.integers(0, classes, n)
    second = np.where(rng.random(n) < 0.6, first, rng.integers(0, classes, n))
    return first, second, rng.uniform(0.1, 2.0, n)


def _passthrough(shape):
    inputs = keras.Input(shape)
    outputs = keras.layers.Dense(
        shape[-1], kernel_initializer="identity", name="passthrough"
    )(inputs)
    return keras.Model(inputs, outputs)


def _compiled(shape, metric, loss, weighted, jit=False):
    model = _passthrough(shape)
    model.compile(
        keras.optimizers.SGD(0.0),
        loss,
        # Keras passes `sample_weight` to `weighted_metrics` only.
        metrics=None if weighted else [metric],
        weighted_metrics=[metric] if weighted else None,
        jit_compile=jit,
    )
    return model


def check_in_model(
    make_metric,
    x,
    y,
    expected,
    sample_weight=None,
    tmp_path=None,
    distributed=True,
    batch_size=8,
    loss="mse",
):
    """`fit` and `evaluate` (eager, jit, data-parallel) log `expected`.

    Args:
        make_metric: makes a fresh metric.
        x: the predictions, fed as the model's input `(n, ..., width)`
            (the identity acts on the last axis: images pass too).
        y: the targets.
        expected: the metric of `x` against `y` over all examples.
        sample_weight: optional per-example weights.
        tmp_path: where to save the model; it must evaluate the same after
            `load_model(safe_mode=True)`.
        distributed: also evaluate under `distribution_scope()`.
        batch_size: an even batch size smaller than `n`.
        loss: a loss that takes `y` and `x` (nothing is learnt).
    """
    x = np.asarray(x, "float32")
    name = make_metric().name
    weighted = sample_weight is not None
    kwargs = dict(batch_size=batch_size, verbose=0, return_dict=True)
    for jit in (False, True):
        model = _compiled(x.shape[1:], make_metric(), loss, weighted, jit)
        logs = model.evaluate(x, y, sample_weight=sample_weight, **kwargs)
        assert logs[name] == pytest.approx(expected, abs=1e-5)
    history = model.fit(
        x,
        y,
        sample_weight=sample_weight,
        batch_size=batch_size,
        epochs=1,
        shuffle=False,
        verbose=0,
    )
    assert history.history[name][0] == pytest.approx(expected, abs=1e-5)
    if distributed:
        with distribution_scope():
            parallel = _compiled(x.shape[1:], make_metric(), loss, weighted)
            logs = parallel.evaluate(
                x, y, sample_weight=sample_weight, **kwargs
            )
        assert logs[name] == pytest.approx(expected, abs=1e-5)
    if tmp_path is not None:
        path = os.path.join(str(tmp_path), "m.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
        logs = reloaded.evaluate(x, y, sample_weight=sample_weight, **kwargs)
        assert logs[name] == pytest.approx(expected, abs=1e-5)
