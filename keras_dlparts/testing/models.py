"""The contract for models: `check_model`.

Also the two saving checks every part goes through as a model:
`check_keras_file` (a `.keras` file reloads with `safe_mode=True`) and
`check_checkpoint` (the backend's checkpoint restores a trained model's
weights, see `keras_dlparts.testing.checkpoint`).
"""

import os
import tempfile

import keras

from keras_dlparts.testing import checkpoint
from keras_dlparts.testing import harness

#: The checks `check_model` runs, in order.
MODEL_CHECKS = (
    "keras_file",
    "checkpoint",
    *harness.TRAINING_CHECKS,
    "gradients",
)


def check_keras_file(case, model=None):
    """A model saved to `.keras` reloads with `safe_mode=True`, same outputs."""
    model = model or case.build()
    expected = case.predict(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "part.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
    harness.assert_close(
        case.predict(reloaded), expected, 1e-6, 1e-6, "reloaded .keras model"
    )


def check_checkpoint(case):
    """A trained model's checkpoint restores into a fresh one, same outputs."""
    model = case.fitted()[0]
    expected = case.predict(model)
    with tempfile.TemporaryDirectory() as tmp:
        restore = checkpoint.save(model, tmp)
        fresh = case.build()
        if not fresh.built:
            # Build its variables first: a deferred restore would read the
            # checkpoint after this temporary directory is gone.
            case.predict(fresh)
        restore(fresh)
    harness.assert_close(
        case.predict(fresh), expected, 1e-6, 1e-6, "restored checkpoint"
    )


def check_model(
    build_fn,
    x,
    y=None,
    *,
    loss="mse",
    compile_fn=None,
    gradient_loss=None,
    learning_rate=1e-2,
    epochs=5,
    batch_size=None,
    only=None,
    skip=None,
):
    """Runs the contract on a model builder.

    Checks (see `MODEL_CHECKS`): `keras_file`, `checkpoint`, `fit`,
    `fit_jit`, `fit_distributed`, `mixed_precision` and `gradients`, as
    for `check_layer`.

    Args:
        build_fn: callable with no arguments returning a fresh, uncompiled
            `keras.Model`. It is called under the distribution of
            `fit_distributed` and under mixed-precision policies, so it must
            create every layer afresh.
        x, y: a small training set (NumPy arrays or lists of them); `y`
            is `None` for models that train on `x` alone (their own
            `train_step`).
        loss: the loss to compile with (ignored when `compile_fn` is given).
        compile_fn: `None` or a callable `(model, jit_compile)` that
            compiles `model` itself, for models with their own `compile`
            signature (several optimizers, no loss). The fit checks then
            require the first value `evaluate` returns to fall.
        gradient_loss: `None` or a callable `(model) -> scalar` whose
            gradient must reach every trainable weight (in float32, and
            finite under `mixed_bfloat16`); by default a random projection
            of `model(x, training=True)`.
        learning_rate, epochs, batch_size: the fit checks' Adam run. On
            JAX, `fit_distributed` rounds the batch size down to an even
            number and drops an odd last sample, so that each batch splits
            over two devices.
        only, skip: restrict the checks run (names from `MODEL_CHECKS`).

    Raises:
        ContractError: listing every failed check by name.

    Examples:

        >>> import numpy as np, keras
        >>> def build():
        ...     return keras.Sequential(
        ...         [keras.Input((3,)), keras.layers.Dense(1)])
        >>> check_model(build, np.ones((8, 3)), np.zeros((8, 1)),
        ...             only=["keras_file", "gradients"])
    """
    batch = batch_size or len(keras.tree.flatten(x)[0])
    case = harness.Case(
        build_fn,
        x,
        y,
        loss,
        learning_rate,
        epochs,
        batch,
        compile_fn,
        gradient_loss=gradient_loss,
    )
    probe = build_fn()
    name = getattr(build_fn, "__name__", repr(build_fn))
    subject = f"model {probe.name!r} from {name}"
    projection = None

    def model_loss():
        nonlocal projection
        if gradient_loss is not None:
            return gradient_loss(probe)
        out = probe(x, training=True)
        if projection is None:
            # Shapes only: on JAX `out` is traced.
            projection = harness.float_random_like(
                keras.tree.flatten(out), seed=2
            )
        return harness.projected_sum(out, projection)

    checks = {
        "keras_file": lambda: check_keras_file(case, probe),
        "checkpoint": lambda: check_checkpoint(case),
        **harness.training_checks(case, None, harness.LAYER_FIT_POLICIES),
        "gradients": lambda: harness.check_gradients(probe, model_loss),
    }
    harness.run_checks(subject, checks, only, skip)
