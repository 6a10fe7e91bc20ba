"""The contract's harness: cases, running checks, comparing, reporting.

Every contract (`check_layer`, `check_model`, `check_loss`,
`check_optimizer`) builds a dict of named checks and hands it to
`run_checks`. Each check runs even when an earlier one failed; at the end a
`ContractError` lists every failed check by name, with the reason, so a
user sees at once what to fix. Each check starts from
`keras.utils.set_random_seed(0)` (Python, NumPy and Keras seeds), so results
repeat from run to run.

The checks that train (`training_checks`) and the gradient check run on the
active Keras backend: TensorFlow and JAX.
"""

import contextlib
import inspect
import json
import os

import keras
import numpy as np

from keras_dlparts._autodiff import value_and_gradients
from keras_dlparts.testing import devices

#: Mixed-precision policies every part must run under, with the tolerance
#: of their outputs against float32 (bfloat16 keeps 8 bits of mantissa).
MIXED_POLICIES = {"mixed_float16": 5e-2, "mixed_bfloat16": 1e-1}

#: The policies under which a layer's or a model's contract trains with
#: `fit`: float16, whose narrow range makes Keras scale the loss. Under the
#: others (bfloat16 has float32's range) one training-mode gradient must be
#: finite (see `check_finite_gradients`). The contracts of losses and
#: optimizers, whose subject acts only in training, fit under every policy.
LAYER_FIT_POLICIES = ("mixed_float16",)

#: Environment variable naming a JSON-lines file; when set, every contract
#: run appends its results there (see `keras_dlparts.testing.report`).
REPORT_ENV = "KERAS_DLPARTS_CONTRACT_REPORT"

#: Types of constructor arguments whose value `get_config()` must repeat.
PLAIN_TYPES = (bool, int, float, str, type(None))


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


# --------------------------------------------------------------------------
# Comparing values.
# --------------------------------------------------------------------------


def to_numpy(structure):
    """Every tensor of a nest as a NumPy array."""
    return keras.tree.map_structure(
        lambda t: np.asarray(keras.ops.convert_to_numpy(t)), structure
    )


def flat(structure):
    """The leaves of a nest as a list of NumPy arrays."""
    return [np.asarray(x) for x in keras.tree.flatten(structure)]


def assert_close(actual, expected, atol, rtol, what):
    """Raises an `AssertionError` naming `what` unless the nests agree."""
    actual, expected = flat(actual), flat(expected)
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


def float_random_like(structure, seed):
    """Standard normal float32 arrays shaped like the leaves of `structure`."""
    rng = np.random.default_rng(seed)
    return keras.tree.map_structure(
        lambda t: rng.normal(size=np.shape(t)).astype("float32"), structure
    )


def is_floating(tensor):
    return "float" in keras.backend.standardize_dtype(tensor.dtype)


# --------------------------------------------------------------------------
# Configs.
# --------------------------------------------------------------------------


def normalise(value):
    """Plain-value form used to compare configs (tuples become lists)."""
    if isinstance(value, (list, tuple)):
        return [normalise(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


def check_config_keys(obj):
    """Raises if `obj.get_config()` lacks an argument of its `__init__`."""
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
    if normalise(clone.get_config()) != normalise(config):
        raise AssertionError(
            "from_config(get_config()).get_config() differs from the original"
        )


def same_setting(given, stored):
    """Whether a config entry records the constructor value `given`.

    A string naming a Keras object (`"glorot_uniform"`) is stored as its
    serialized form (`{"class_name": "GlorotUniform", ...}`).
    """
    if isinstance(given, str) and isinstance(stored, dict):
        name = str(stored.get("class_name", ""))
        return name.replace("_", "").lower() == given.replace("_", "").lower()
    return normalise(stored) == normalise(given)


# --------------------------------------------------------------------------
# The case under test: how to build a fresh model and what to feed it.
# --------------------------------------------------------------------------


class Case:
    """A model factory plus training data, shared by every contract.

    Args:
        build: callable with no arguments returning a fresh, uncompiled model.
        x, y: the training data (`y` may be `None`).
        loss: the loss to compile with when `compile_fn` is `None`.
        learning_rate: Adam's learning rate when `compile_fn` is `None`.
        epochs, batch_size: the fit checks' run.
        compile_fn: `None` or a callable `(model, jit_compile)` compiling
            the model itself.
        build_optimizer_first: whether `fit_lowers_loss` builds
            `model.optimizer` before `fit` (see `build_optimizer`). The
            optimizer contract passes `False`: there `fit` must also build
            the optimizer under test inside its first traced step, as it
            does for a user on TensorFlow.
        gradient_loss: `None` or a callable `(model) -> scalar` for the
            mixed-precision gradient (see `LAYER_FIT_POLICIES`); by default
            a random projection of `model(x, training=True)`.
    """

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
        build_optimizer_first=True,
        gradient_loss=None,
    ):
        self.build = build
        self.gradient_loss = gradient_loss
        self.compile_fn = compile_fn
        self.build_optimizer_first = build_optimizer_first
        self.x = x
        self.y = y
        self.loss = loss
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self._fitted = None

    def compiled(self, jit_compile=None):
        """A fresh model, compiled.

        `jit_compile=None` compiles as a plain `compile()` does on a CPU:
        TensorFlow traces `tf.function` graphs without XLA, JAX compiles
        each step with XLA (`jit_compile=False` would run JAX op by op).
        """
        if jit_compile is None:
            jit_compile = keras.backend.backend() == "jax"
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

    def divisible_batches(self, replicas):
        """This case with every batch a multiple of `replicas` samples.

        A data-parallel step splits each batch evenly over the devices: the
        batch size is rounded down to a multiple of `replicas` (at least
        `replicas`) and the data cut to a multiple of it, so that the last
        batch splits too. Returns `self` when nothing needs to change.
        """
        count = len(keras.tree.flatten(self.x)[0])
        batch = max(replicas, self.batch_size - self.batch_size % replicas)
        keep = count - count % replicas
        if batch == self.batch_size and keep == count:
            return self
        if keep < replicas:
            raise AssertionError(
                f"{count} training sample(s) cannot be split over "
                f"{replicas} devices"
            )

        def cut(data):
            return keras.tree.map_structure(lambda a: a[:keep], data)

        y = None if self.y is None else cut(self.y)
        return Case(
            self.build,
            cut(self.x),
            y,
            self.loss,
            self.learning_rate,
            self.epochs,
            batch,
            self.compile_fn,
            self.build_optimizer_first,
            self.gradient_loss,
        )

    def fit_lowers_loss(self, model):
        """Fits a few epochs; the loss must fall.

        The training loss is looked at first: it must be finite and lower
        in the last epoch than in the first, and the weights finite after
        `fit`. Failing that, the loss is compared in inference mode
        (`evaluate` with the weights before and after `fit`): a few steps
        can lower the inference loss while the training loss, drawn with
        dropout or noise, does not show it. `evaluate` compiles a step of
        its own, so it runs only when the training loss did not fall.
        """
        if not model.built:
            # Builds the variables, so that the weights before `fit` exist.
            self._evaluate(model)
        if self.build_optimizer_first:
            build_optimizer(model)
        start = model.get_weights()
        x, y, steps = self._epochs_in_one_pass()
        history = model.fit(
            x,
            y,
            epochs=self.epochs,
            batch_size=self.batch_size,
            steps_per_epoch=steps,
            shuffle=False,
            verbose=0,
        )
        training = history.history.get("loss", [])
        if _fell(training):
            _check_finite_weights(model)
            return
        trained = model.get_weights()
        model.set_weights(start)
        before = self._evaluate(model)
        model.set_weights(trained)
        after = self._evaluate(model)
        if not np.isfinite(after):
            raise AssertionError(f"loss became {after} after fit")
        if after < before:
            return
        raise AssertionError(
            f"fit did not lower the loss: {before:.6g} before, {after:.6g} "
            f"after {self.epochs} epochs (training loss {training[:1]} -> "
            f"{training[-1:]})"
        )

    def _epochs_in_one_pass(self):
        """`(x, y, steps_per_epoch)` giving `fit` the same batches, cheaper.

        Keras makes a new data iterator whenever one runs out (a distributed
        one costs about 0.3 s on TensorFlow). When the batches divide the
        data evenly, the data repeated once per epoch, read
        `steps_per_epoch` batches at a time, gives each epoch the very
        batches of the plain data, from one iterator.
        """
        samples = len(keras.tree.flatten(self.x)[0])
        steps = -(-samples // self.batch_size)
        if samples % self.batch_size:
            return self.x, self.y, steps

        def repeated(data):
            return keras.tree.map_structure(
                lambda a: np.concatenate([np.asarray(a)] * self.epochs),
                data,
            )

        y = None if self.y is None else repeated(self.y)
        return repeated(self.x), y, steps

    def _evaluate(self, model):
        loss = model.evaluate(
            self.x, self.y, batch_size=self.batch_size, verbose=0
        )
        return _first(loss)

    def fitted(self):
        """`(model, failure)`: a fresh model trained by `fit_lowers_loss`.

        Trained once per case and shared by the `fit` and `checkpoint`
        checks; `failure` is the `AssertionError` raised when the loss did
        not fall (the model has trained all the same), else `None`.
        """
        if self._fitted is None:
            model = self.compiled()
            try:
                self.fit_lowers_loss(model)
                failure = None
            except AssertionError as error:
                failure = error
            self._fitted = (model, failure)
        return self._fitted

    def predict(self, model):
        """`model`'s inference outputs on `x`, as NumPy arrays.

        On JAX a built model runs as one `jax.jit` computation: op by op,
        JAX compiles every distinct operation separately, several times
        slower for a small network.
        """
        if keras.backend.backend() != "jax" or not model.built:
            return to_numpy(model(self.x, training=False))
        import jax

        # As `model(x)` does, pass `training` only where `call` takes it.
        parameters = inspect.signature(model.call).parameters
        kwargs = {"training": False} if "training" in parameters else {}

        def forward(trainable, non_trainable, x):
            outputs, _ = model.stateless_call(
                trainable, non_trainable, x, **kwargs
            )
            return outputs

        values = [
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
        ]
        return to_numpy(jax.jit(forward)(*values, self.x))


def build_optimizer(model):
    """Builds a built model's `optimizer` for its weights, if not yet built.

    The numbers of `fit` do not change; its first step compiles faster on
    TensorFlow. There, `fit` would create the optimizer's variables while
    tracing the first step, and a `tf.function` that creates variables is
    traced twice: building first made the contract's fit of a small U-Net
    (about 100 weights) 2.8x faster. On TensorFlow the variables are created
    under the model's distribution strategy, as Keras does.
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built or not model.built:
        return
    strategy = getattr(model, "distribute_strategy", None)
    with strategy.scope() if strategy else contextlib.nullcontext():
        optimizer.build(model.trainable_variables)


def _first(value):
    return float(value[0] if isinstance(value, (list, tuple)) else value)


def _fell(losses):
    """Whether the last of several finite epoch losses is below the first."""
    return (
        len(losses) > 1
        and bool(np.all(np.isfinite(losses)))
        and losses[-1] < losses[0]
    )


def _check_finite_weights(model):
    bad = [
        v.path
        for v in model.weights
        if is_floating(v) and not np.all(np.isfinite(to_numpy(v.value)))
    ]
    if bad:
        raise AssertionError(f"weights became non-finite after fit: {bad}")


# --------------------------------------------------------------------------
# The checks that train, shared by every contract.
# --------------------------------------------------------------------------


@contextlib.contextmanager
def dtype_policy(name):
    """Sets the global dtype policy to `name` for the block."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def check_fit(case, jit_compile):
    """Trains `case` as compiled with `jit_compile`; the loss must fall.

    The default compilation (`jit_compile=None`) reuses the run of
    `case.fitted()`; the other one trains afresh.
    """
    if jit_compile is None:
        failure = case.fitted()[1]
        if failure is not None:
            raise failure
        return
    case.fit_lowers_loss(case.compiled(jit_compile))


def check_fit_distributed(case):
    """Trains `case` data-parallel over two devices; the loss must fall.

    On TensorFlow the model is created under `mirrored_strategy()`; on JAX
    it is created, compiled and trained under the `data_parallel()`
    distribution, and every variable must be laid out over both devices.
    """
    if keras.backend.backend() == "tensorflow":
        strategy = devices.mirrored_strategy()
        with strategy.scope():
            model = case.compiled()
        if model.distribute_strategy is not strategy:
            raise AssertionError("model was not created under the strategy")
        case.fit_lowers_loss(model)
        return
    distribution = devices.data_parallel()
    replicas = len(distribution.device_mesh.devices.flatten())
    case = case.divisible_batches(replicas)
    with distribution.scope():
        model = case.compiled()
        devices.check_distributed_variables(model.variables, replicas)
        case.fit_lowers_loss(model)
        optimizer = getattr(model, "optimizer", None)
        devices.check_distributed_variables(
            list(model.variables) + list(getattr(optimizer, "variables", [])),
            replicas,
        )


def check_mixed_precision(case, reference_outputs, fit_policies):
    """Runs `case` under each of `MIXED_POLICIES`; a failure names the policy.

    Under every policy the outputs must be finite and the variables stay
    float32; under `fit_policies` `fit` must lower the loss, under the
    others a training-mode gradient must be finite and not all zero
    (`check_finite_gradients`). With `reference_outputs`, the outputs are
    compared with float32 ones: a float32 twin of the model is built and
    run once, and each policy's model starts from the twin's weights.
    """
    twin = None if reference_outputs is None else {}
    for policy, tolerance in MIXED_POLICIES.items():
        try:
            _check_one_policy(
                case, policy, tolerance, twin, policy in fit_policies
            )
        except Exception as error:
            raise AssertionError(
                f"under {policy}: {type(error).__name__}: {error}"
            ) from error


def _check_one_policy(case, policy, tolerance, twin, fit):
    with dtype_policy(policy):
        model = case.compiled()
    if twin is not None:
        if not twin:
            float32 = case.build()
            twin["outputs"] = case.predict(float32)
            twin["weights"] = float32.get_weights()
        if not model.built:
            case.predict(model)  # builds the variables set below
        model.set_weights(twin["weights"])
    outputs = case.predict(model)
    for out in flat(outputs):
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
    if twin is not None:
        assert_close(
            outputs,
            twin["outputs"],
            tolerance,
            tolerance,
            "outputs against float32",
        )
    if fit:
        case.fit_lowers_loss(model)
        return
    projection = float_random_like(outputs, seed=2)

    def loss():
        if case.gradient_loss is not None:
            return keras.ops.cast(case.gradient_loss(model), "float32")
        return projected_sum(model(case.x, training=True), projection)

    check_finite_gradients(model, loss)


#: The names of the checks `training_checks` returns, in order.
TRAINING_CHECKS = ("fit", "fit_jit", "fit_distributed", "mixed_precision")


def training_checks(case, reference_outputs=None, fit_policies=None):
    """The four checks that train `case`: plain, XLA, distributed, mixed.

    Shared by the contracts of layers, models, losses and optimizers;
    `reference_outputs` (float32 outputs) lets the mixed-precision check
    compare 16-bit outputs with them, and `fit_policies` names the
    policies it trains under with `fit` (all of `MIXED_POLICIES` when
    `None`; see `check_mixed_precision`). On TensorFlow `fit` trains with
    `tf.function` graphs and `fit_jit` with XLA; on JAX every `compile()`
    uses XLA, so both names report one run.
    """
    if keras.backend.backend() == "jax":
        # A plain compile() on JAX compiles with XLA: `fit` and `fit_jit` are
        # the same seeded run, made once and reported under both names.
        fit = fit_jit = _once(lambda: check_fit(case, jit_compile=None))
    else:
        fit = lambda: check_fit(case, jit_compile=None)  # noqa: E731
        fit_jit = lambda: check_fit(case, jit_compile=True)  # noqa: E731
    return {
        "fit": fit,
        "fit_jit": fit_jit,
        "fit_distributed": lambda: check_fit_distributed(case),
        "mixed_precision": lambda: check_mixed_precision(
            case,
            reference_outputs,
            tuple(MIXED_POLICIES) if fit_policies is None else fit_policies,
        ),
    }


def _once(check):
    """`check`, run at its first call; later calls repeat its outcome."""
    outcome = []

    def run():
        if not outcome:
            try:
                check()
                outcome.append(None)
            except Exception as error:  # noqa: BLE001 - raised again below
                outcome.append(error)
        if outcome[0] is not None:
            raise outcome[0]

    return run


def projected_sum(outputs, projection):
    """The float32 sum of each floating output times its `projection`."""
    return sum(
        keras.ops.sum(keras.ops.cast(o, "float32") * p)
        for o, p in zip(keras.tree.flatten(outputs), flat(projection))
        if is_floating(o)
    )


def check_gradients(owner, loss_fn):
    """Raises unless a nonzero gradient of `loss_fn()` reaches every weight.

    `owner` is the layer or model whose `trainable_weights` must all get
    one; its other variables (batch-norm statistics, seeds) update as in a
    training step. Gradients come from the backend's own autodiff
    (`tf.GradientTape`, `jax.value_and_grad` under one `jax.jit`).
    """
    weights = list(owner.trainable_weights)
    if not weights:
        return
    grads = _gradients_as_numpy(weights, owner, loss_fn)
    missing = [
        w.path for w, g in zip(weights, grads) if g is None or not np.any(g)
    ]
    if missing:
        raise AssertionError(
            f"no gradient reaches these trainable weights of {owner.name}: "
            f"{missing}"
        )


def check_finite_gradients(owner, loss_fn):
    """Raises unless the gradients of `loss_fn()` are finite, not all zero.

    The 16-bit counterpart of `check_gradients`: there a weight whose
    float32 gradient is only rounding noise (a key bias under softmax) may
    get exactly zero.
    """
    weights = list(owner.trainable_weights)
    if not weights:
        return
    grads = _gradients_as_numpy(weights, owner, loss_fn)
    not_finite = [
        w.path
        for w, g in zip(weights, grads)
        if g is not None and not np.all(np.isfinite(g))
    ]
    if not_finite:
        raise AssertionError(
            f"non-finite gradients for these trainable weights of "
            f"{owner.name}: {not_finite}"
        )
    if not any(g is not None and np.any(g) for g in grads):
        raise AssertionError(
            f"no gradient reaches any trainable weight of {owner.name}"
        )


def _gradients_as_numpy(weights, owner, loss_fn):
    grads = _owner_gradients(weights, owner.non_trainable_variables, loss_fn)
    return [None if g is None else _gradient_to_numpy(g) for g in grads]


def _owner_gradients(weights, state_variables, loss_fn):
    """The gradients of `loss_fn()` w.r.t. `weights`; state updates kept.

    On JAX the forward and backward passes run as one XLA computation
    (`jax.jit` over a `keras.StatelessScope`) rather than op by op, which
    compiles every distinct operation separately: several times faster
    for a U-Net. The gradients are the same `jax.value_and_grad` ones.
    """

    def compute():
        _, grads = value_and_gradients(
            lambda: (loss_fn(), None), weights, state_variables
        )
        return grads

    if keras.backend.backend() != "jax":
        return compute()
    import jax

    weight_ids = {id(w) for w in weights}
    state_variables = [v for v in state_variables if id(v) not in weight_ids]
    variables = weights + state_variables

    def pure(values):
        mapping = list(zip(variables, values))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            grads = compute()
        return grads, [scope.get_current_value(v) for v in state_variables]

    grads, updates = jax.jit(pure)([v.value for v in variables])
    for variable, value in zip(state_variables, updates):
        variable.assign(value)
    return grads


def _gradient_to_numpy(gradient):
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gradient = tf.convert_to_tensor(gradient)  # IndexedSlices too
    return np.asarray(keras.ops.convert_to_numpy(gradient))


# --------------------------------------------------------------------------
# Running the checks and recording them for the sweep.
# --------------------------------------------------------------------------


def run_checks(subject, checks, only, skip, seed=0):
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
            "backend": keras.backend.backend(),
            "results": results,
            "partial": bool(only or skip),
        }
        report.write(json.dumps(record) + "\n")


def describe(kwargs):
    """`k=v` pairs of constructor arguments, for a contract's subject."""
    return ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
