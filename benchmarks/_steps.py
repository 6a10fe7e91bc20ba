"""Backend-neutral compiled steps shared by the benchmark scripts.

Every benchmark times one of our parts against its peer on the active
Keras backend (`KERAS_BACKEND`, TensorFlow unless set). This module holds
the only backend-specific code they need, so that each script runs
unchanged on TensorFlow and on JAX:

- `TrainStep(module, forward)`: one training step (forward, MSE loss,
  backward, Adam update) of the variables of `module`, compiled with
  `tf.function` + `tf.GradientTape` on TensorFlow (graph mode, or XLA with
  `jit_compile=True`) and with `jax.jit` + `jax.value_and_grad` over a
  `keras.StatelessScope` on JAX (always XLA), plus the operation counts of
  the traced step;
- `Forward(module, forward)`: a compiled forward pass that can be compiled
  for one input shape without running (for peak-memory measurements);
- `MODES`: the compiled modes each backend offers (`graph` and `xla` on
  TensorFlow, `xla` on JAX);
- `repeated_batch(x)`: the cheapest endless input of one whole batch;
- memory readers and `describe()` for the report.

Each backend is imported only when it is the active one.
"""

import os
import platform
import resource

import keras

BACKEND = keras.backend.backend()
#: (name, jit_compile) of each compiled mode of the active backend. JAX has
#: no graph mode other than XLA (uncompiled JAX is eager, op by op).
MODES = (
    (("graph", False), ("xla", True))
    if BACKEND == "tensorflow"
    else (("xla", True),)
)


def parse_args(parser, argv=None, presets=None):
    """`parser.parse_args(argv)` where a preset flag sets other defaults.

    `presets` maps the name of a boolean flag (`"quick"`) to the values it
    gives other arguments; an argument given explicitly keeps its value
    (`--quick --repeats 9` runs the quick shapes 9 times).
    """
    args, _ = parser.parse_known_args(argv)
    for flag, values in (presets or {}).items():
        if getattr(args, flag):
            parser.set_defaults(**values)
    return parser.parse_args(argv)


def describe():
    """One line: backend and versions, CPU count, load average."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        version = f"tensorflow {tf.__version__}"
        devices = [d.device_type for d in tf.config.list_physical_devices()]
    elif BACKEND == "jax":
        import jax

        version = f"jax {jax.__version__}"
        devices = [d.platform for d in jax.devices()]
    else:
        raise SystemExit(
            f"the benchmarks run on tensorflow and jax. Received: "
            f"KERAS_BACKEND={BACKEND!r}"
        )
    gpu = any(d.lower() in ("gpu", "cuda") for d in devices)
    try:
        load = "load average " + " ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        load = "load average unknown"
    return (
        f"backend {BACKEND} ({version}, keras {keras.__version__}), "
        f"{'GPU' if gpu else 'CPU'}, {os.cpu_count()} cores "
        f"{platform.machine()}, {load}"
    )


def on_gpu():
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_logical_devices("GPU"))
    import jax

    return jax.devices()[0].platform == "gpu"


def _mse(out, y):
    out = keras.ops.cast(out, "float32")
    return keras.ops.mean(keras.ops.square(out - y))


class TrainStep:
    """One compiled training step of `module`'s trainable variables.

    Args:
        module: a Keras layer or model (its variables are trained).
        forward: callable `forward(x) -> output`, calling `module` (and
            nothing else with variables), e.g. `lambda x: layer(x, x,
            training=True)`.
        jit_compile: on TensorFlow, XLA (`True`) or graph mode (`False`);
            on JAX the step is always `jax.jit`-compiled.
        learning_rate: Adam's learning rate.

    `run(x, y, steps)` runs `steps` steps (the loss is the mean squared
    error of `forward(x)` against `y`), waits for the last one and returns
    its loss as a float. The variables of `module` are updated on
    TensorFlow; on JAX the step keeps its own state (the module's variables
    keep their initial values), which is all a timing needs.
    """

    def __init__(self, module, forward, jit_compile=True, learning_rate=1e-3):
        self.module = module
        self.forward = forward
        self.optimizer = keras.optimizers.Adam(learning_rate)
        self.optimizer.build(module.trainable_variables)
        if BACKEND == "tensorflow":
            self._build_tensorflow(jit_compile)
        else:
            self._build_jax()

    # TensorFlow: tf.function + GradientTape, variables updated in place.
    def _build_tensorflow(self, jit_compile):
        import tensorflow as tf

        variables = self.module.trainable_variables

        @tf.function(jit_compile=jit_compile)
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = _mse(self.forward(x), y)
            grads = tape.gradient(loss, variables)
            self.optimizer.apply(grads, variables)
            return loss

        self._step = step

    # JAX: jax.jit of a pure function of the variables' values.
    def _build_jax(self):
        import jax

        trainable = list(self.module.trainable_variables)
        non_trainable = list(self.module.non_trainable_variables)

        def loss_fn(tv, ntv, x, y):
            mapping = list(zip(trainable, tv)) + list(zip(non_trainable, ntv))
            with keras.StatelessScope(state_mapping=mapping) as scope:
                loss = _mse(self.forward(x), y)
            return loss, [scope.get_current_value(v) for v in non_trainable]

        def step(tv, ntv, ov, x, y):
            (loss, ntv), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                tv, ntv, x, y
            )
            tv, ov = self.optimizer.stateless_apply(ov, grads, tv)
            return loss, tv, ntv, ov

        self._pure_step = step
        self._step = jax.jit(step)
        self._state = [
            [v.value for v in trainable],
            [v.value for v in non_trainable],
            [v.value for v in self.optimizer.variables],
        ]

    def run(self, x, y, steps=1):
        loss = None
        for _ in range(steps):
            if BACKEND == "tensorflow":
                loss = self._step(x, y)
            else:
                loss, *self._state = self._step(*self._state, x, y)
        return float(loss)  # waits for the last step

    def prepare(self, x, y):
        """Traces (TensorFlow) or compiles (JAX) the step for these shapes
        without running it, so that the memory of the first `run` is the
        step's own (TensorFlow compiles XLA at the first run)."""
        if BACKEND == "tensorflow":
            self._step.get_concrete_function(x, y)
        else:
            self._step = self._step.lower(*self._state, x, y).compile()

    def op_counts(self, x, y):
        """{operation type: count} of the traced step, nested ones included.

        TensorFlow: the ops of the `tf.function` graph and its gradient
        functions; JAX: the primitives of the step's jaxpr and its
        sub-jaxprs (loops, conditionals, custom derivatives).
        """
        counts = {}
        if BACKEND == "tensorflow":
            graph = self._step.get_concrete_function(x, y).graph
            graphs = [graph] + [f.graph for f in graph._functions.values()]
            for g in graphs:
                for op in g.get_operations():
                    counts[op.type] = counts.get(op.type, 0) + 1
            return counts
        import jax

        _count_jaxpr(
            jax.make_jaxpr(self._pure_step)(*self._state, x, y).jaxpr, counts
        )
        return counts


def _count_jaxpr(jaxpr, counts):
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        counts[name] = counts.get(name, 0) + 1
        for param in eqn.params.values():
            for sub in param if isinstance(param, (list, tuple)) else [param]:
                sub = getattr(sub, "jaxpr", sub)  # ClosedJaxpr -> Jaxpr
                if hasattr(sub, "eqns"):
                    _count_jaxpr(sub, counts)


def describe_op_counts(a, b, names=("ours", "keras")):
    """One line comparing two op-count dictionaries."""
    line = (
        f"{names[0]} {sum(a.values())} ops, {names[1]} {sum(b.values())} ops; "
        f"identical op-type counts: {a == b}"
    )
    if a != b:
        diff = {
            k: a.get(k, 0) - b.get(k, 0)
            for k in sorted(set(a) | set(b))
            if a.get(k, 0) != b.get(k, 0)
        }
        line += f" ({names[0]} minus {names[1]}: {diff})"
    return line


class Forward:
    """A compiled forward pass `forward(x)` of `module`, without training.

    `module` is the layer or model whose variables `forward` reads (None
    if it reads none); TensorFlow compiles with `tf.function` (graph mode),
    JAX with `jax.jit`.

    `prepare(x)` traces/compiles it for `x`'s shape without running it, so
    that the first call then measures only the computation; `__call__(x)`
    runs it and waits for the result.
    """

    def __init__(self, module, forward):
        self.module = module
        self.forward = forward
        self._compiled = {}
        if BACKEND == "tensorflow":
            import tensorflow as tf

            self._fn = tf.function(forward)
        else:
            import jax

            variables = list(module.variables) if module is not None else []

            def pure(values, x):
                with keras.StatelessScope(
                    state_mapping=list(zip(variables, values))
                ):
                    return forward(x)

            self._fn = jax.jit(pure)
            self._values = [v.value for v in variables]

    def prepare(self, x):
        if BACKEND == "tensorflow":
            self._fn.get_concrete_function(x)
        else:
            key = (tuple(x.shape), str(x.dtype))
            self._compiled[key] = self._fn.lower(self._values, x).compile()

    def __call__(self, x):
        if BACKEND == "tensorflow":
            out = self._fn(x)
            return keras.ops.convert_to_numpy(out)
        key = (tuple(x.shape), str(x.dtype))
        fn = self._compiled.get(key, self._fn)
        out = fn(self._values, x)
        out.block_until_ready()
        return out


def repeated_batch(x):
    """`x` as one batch, endlessly: the input of `fit(..., steps_per_epoch=1)`.

    TensorFlow: `tf.data.Dataset.from_tensors(x).repeat()` (with a Python
    generator there, MiniSom's Python loop timed next in the same process
    ran 4x slower, most likely because `tf.data` keeps calling the
    generator from a prefetching thread after `fit` returns); JAX: a
    generator of `(x,)`, read in the calling thread. Either avoids
    rebuilding the input pipeline every epoch as `fit(x, batch_size=len(x))`
    does.
    """
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.data.Dataset.from_tensors(x).repeat()

    def batches():
        while True:
            yield (x,)

    return batches()


def rss_bytes():
    """The process's resident set size now (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def reset_peak_rss():
    """Resets the kernel's peak resident set size of this process (Linux's
    `/proc/self/clear_refs`); `peak_rss_since_reset()` reads it."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def peak_rss_since_reset():
    """The process's peak resident set size since `reset_peak_rss()`."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise OSError("no VmHWM line in /proc/self/status")


def peak_rss_bytes():
    """The process's peak resident set size so far (Linux: KiB -> bytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def gpu_memory():
    """(bytes in use now, reset-able peak reader) on the GPU; None on CPU."""
    if not on_gpu():
        return None
    if BACKEND == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.reset_memory_stats("GPU:0")
        before = tf.config.experimental.get_memory_info("GPU:0")["current"]
        return before, lambda: tf.config.experimental.get_memory_info("GPU:0")[
            "peak"
        ]
    import jax

    device = jax.devices()[0]
    before = device.memory_stats()["bytes_in_use"]
    return before, lambda: device.memory_stats()["peak_bytes_in_use"]


def interleaved(runs, repeats, time_one):
    """Times each of `runs` (name -> callable) `repeats` times, interleaved.

    The order rotates every repeat so that no run always goes first.
    `time_one(fn)` returns a measurement; returns name -> list of them.
    """
    names = list(runs)
    times = {name: [] for name in names}
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(time_one(runs[name]))
    return times
