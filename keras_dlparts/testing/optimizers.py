"""The contract for optimizers: `check_optimizer`.

The optimizer is checked on its own (config, the update rule against a
NumPy reference) and as the optimizer of a small model (its state through
the backend's checkpoint and a `.keras` file, and training, with the checks
of `keras_dlparts.testing.harness.training_checks`). Failures are reported
as one `ContractError` naming every failed check.
"""

import contextlib
import os
import tempfile

import keras
import numpy as np

from keras_dlparts.testing import checkpoint
from keras_dlparts.testing import harness

#: The checks `check_optimizer` runs, in order.
OPTIMIZER_CHECKS = (
    "config",
    "reference",
    "checkpoint",
    "keras_file",
    *harness.TRAINING_CHECKS,
)

#: Sizes of the two variables the `reference` check updates together; the
#: reference sees them concatenated into one flat vector.
REFERENCE_SHAPES = ((3, 4), (5,))


def optimizer_problem(steps=20, seed=0):
    """The fixed problem of the `reference` check.

    A noisy quadratic bowl over a flat vector of 17 weights: the gradient at
    step `t` (counted from 0) is `curvature * (w - target) + noise[t]`, so
    that gradients change sign from step to step.

    Returns:
        `(w0, gradient_fn)`: the float64 starting weights and a function
        `gradient_fn(w, t)` returning the float64 gradient at `w`.
    """
    size = sum(int(np.prod(s)) for s in REFERENCE_SHAPES)
    rng = np.random.default_rng(seed)
    w0 = rng.normal(size=size)
    target = rng.normal(size=size)
    curvature = rng.uniform(0.5, 2.0, size=size)
    noise = rng.normal(scale=0.5, size=(steps, size))

    def gradient_fn(w, t):
        return curvature * (np.asarray(w, "float64") - target) + noise[t]

    return w0, gradient_fn


def _keras_trajectory(optimizer, steps, dtype):
    w0, gradient_fn = optimizer_problem(steps)
    splits = np.cumsum([int(np.prod(s)) for s in REFERENCE_SHAPES])[:-1]
    variables = [
        keras.Variable(part.reshape(shape), dtype=dtype)
        for part, shape in zip(np.split(w0, splits), REFERENCE_SHAPES)
    ]

    def flat():
        return np.concatenate([np.ravel(v.numpy()) for v in variables])

    trajectory = []
    for t in range(steps):
        g = np.split(gradient_fn(flat(), t).astype(dtype), splits)
        grads = [
            keras.ops.convert_to_tensor(part.reshape(shape))
            for part, shape in zip(g, REFERENCE_SHAPES)
        ]
        optimizer.apply(grads, variables)
        trajectory.append(flat())
    return np.stack(trajectory)


def _float64_enabled(dtype):
    """JAX computes in float32 unless x64 is on: on for a float64 run."""
    if keras.backend.backend() == "jax" and dtype == "float64":
        import jax

        if hasattr(jax, "enable_x64"):
            return jax.enable_x64(True)
        # JAX before `jax.enable_x64` (the 0.4.30 floor) has it here only.
        from jax.experimental import enable_x64

        return enable_x64(True)
    return contextlib.nullcontext()


def _check_reference(optimizer_fn, reference, steps, atol, dtype):
    if reference is None:
        return
    w0, gradient_fn = optimizer_problem(steps)
    expected = np.asarray(reference(w0.copy(), gradient_fn, steps))
    with _float64_enabled(dtype):
        actual = _keras_trajectory(optimizer_fn(), steps, dtype)
    if expected.shape != actual.shape:
        raise AssertionError(
            f"reference returned shape {expected.shape}, expected "
            f"{actual.shape} (one row of weights per step)"
        )
    for t in range(steps):
        worst = float(np.max(np.abs(actual[t] - expected[t])))
        if not worst <= atol:
            raise AssertionError(
                f"step {t + 1} of {steps}: max abs difference {worst:.3g} "
                f"from the reference exceeds atol={atol:g}"
            )


def _check_config(optimizer_fn):
    optimizer = optimizer_fn()
    cls = type(optimizer)
    config = harness.check_config_keys(optimizer)
    serialized = keras.optimizers.serialize(optimizer)
    clone = keras.optimizers.deserialize(serialized)
    if type(clone) is not cls:
        raise AssertionError(
            f"deserialize(serialize(optimizer)) gave a {type(clone).__name__}, "
            f"expected {cls.__name__}"
        )
    harness.check_same_config(clone, config)


def _train_steps(model, case, epochs=1):
    model.fit(
        case.x,
        case.y,
        epochs=epochs,
        batch_size=case.batch_size,
        shuffle=False,
        verbose=0,
    )
    return [np.asarray(w) for w in model.get_weights()]


def _optimizer_state(optimizer):
    return [
        np.asarray(keras.ops.convert_to_numpy(v)) for v in optimizer.variables
    ]


def _check_checkpoint(case):
    model = case.compiled()
    _train_steps(model, case)
    state = _optimizer_state(model.optimizer)
    with tempfile.TemporaryDirectory() as tmp:
        restore = checkpoint.save(model, tmp, optimizer=True)
        expected = _train_steps(model, case)
        fresh = case.compiled()
        fresh.optimizer.build(fresh.trainable_variables)
        restore(fresh)
    harness.assert_close(
        _optimizer_state(fresh.optimizer),
        state,
        0,
        0,
        "optimizer variables restored from the checkpoint",
    )
    harness.assert_close(
        _train_steps(fresh, case),
        expected,
        1e-6,
        1e-6,
        "weights after training on from the restored checkpoint",
    )


def _check_keras_file(case):
    model = case.compiled()
    _train_steps(model, case)
    state = _optimizer_state(model.optimizer)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
    if type(reloaded.optimizer) is not type(model.optimizer):
        raise AssertionError(
            f"the reloaded optimizer is a {type(reloaded.optimizer).__name__}, "
            f"expected {type(model.optimizer).__name__}"
        )
    harness.assert_close(
        _optimizer_state(reloaded.optimizer),
        state,
        0,
        0,
        "optimizer variables reloaded from the .keras file",
    )
    harness.assert_close(
        _train_steps(reloaded, case),
        _train_steps(model, case),
        1e-6,
        1e-6,
        "weights after training on from the reloaded .keras file",
    )


def _default_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = np.tanh(x @ rng.normal(size=(8, 1))).astype("float32")
    return x, y


def _default_model():
    return keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(1),
        ]
    )


def check_optimizer(
    optimizer_fn,
    *,
    reference=None,
    steps=20,
    atol=1e-6,
    reference_dtype="float64",
    build_fn=None,
    x=None,
    y=None,
    loss="mse",
    epochs=5,
    batch_size=16,
    only=None,
    skip=None,
):
    """Runs the keras_dlparts contract on an optimizer.

    Checks: `config` (every `__init__` argument in `get_config()`,
    `serialize`/`deserialize` round trip), `reference` (20 steps on the
    fixed problem of `optimizer_problem` match a NumPy reference at every
    step), `checkpoint` (slots saved and restored by the backend's
    checkpoint: `tf.train.Checkpoint` on TensorFlow, the model's
    `.weights.h5` file on JAX; training on from the restored state repeats
    the original run),
    `keras_file` (the same through a compiled model saved to a `.keras`
    file and reloaded with `safe_mode=True`), `fit`, `fit_jit`,
    `fit_distributed` and `mixed_precision` (a few epochs lower the loss,
    without and with `jit_compile=True`, data-parallel over two devices,
    and under `mixed_float16` and `mixed_bfloat16`).

    Args:
        optimizer_fn: callable with no arguments returning a fresh optimizer
            (it is called many times, also under a distribution scope).
        reference: `None` or a callable `(w0, gradient_fn, steps) ->
            trajectory` written in NumPy from the update rule: starting from
            the flat float64 weights `w0`, it takes `steps` steps with the
            gradients `gradient_fn(w, t)` and returns the weights after each
            step, shaped `(steps, w0.size)`.
        steps, atol: length of the reference run and its tolerance.
        reference_dtype: dtype of the variables the optimizer updates in
            the reference run. float64 (the default) compares the update
            rule itself, free of float32 rounding, which after 20 steps of
            an adaptive rule can reach 1e-6 on its own. Keras casts
            Python-float hyperparameters through float32 (0.999 becomes
            0.99900001), so give the optimizer and the reference values
            exact in float32 (0.875, 1 - 2**-10) when comparing in float64.
        build_fn: callable returning a fresh uncompiled model for the
            training checks; defaults to a small MLP on `x`.
        x, y, loss, epochs, batch_size: the training checks' data and loss;
            default to a small generated regression problem with "mse".
        only, skip: restrict the checks run (names from `OPTIMIZER_CHECKS`).

    Raises:
        ContractError: listing every failed check by name.

    Examples:

        >>> import numpy as np, keras
        >>> def sgd_reference(w, gradient_fn, steps):
        ...     out = []
        ...     for t in range(steps):
        ...         w = w - 0.1 * gradient_fn(w, t)
        ...         out.append(w)
        ...     return np.stack(out)
        >>> check_optimizer(lambda: keras.optimizers.SGD(0.1),
        ...                 reference=sgd_reference,
        ...                 only=["reference", "config"])
    """
    if x is None:
        x, y = _default_data()
    build_fn = build_fn or _default_model

    def compile_fn(model, jit_compile):
        model.compile(
            optimizer=optimizer_fn(), loss=loss, jit_compile=jit_compile
        )

    case = harness.Case(
        build_fn,
        x,
        y,
        loss,
        None,
        epochs,
        batch_size,
        compile_fn,
        build_optimizer_first=False,
    )
    subject = f"optimizer {type(optimizer_fn()).__name__}"
    checks = {
        "config": lambda: _check_config(optimizer_fn),
        "reference": lambda: _check_reference(
            optimizer_fn, reference, steps, atol, reference_dtype
        ),
        "checkpoint": lambda: _check_checkpoint(case),
        "keras_file": lambda: _check_keras_file(case),
        **harness.training_checks(case),
    }
    harness.run_checks(subject, checks, only, skip)
