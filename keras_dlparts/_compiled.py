"""One compiled loop for every backend: sampling and batch-training loops.

Callers cache what `compiled_loop` returns per static key (shapes, step
counts), so each loop is traced and compiled once.
"""

import keras


def compiled_loop(fn, variables, jit_compile):
    """Compiles a training or sampling loop `fn` for the active backend.

    TensorFlow: `tf.function` (with XLA when `jit_compile`). JAX: `jax.jit`
    of a pure function of the network's variable values, mapped in with a
    `keras.StatelessScope`, so later training is seen by the cached loop.
    Other backends run `fn` uncompiled.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf  # TF-only branch.

        return tf.function(fn, jit_compile=jit_compile, reduce_retracing=True)
    if backend == "jax":
        import jax  # JAX-only branch.

        def pure(values, *args):
            with keras.StatelessScope(
                state_mapping=list(zip(variables, values))
            ):
                return fn(*args)

        jitted = jax.jit(pure)
        return lambda *args: jitted([v.value for v in variables], *args)
    return fn
