"""Two devices on one CPU, and data-parallel training over them.

The contract's `fit_distributed` check trains every part data-parallel over
two devices. A CPU-only machine gets them from the backend:

- TensorFlow splits the physical CPU into logical devices
  (`configure_logical_cpus`) and trains under `tf.distribute.MirroredStrategy`
  (`mirrored_strategy`);
- JAX gets virtual CPU devices from `XLA_FLAGS` (set before JAX starts) and
  trains under `keras.distribution.DataParallel` (`data_parallel`).

`distribution_scope()` is the scope of whichever of the two the active
backend has. TensorFlow and JAX are imported only on their own backend.
"""

import functools

import keras

_XLA_FLAG = "--xla_force_host_platform_device_count"


def configure_logical_cpus(count=2):
    """Makes `count` CPU devices available to the active backend.

    On TensorFlow it splits the physical CPU into `count` logical devices,
    so that `MirroredStrategy` runs over several replicas on a CPU-only
    machine; call it before TensorFlow creates any tensor (a `conftest.py`
    is the place). On JAX the devices must exist before JAX starts: it
    checks that there are at least `count` CPU devices and otherwise
    raises, naming the `XLA_FLAGS` setting to use.

    Args:
        count: the number of CPU devices wanted.

    Returns:
        The number of (logical or virtual) CPU devices in use.

    Raises:
        RuntimeError: on JAX, when fewer than `count` CPU devices exist.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        cpus = tf.config.list_physical_devices("CPU")
        try:
            tf.config.set_logical_device_configuration(
                cpus[0], [tf.config.LogicalDeviceConfiguration()] * count
            )
        except RuntimeError:
            pass  # Already initialised: keep whatever configuration exists.
        return len(tf.config.list_logical_devices("CPU"))
    if backend == "jax":
        import jax

        found = len(jax.devices("cpu"))
        if found < count:
            raise RuntimeError(
                f"JAX has {found} CPU device(s), {count} are needed. Set "
                f"the environment variable XLA_FLAGS={_XLA_FLAG}={count} "
                "before JAX starts (before the process imports keras or jax)"
            )
        return found
    raise NotImplementedError(
        "keras_dlparts.testing configures devices on the TensorFlow and JAX "
        f"backends. Received: backend={backend!r}"
    )


@functools.lru_cache(maxsize=1)
def mirrored_strategy():
    """The process-wide `MirroredStrategy` over two devices (TensorFlow).

    Use this one rather than a new strategy per test: several
    `MirroredStrategy` objects in one process can mix up their collective-op
    keys and fail with shape-mismatch errors.
    """
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "MirroredStrategy is TensorFlow's; on the "
            f"{keras.backend.backend()} backend use "
            "keras_dlparts.testing.distribution_scope()"
        )
    import tensorflow as tf

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


@functools.lru_cache(maxsize=1)
def data_parallel():
    """The process-wide `keras.distribution.DataParallel` on two devices (JAX).

    It uses two accelerators when there are, else two CPU devices (run JAX
    with `XLA_FLAGS=--xla_force_host_platform_device_count=2` on a CPU-only
    machine). Variables created under its scope are replicated on both
    devices and each batch is split between them, so batch sizes must be
    even.
    """
    if keras.backend.backend() != "jax":
        raise RuntimeError(
            "keras_dlparts.testing.data_parallel() is for the JAX backend; "
            f"on {keras.backend.backend()} use distribution_scope()"
        )
    devices = keras.distribution.list_devices()
    if len(devices) < 2:
        devices = keras.distribution.list_devices("cpu")
    if len(devices) < 2:
        raise AssertionError(
            f"DataParallel needs at least 2 devices, found {len(devices)}; "
            f"set XLA_FLAGS={_XLA_FLAG}=2 before JAX starts"
        )
    return keras.distribution.DataParallel(devices=devices[:2])


def distribution_scope():
    """The scope that trains data-parallel over two devices.

    On TensorFlow: `mirrored_strategy().scope()`; create and compile the
    model inside it. On JAX: `data_parallel().scope()`; create, compile and
    also fit the model inside it (the distribution splits each batch when
    `fit` runs), with batch sizes divisible by two.

    Examples:

        >>> import keras, numpy as np
        >>> with distribution_scope():
        ...     model = keras.Sequential(
        ...         [keras.Input((3,)), keras.layers.Dense(1)])
        ...     model.compile("sgd", "mse")
        ...     history = model.fit(np.ones((8, 3)), np.ones((8, 1)),
        ...                         batch_size=4, verbose=0)
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return mirrored_strategy().scope()
    if backend == "jax":
        return data_parallel().scope()
    raise NotImplementedError(
        "keras_dlparts.testing distributes training on the TensorFlow and "
        f"JAX backends. Received: backend={backend!r}"
    )


def check_distributed_variables(variables, count):
    """Raises unless every variable lives on `count` devices (JAX).

    A variable created under a `DataParallel` scope is replicated or sharded
    over the distribution's devices; one created before it (a layer built
    outside the scope, a weight cached across models) stays on a single
    device.
    """
    local = []
    for variable in variables:
        sharding = getattr(variable.value, "sharding", None)
        placed = len(sharding.device_set) if sharding is not None else 1
        if placed != count:
            local.append(f"{variable.path} ({placed} device(s))")
    if local:
        raise AssertionError(
            f"variables not laid out over the {count} devices of the "
            f"distribution (created outside its scope?): {local}"
        )
