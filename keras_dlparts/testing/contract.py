"""The contract every keras_dlparts part must pass.

TensorFlow-only: these checks use `tf.GradientTape`, `tf.train.Checkpoint`
and `tf.distribute.MirroredStrategy`, so they run on the TensorFlow backend.

`check_layer` runs every check of DESIGN.md on one layer class and
`check_model` on a model builder. Each check runs even when an earlier one
failed; at the end a `ContractError` lists every failed check by name, with
the reason, so a user sees at once what to fix. Each check starts from
`keras.utils.set_random_seed(0)` (Python, NumPy and Keras seeds), so results
repeat from run to run.
"""

import contextlib
import functools
import inspect
import json
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

#: The checks `check_layer` runs, in order.
LAYER_CHECKS = (
    "output_shape",
    "reference",
    "config",
    "keras_file",
    "checkpoint",
    "fit",
    "fit_jit",
    "fit_distributed",
    "mixed_precision",
    "gradients",
)

#: The checks `check_model` runs, in order.
MODEL_CHECKS = (
    "keras_file",
    "checkpoint",
    "fit",
    "fit_jit",
    "fit_distributed",
    "mixed_precision",
    "gradients",
)

_PLAIN_TYPES = (bool, int, float, str, type(None))


class ContractError(AssertionError):
    """Raised when a part fails one or more contract checks.

    `failures` maps each failed check's name to its reason.
    """

    def __init__(self, subject, failures):
        self.subject = subject
        self.failures = dict(failures)
        lines = [f"{subject} failed {len(failures)} contract check(s):"]
        lines += [f"  [{name}] {reason}" for name, reason in failures.items()]
        super().__init__("\n".join(lines))


def configure_logical_cpus(count=2):
    """Splits the physical CPU into `count` logical devices.

    `MirroredStrategy` then runs over several replicas on a CPU-only
    machine. Call it before TensorFlow creates any tensor (a `conftest.py`
    is the place); it returns the number of logical CPU devices in use.
    """
    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration()] * count
        )
    except RuntimeError:
        pass  # Already initialised: keep whatever configuration exists.
    return len(tf.config.list_logical_devices("CPU"))


# --------------------------------------------------------------------------
# Small helpers shared by the checks.
# --------------------------------------------------------------------------


def _as_tuple(inputs):
    if isinstance(inputs, (tuple, list)):
        return tuple(inputs)
    return (inputs,)


def _to_numpy(structure):
    return keras.tree.map_structure(
        lambda t: np.asarray(keras.ops.convert_to_numpy(t)), structure
    )


def _flat(structure):
    return [np.asarray(x) for x in keras.tree.flatten(structure)]


def _assert_close(actual, expected, atol, rtol, what):
    actual, expected = _flat(actual), _flat(expected)
    if len(actual) != len(expected):
        raise AssertionError(
            f"{what}: expected {len(expected)} outputs, got {len(actual)}"
        )
    for a, e in zip(actual, expected):
        if a.shape != e.shape:
            raise AssertionError(
                f"{what}: expected shape {e.shape}, got {a.shape}"
            )
        a64, e64 = a.astype("float64"), e.astype("float64")
        if not np.allclose(a64, e64, atol=atol, rtol=rtol):
            worst = float(np.max(np.abs(a64 - e64)))
            raise AssertionError(
                f"{what}: max abs difference {worst:.3g} exceeds "
                f"atol={atol:g}, rtol={rtol:g}"
            )


def _normalise(value):
    """Plain-value form used to compare configs (tuples become lists)."""
    if isinstance(value, (list, tuple)):
        return [_normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items()}
    return value


@contextlib.contextmanager
def _dtype_policy(name):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


@functools.lru_cache(maxsize=1)
def mirrored_strategy():
    """The process-wide `MirroredStrategy` over two logical devices.

    Use this one rather than a new strategy per test: several
    `MirroredStrategy` objects in one process can mix up their collective-op
    keys and fail with shape-mismatch errors.
    """
    devices = tf.config.list_logical_devices("CPU")
    gpus = tf.config.list_logical_devices("GPU")
    devices = gpus if len(gpus) >= 2 else devices
    if len(devices) < 2:
        raise AssertionError(
            "MirroredStrategy needs at least 2 logical devices, found "
            f"{len(devices)}; call keras_dlparts.testing."
            "configure_logical_cpus(2) before TensorFlow starts"
        )
    return tf.distribute.MirroredStrategy([d.name for d in devices[:2]])


def _float_random_like(structure, seed):
    rng = np.random.default_rng(seed)
    return keras.tree.map_structure(
        lambda t: rng.normal(size=np.shape(t)).astype("float32"), structure
    )


# --------------------------------------------------------------------------
# The case under test: how to build a fresh model and what to feed it.
# --------------------------------------------------------------------------


class _Case:
    """A model factory plus training data, shared by the layer and model checks."""

    def __init__(
        self,
        build,
        x,
        y,
        loss,
        learning_rate,
        epochs,
        batch_size,
        compile_fn=None,
    ):
        self.build = build
        self.compile_fn = compile_fn
        self.x = x
        self.y = y
        self.loss = loss
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size

    def compiled(self, jit_compile=False):
        model = self.build()
        if self.compile_fn is not None:
            self.compile_fn(model, jit_compile)
            return model
        model.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            loss=self.loss,
            jit_compile=jit_compile,
        )
        return model

    def fit_lowers_loss(self, model):
        """Fits a few epochs; the loss must fall.

        The loss is compared in inference mode (`evaluate` before and after)
        and, failing that, in training mode (the first and last epoch of
        `fit`): a few steps can lower the training loss while batch-norm
        moving statistics still lag behind in inference mode.
        """
        before = model.evaluate(
            self.x, self.y, batch_size=self.batch_size, verbose=0
        )
        history = model.fit(
            self.x,
            self.y,
            epochs=self.epochs,
            batch_size=self.batch_size,
            shuffle=False,
            verbose=0,
        )
        after = model.evaluate(
            self.x, self.y, batch_size=self.batch_size, verbose=0
        )
        before, after = _first(before), _first(after)
        if not np.isfinite(after):
            raise AssertionError(f"loss became {after} after fit")
        training = history.history.get("loss", [])
        if after < before or (len(training) > 1 and training[-1] < training[0]):
            return before, after
        raise AssertionError(
            f"fit did not lower the loss: {before:.6g} before, {after:.6g} "
            f"after {self.epochs} epochs (training loss {training[:1]} -> "
            f"{training[-1:]})"
        )

    def predict(self, model):
        return _to_numpy(model(self.x, training=False))


def _first(value):
    return float(value[0] if isinstance(value, (list, tuple)) else value)


def _check_keras_file(case, model_factory_output=None):
    model = model_factory_output or case.build()
    expected = case.predict(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "part.keras")
        model.save(path)
        reloaded = keras.saving.load_model(path, safe_mode=True)
    _assert_close(
        case.predict(reloaded), expected, 1e-6, 1e-6, "reloaded .keras model"
    )


def _check_checkpoint(case):
    model = case.compiled()
    model.fit(case.x, case.y, epochs=1, batch_size=case.batch_size, verbose=0)
    expected = case.predict(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = tf.train.Checkpoint(model=model).save(os.path.join(tmp, "ckpt"))
        fresh = case.build()
        # Build its variables first: a deferred restore would read the
        # checkpoint after this temporary directory is gone.
        case.predict(fresh)
        status = tf.train.Checkpoint(model=fresh).restore(path)
        status.assert_existing_objects_matched().expect_partial()
    _assert_close(
        case.predict(fresh), expected, 1e-6, 1e-6, "restored checkpoint"
    )


def _check_fit(case, jit_compile):
    case.fit_lowers_loss(case.compiled(jit_compile=jit_compile))


def _check_fit_distributed(case):
    strategy = mirrored_strategy()
    with strategy.scope():
        model = case.compiled()
    if model.distribute_strategy is not strategy:
        raise AssertionError("model was not created under the strategy")
    case.fit_lowers_loss(model)


#: Mixed-precision policies every part must train under, with the tolerance
#: of their outputs against float32 (bfloat16 keeps 8 bits of mantissa).
MIXED_POLICIES = {"mixed_float16": 5e-2, "mixed_bfloat16": 1e-1}


def _check_mixed_precision(case, reference_outputs):
    """Trains under each of `MIXED_POLICIES`; a failure names the policy."""
    for policy, tolerance in MIXED_POLICIES.items():
        try:
            _check_one_policy(case, reference_outputs, policy, tolerance)
        except Exception as error:
            raise AssertionError(
                f"under {policy}: {type(error).__name__}: {error}"
            ) from error


def _check_one_policy(case, reference_outputs, policy, tolerance):
    with _dtype_policy(policy):
        model = case.compiled()
    outputs = case.predict(model)
    for out in _flat(outputs):
        if np.issubdtype(out.dtype, np.floating) and not np.all(
            np.isfinite(out)
        ):
            raise AssertionError("non-finite outputs")
    for var in model.weights:
        if "float" in str(var.dtype) and var.dtype != "float32":
            raise AssertionError(
                f"variable {var.path} is {var.dtype}; variables must stay "
                "float32"
            )
    if reference_outputs is not None:
        model_f32 = case.build()
        model_f32.set_weights(model.get_weights())
        _assert_close(
            outputs,
            case.predict(model_f32),
            tolerance,
            tolerance,
            "outputs against float32",
        )
    case.fit_lowers_loss(model)


def _check_gradients(trainable_weights, loss_fn, owner):
    if not trainable_weights:
        return
    with tf.GradientTape() as tape:
        loss = loss_fn()
    grads = tape.gradient(loss, trainable_weights)
    missing = [
        w.path
        for w, g in zip(trainable_weights, grads)
        if g is None
        or not np.any(np.asarray(tf.convert_to_tensor(g)) != 0)
    ]
    if missing:
        raise AssertionError(
            f"no gradient reaches these trainable weights of {owner}: "
            f"{missing}"
        )


def training_checks(case, reference_outputs=None):
    """The four checks that train `case`: plain, XLA, mirrored, mixed precision.

    Shared by the contracts of layers, models, losses and optimizers;
    `reference_outputs` (float32 outputs) lets the mixed-precision check
    compare 16-bit outputs with them.
    """
    return {
        "fit": lambda: _check_fit(case, jit_compile=False),
        "fit_jit": lambda: _check_fit(case, jit_compile=True),
        "fit_distributed": lambda: _check_fit_distributed(case),
        "mixed_precision": lambda: _check_mixed_precision(
            case, reference_outputs
        ),
    }


def _run_checks(subject, checks, only, skip, seed=0):
    """Runs each named check; collects failures into one ContractError.

    Every check starts from `keras.utils.set_random_seed(seed)`, so that a
    check's weights and data do not depend on which checks ran before it and
    a failure repeats.
    """
    unknown = set(only or ()) | set(skip or ())
    unknown -= set(checks)
    if unknown:
        raise ValueError(
            f"Unknown contract check(s) {sorted(unknown)}; expected names "
            f"from {list(checks)}"
        )
    failures = {}
    for name, fn in checks.items():
        if (only and name not in only) or (skip and name in skip):
            continue
        keras.utils.set_random_seed(seed)
        try:
            fn()
        except Exception as error:  # noqa: BLE001 - reported by name below
            failures[name] = f"{type(error).__name__}: {error}"
    _record(subject, checks, only, skip, failures)
    if failures:
        raise ContractError(subject, failures)


#: Environment variable naming a JSON-lines file; when set, every contract
#: run appends its results there (see `keras_dlparts.testing.report`).
REPORT_ENV = "KERAS_DLPARTS_CONTRACT_REPORT"


def _record(subject, checks, only, skip, failures):
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    results = {
        name: ("fail" if name in failures else "pass")
        for name in checks
        if not ((only and name not in only) or (skip and name in skip))
    }
    with open(path, "a", encoding="utf-8") as report:
        record = {
            "subject": subject,
            "results": results,
            "partial": bool(only or skip),
        }
        report.write(json.dumps(record) + "\n")


# --------------------------------------------------------------------------
# Layers.
# --------------------------------------------------------------------------


def _layer_model(layer_cls, init_kwargs, inputs, call_kwargs, head):
    """A functional model: Input(s) -> layer -> optional Dense head."""
    symbolic = [
        keras.Input(shape=np.shape(x)[1:], dtype=str(np.asarray(x).dtype))
        for x in inputs
    ]
    layer = layer_cls(**init_kwargs)
    outputs = layer(*symbolic, **call_kwargs)
    if head:
        outputs = keras.tree.map_structure(
            lambda t: keras.layers.Dense(t.shape[-1], name=None)(t), outputs
        )
    model_inputs = symbolic[0] if len(symbolic) == 1 else symbolic
    return keras.Model(model_inputs, outputs)


def _check_output_shape(layer, inputs, call_kwargs, expected_dtype):
    outputs = layer(*inputs, **call_kwargs)
    shapes = [tuple(np.shape(x)) for x in inputs]
    declared = layer.compute_output_shape(*shapes)
    flat_out = keras.tree.flatten(outputs)
    declared = list(_shape_list(declared))
    if len(declared) != len(flat_out):
        raise AssertionError(
            f"compute_output_shape declares {len(declared)} outputs, the "
            f"call returned {len(flat_out)}"
        )
    for d, out in zip(declared, flat_out):
        actual = tuple(out.shape)
        if tuple(d) != actual:
            raise AssertionError(
                f"compute_output_shape{tuple(shapes)} returned {tuple(d)}, "
                f"the call returned shape {actual}"
            )
    want = expected_dtype or layer.compute_dtype
    first = flat_out[0]
    if keras.backend.standardize_dtype(first.dtype) != want:
        raise AssertionError(
            f"output dtype is {keras.backend.standardize_dtype(first.dtype)}, "
            f"expected {want}"
        )


def _shape_list(declared):
    """Flattens a nest of shape tuples into a list of shapes."""
    if isinstance(declared, (tuple, list)) and all(
        d is None or isinstance(d, int) for d in declared
    ):
        yield tuple(declared)
        return
    if isinstance(declared, dict):
        declared = list(declared.values())
    for item in declared:
        yield from _shape_list(item)


def check_config_keys(obj):
    """Raises if `obj.get_config()` lacks an argument of `type(obj).__init__`."""
    config = obj.get_config()
    params = inspect.signature(type(obj).__init__).parameters
    missing = [
        name
        for name, p in params.items()
        if name != "self"
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and name not in config
    ]
    if missing:
        raise AssertionError(
            f"get_config() lacks the __init__ argument(s) {missing}"
        )
    return config


def check_same_config(clone, config):
    """Raises if `clone.get_config()` differs from the original `config`."""
    if _normalise(clone.get_config()) != _normalise(config):
        raise AssertionError(
            "from_config(get_config()).get_config() differs from the original"
        )


def _same_setting(given, stored):
    """Whether a config entry records the constructor value `given`.

    A string naming a Keras object (`"glorot_uniform"`) is stored as its
    serialized form (`{"class_name": "GlorotUniform", ...}`).
    """
    if isinstance(given, str) and isinstance(stored, dict):
        name = str(stored.get("class_name", ""))
        return name.replace("_", "").lower() == given.replace("_", "").lower()
    return _normalise(stored) == _normalise(given)


def _check_config(layer_cls, layer, init_kwargs, inputs, call_kwargs):
    config = check_config_keys(layer)
    for name, value in init_kwargs.items():
        if isinstance(value, _PLAIN_TYPES + (list, tuple)) and name in config:
            if not _same_setting(value, config[name]):
                raise AssertionError(
                    f"get_config()[{name!r}] is {config[name]!r}, the layer "
                    f"was built with {value!r}"
                )
    clone = layer_cls.from_config(config)
    check_same_config(clone, config)
    clone(*inputs, **call_kwargs)
    clone.set_weights(layer.get_weights())
    _assert_close(
        _to_numpy(clone(*inputs, **call_kwargs)),
        _to_numpy(layer(*inputs, **call_kwargs)),
        1e-6,
        1e-6,
        "layer rebuilt from its config",
    )


def check_layer(
    layer_cls,
    init_kwargs,
    inputs,
    *,
    call_kwargs=None,
    reference=None,
    atol=1e-5,
    rtol=1e-5,
    expected_output_dtype=None,
    targets=None,
    loss="mse",
    learning_rate=1e-2,
    epochs=5,
    batch_size=None,
    only=None,
    skip=None,
):
    """Runs the whole keras_dlparts contract on a layer class.

    Args:
        layer_cls: the layer class under test.
        init_kwargs: dict of constructor arguments.
        inputs: one NumPy array, or a tuple of arrays passed positionally to
            `call`. The first axis is the batch.
        call_kwargs: dict of extra, non-tensor call arguments.
        reference: `None` or a callable `(layer, *inputs) -> expected`
            giving the outputs from an independent implementation (NumPy
            written from the formula, or the Keras peer) for the built
            `layer`, whose weights it may read.
        atol, rtol: tolerances for `reference`.
        expected_output_dtype: dtype of the output; defaults to the layer's
            compute dtype.
        targets: training targets for the fit checks; defaults to random
            normal values shaped like the outputs.
        loss: loss for the fit checks.
        learning_rate, epochs, batch_size: the fit checks' Adam run.
        only, skip: restrict the checks run (names from `LAYER_CHECKS`);
            for debugging a part, not for hiding a failure.

    Raises:
        ContractError: listing every failed check by name.

    Examples:

        >>> import numpy as np, keras
        >>> from keras_dlparts.testing import check_layer
        >>> check_layer(keras.layers.Dense, {"units": 3},
        ...             np.ones((4, 2), "float32"),
        ...             reference=lambda layer, x: x @ layer.kernel.numpy()
        ...             + layer.bias.numpy(), only=["output_shape", "reference"])
    """
    inputs = _as_tuple(inputs)
    call_kwargs = dict(call_kwargs or {})
    init_kwargs = dict(init_kwargs)
    subject = f"{layer_cls.__name__}({_describe(init_kwargs)})"

    layer = layer_cls(**init_kwargs)
    outputs = _to_numpy(layer(*inputs, **call_kwargs))
    head = not layer.trainable_weights
    if targets is None:
        targets = _float_random_like(outputs, seed=1)
    batch = batch_size or len(inputs[0])
    x = inputs[0] if len(inputs) == 1 else list(inputs)
    case = _Case(
        lambda: _layer_model(layer_cls, init_kwargs, inputs, call_kwargs, head),
        x,
        targets,
        loss,
        learning_rate,
        epochs,
        batch,
    )
    rng = np.random.default_rng(2)
    projection = keras.tree.map_structure(
        lambda o: rng.normal(size=o.shape).astype("float32"), outputs
    )

    def weighted_output_sum():
        out = keras.tree.flatten(layer(*inputs, training=True, **call_kwargs))
        return sum(
            tf.reduce_sum(tf.cast(o, "float32") * p)
            for o, p in zip(out, keras.tree.flatten(projection))
            if o.dtype.is_floating
        )

    def reference_check():
        if reference is None:
            return
        expected = reference(layer, *inputs)
        _assert_close(outputs, expected, atol, rtol, "reference")

    checks = {
        "output_shape": lambda: _check_output_shape(
            layer_cls(**init_kwargs), inputs, call_kwargs, expected_output_dtype
        ),
        "reference": reference_check,
        "config": lambda: _check_config(
            layer_cls, layer, init_kwargs, inputs, call_kwargs
        ),
        "keras_file": lambda: _check_keras_file(case),
        "checkpoint": lambda: _check_checkpoint(case),
        **training_checks(case, outputs),
        "gradients": lambda: _check_gradients(
            layer.trainable_weights, weighted_output_sum, layer.name
        ),
    }
    _run_checks(subject, checks, only, skip)


# --------------------------------------------------------------------------
# Models.
# --------------------------------------------------------------------------


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

    Args:
        build_fn: callable with no arguments returning a fresh, uncompiled
            `keras.Model`. It is called under `MirroredStrategy` and under
            the `mixed_float16` policy, so it must create every layer afresh.
        x, y: a small training set (NumPy arrays or lists of them); `y`
            is `None` for models that train on `x` alone (their own
            `train_step`).
        loss: the loss to compile with (ignored when `compile_fn` is given).
        compile_fn: `None` or a callable `(model, jit_compile)` that
            compiles `model` itself, for models with their own `compile`
            signature (several optimizers, no loss). The fit checks then
            require the first value `evaluate` returns to fall.
        gradient_loss: `None` or a callable `(model) -> scalar` whose
            gradient must reach every trainable weight; by default a random
            projection of `model(x, training=True)`.
        learning_rate, epochs, batch_size: the fit checks' Adam run.
        only, skip: restrict the checks run (names from `MODEL_CHECKS`).

    Raises:
        ContractError: listing every failed check by name.
    """
    batch = batch_size or len(keras.tree.flatten(x)[0])
    case = _Case(
        build_fn, x, y, loss, learning_rate, epochs, batch, compile_fn
    )
    probe = build_fn()
    name = getattr(build_fn, "__name__", repr(build_fn))
    subject = f"model {probe.name!r} from {name}"
    projection = None

    def model_loss():
        nonlocal projection
        if gradient_loss is not None:
            return gradient_loss(probe)
        out = keras.tree.flatten(probe(x, training=True))
        if projection is None:
            projection = _float_random_like(_to_numpy(out), seed=2)
        return sum(
            tf.reduce_sum(tf.cast(o, "float32") * p)
            for o, p in zip(out, projection)
            if o.dtype.is_floating
        )

    checks = {
        "keras_file": lambda: _check_keras_file(case, probe),
        "checkpoint": lambda: _check_checkpoint(case),
        **training_checks(case),
        "gradients": lambda: _check_gradients(
            probe.trainable_weights, model_loss, probe.name
        ),
    }
    _run_checks(subject, checks, only, skip)


def _describe(kwargs):
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
