"""Backend-neutral test helpers: gradients, XLA, data pipelines, sparse.

Tests call these instead of `tf.GradientTape` / `tf.function` /
`tf.data` / `tf.sparse` or their JAX counterparts, so that one test body
runs on every backend the suite runs on.
"""

import keras
import numpy as np

from keras_dlparts._autodiff import value_and_gradients


def gradients(fn, *inputs):
    """`fn(*inputs)` summed to a scalar, and its gradient w.r.t. each input.

    Args:
        fn: callable taking one tensor per input and returning a tensor
            (summed, as `tf.GradientTape.gradient` does for a non-scalar
            target).
        *inputs: array-likes, differentiated at these values.

    Returns:
        `(value, grads)`: the value of `fn(*inputs)` as a NumPy array and
        one NumPy gradient per input, of the input's shape.
    """
    variables = [
        keras.Variable(np.asarray(x), dtype=np.asarray(x).dtype, trainable=True)
        for x in inputs
    ]

    def loss_fn():
        out = fn(*[keras.ops.convert_to_tensor(v) for v in variables])
        return keras.ops.sum(out), out

    (_, out), grads = value_and_gradients(loss_fn, variables)
    grads = [
        np.zeros(v.shape, v.dtype)
        if g is None
        else keras.ops.convert_to_numpy(g)
        for v, g in zip(variables, grads)
    ]
    return keras.ops.convert_to_numpy(out), grads


def jit(fn, input_shapes=None):
    """`fn` compiled with the active backend's XLA (`jit_compile=True`).

    Args:
        fn: a function of tensors.
        input_shapes: optional list of shapes (with `None` for unknown
            sizes), one per positional argument. TensorFlow traces `fn`
            once for these shapes, so `keras.ops.shape` gives tensors for
            the unknown sizes; JAX always traces with the concrete shapes.

    Returns:
        A callable with the signature of `fn`.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        signature = None
        if input_shapes is not None:
            signature = [tf.TensorSpec(shape) for shape in input_shapes]
        return tf.function(fn, jit_compile=True, input_signature=signature)
    if backend == "jax":
        import jax

        return jax.jit(fn)
    raise NotImplementedError(f"No jit for backend={backend!r}")


def to_numpy(x):
    """A tensor (or nest of tensors) as NumPy."""
    return keras.tree.map_structure(keras.ops.convert_to_numpy, x)


class MappedBatches(keras.utils.PyDataset):
    """A Python data pipeline: batches of `x`, each passed through `fn`.

    The backend-neutral counterpart of `tf.data.Dataset.batch(...).map(fn)`:
    a `keras.utils.PyDataset` whose batches are NumPy arrays, usable with
    `model.fit` on every backend.
    """

    def __init__(self, x, batch_size, fn, **kwargs):
        super().__init__(**kwargs)
        self.x = np.asarray(x)
        self.batch_size = batch_size
        self.fn = fn

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        batch = self.x[index * self.batch_size : (index + 1) * self.batch_size]
        return to_numpy(self.fn(batch))


def to_sparse(x):
    """A dense array as the active backend's sparse tensor.

    `tf.SparseTensor` on TensorFlow, `jax.experimental.sparse.BCOO` on JAX:
    the two sparse types `keras.ops` accepts.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.sparse.from_dense(x)
    if backend == "jax":
        from jax.experimental import sparse

        x = np.asarray(x)
        return sparse.BCOO.fromdense(x, n_batch=max(x.ndim - 2, 0))
    raise NotImplementedError(f"No sparse tensors for backend={backend!r}")
