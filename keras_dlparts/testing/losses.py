"""The contract for losses: `check_loss`.

The loss is checked on its own (config, reference numbers, finite
gradients under the backend's XLA compilation) and as the loss of a small
model (saving and training, with the checks of
`keras_dlparts.testing.harness.training_checks`). Failures are reported as
one `ContractError` naming every failed check.
"""

import os
import tempfile

import keras
import numpy as np

from keras_dlparts.testing import harness

#: The checks `check_loss` runs, in order.
LOSS_CHECKS = (
    "config",
    "reference",
    "finite_gradients",
    "keras_file",
    *harness.TRAINING_CHECKS,
)


def _value(loss, y_true, y_pred):
    return np.asarray(keras.ops.convert_to_numpy(loss(y_true, y_pred)))


def _check_config(loss_fn, y_true, y_pred):
    loss = loss_fn()
    cls = type(loss)
    config = harness.check_config_keys(loss)
    clone = keras.losses.deserialize(keras.losses.serialize(loss))
    if type(clone) is not cls:
        raise AssertionError(
            f"deserialize(serialize(loss)) gave a {type(clone).__name__}, "
            f"expected {cls.__name__}"
        )
    harness.check_same_config(clone, config)
    harness.assert_close(
        _value(clone, y_true, y_pred),
        _value(loss, y_true, y_pred),
        1e-6,
        1e-6,
        "loss rebuilt from its config",
    )


def _check_reference(loss_fn, y_true, y_pred, reference, atol, rtol):
    if reference is None:
        return
    harness.assert_close(
        _value(loss_fn(), y_true, y_pred),
        np.asarray(reference(y_true, y_pred), "float64"),
        atol,
        rtol,
        "reference",
    )


def _check_finite_gradients(loss_fn, y_true, y_pred):
    loss = loss_fn()
    value_and_gradient = _compiled_value_and_gradient(loss)
    for dtype in ("float32", "float16"):
        value, gradient = value_and_gradient(
            keras.ops.convert_to_tensor(y_true),
            keras.ops.convert_to_tensor(np.asarray(y_pred, dtype)),
        )
        if gradient is None:
            raise AssertionError(f"no gradient reaches {dtype} y_pred")
        for what, t in (("loss", value), ("gradient", gradient)):
            t = np.asarray(keras.ops.convert_to_numpy(t), "float32")
            if not np.all(np.isfinite(t)):
                raise AssertionError(
                    f"non-finite {what} under jit_compile=True with {dtype} "
                    f"y_pred: {t.ravel()[~np.isfinite(t.ravel())][:3]}"
                )


def _compiled_value_and_gradient(loss):
    """`(y_true, y_pred) -> (loss, d loss / d y_pred)`, compiled with XLA.

    TensorFlow: `tf.function(jit_compile=True)` around a `GradientTape`;
    JAX: `jax.jit` around `jax.value_and_grad` (of the loss summed, should
    the loss not reduce to a scalar, as the tape does).
    """
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        @tf.function(jit_compile=True)
        def tf_value_and_gradient(y_true, y_pred):
            with tf.GradientTape() as tape:
                tape.watch(y_pred)
                value = loss(y_true, y_pred)
            return value, tape.gradient(value, y_pred)

        return tf_value_and_gradient
    import jax

    def summed(y_pred, y_true):
        value = loss(y_true, y_pred)
        return keras.ops.sum(value), value

    gradient_fn = jax.value_and_grad(summed, has_aux=True)

    @jax.jit
    def jax_value_and_gradient(y_true, y_pred):
        (_, value), gradient = gradient_fn(y_pred, y_true)
        return value, gradient

    return jax_value_and_gradient


def _check_keras_file(case, loss_fn):
    model = case.compiled()
    model.fit(case.x, case.y, batch_size=case.batch_size, verbose=0)
    expected = model.evaluate(
        case.x, case.y, batch_size=case.batch_size, verbose=0
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
    want = loss_fn()
    if type(reloaded.loss) is not type(want):
        raise AssertionError(
            f"the reloaded model's loss is {reloaded.loss!r}, expected a "
            f"{type(want).__name__}"
        )
    if harness.normalise(reloaded.loss.get_config()) != harness.normalise(
        want.get_config()
    ):
        raise AssertionError(
            "the reloaded loss's config differs from the original: "
            f"{reloaded.loss.get_config()} != {want.get_config()}"
        )
    harness.assert_close(
        reloaded.evaluate(
            case.x, case.y, batch_size=case.batch_size, verbose=0
        ),
        expected,
        1e-6,
        1e-6,
        "loss of the reloaded .keras model",
    )


def _default_build_fn(x, y_pred):
    out_shape = tuple(np.shape(y_pred)[1:]) or (1,)

    def build():
        return keras.Sequential(
            [
                keras.Input(np.shape(x)[1:]),
                keras.layers.Dense(16, activation="tanh"),
                keras.layers.Dense(int(np.prod(out_shape))),
                keras.layers.Reshape(out_shape),
            ]
        )

    return build


def check_loss(
    loss_fn,
    y_true,
    y_pred,
    *,
    reference=None,
    atol=1e-5,
    rtol=1e-5,
    build_fn=None,
    x=None,
    y=None,
    learning_rate=1e-2,
    epochs=5,
    batch_size=None,
    only=None,
    skip=None,
):
    """Runs the keras_dlparts contract on a loss.

    Checks: `config` (every `__init__` argument in `get_config()`;
    `serialize`/`deserialize` gives the same class, config and value),
    `reference` (the value on `(y_true, y_pred)` matches `reference`),
    `finite_gradients` (value and gradient with respect to `y_pred` are
    finite under `jit_compile=True` for float32 and float16 `y_pred`: put
    the degenerate cases, such as coincident embeddings, in the sample),
    `keras_file` (a compiled model saved to a `.keras` file and reloaded
    with `safe_mode=True` has the same loss class, config and value),
    `fit`, `fit_jit`, `fit_distributed` and `mixed_precision` (a few epochs of
    Adam lower the loss, also with `jit_compile=True`, data-parallel over
    two devices (`MirroredStrategy` on TensorFlow, `DataParallel` on JAX)
    and under `mixed_float16` and `mixed_bfloat16`).

    Args:
        loss_fn: callable with no arguments returning a fresh loss.
        y_true, y_pred: a NumPy sample batch for the value checks.
        reference: `None` or a callable `(y_true, y_pred) -> value` written
            in NumPy from the definition.
        atol, rtol: tolerances of `reference`.
        build_fn: callable returning a fresh uncompiled model from `x` to
            predictions; defaults to a small MLP whose output has the shape
            of `y_pred` (one row per sample of `x`).
        x, y: training data; default to random inputs with one row per row
            of `y_pred`, and `y_true`.
        learning_rate, epochs, batch_size: the training checks' Adam run;
            the batch defaults to the whole of `x` (losses over a batch,
            such as `TripletLoss` or `CLIPLoss`, see it all).
        only, skip: restrict the checks run (names from `LOSS_CHECKS`).

    Raises:
        ContractError: listing every failed check by name.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.losses import RobustLoss
        >>> check_loss(lambda: RobustLoss(alpha=2.0),  # half the squared error
        ...            np.zeros((4, 2)), np.ones((4, 2)),
        ...            reference=lambda t, p: np.mean((p - t) ** 2) / 2,
        ...            only=["config", "reference", "finite_gradients"])
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred, "float32")
    if x is None:
        rng = np.random.default_rng(0)
        x = rng.normal(size=(len(y_pred), 8)).astype("float32")
        y = y_true
    build_fn = build_fn or _default_build_fn(x, y_pred)
    batch = batch_size or len(keras.tree.flatten(x)[0])

    def compile_fn(model, jit_compile):
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate),
            loss=loss_fn(),
            jit_compile=jit_compile,
        )

    case = harness.Case(
        build_fn, x, y, None, learning_rate, epochs, batch, compile_fn
    )
    subject = f"loss {type(loss_fn()).__name__}"
    checks = {
        "config": lambda: _check_config(loss_fn, y_true, y_pred),
        "reference": lambda: _check_reference(
            loss_fn, y_true, y_pred, reference, atol, rtol
        ),
        "finite_gradients": lambda: _check_finite_gradients(
            loss_fn, y_true, y_pred
        ),
        "keras_file": lambda: _check_keras_file(case, loss_fn),
        **harness.training_checks(case),
    }
    harness.run_checks(subject, checks, only, skip)
