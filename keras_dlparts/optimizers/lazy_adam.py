"""LazyAdam: Adam that updates only the rows a sparse gradient touches."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.optimizers import _arguments


def _is_indexed_slices(gradient):
    """True for a `tf.IndexedSlices` (an embedding's gradient on TF)."""
    return keras.backend.backend() == "tensorflow" and all(
        hasattr(gradient, attr) for attr in ("indices", "values", "dense_shape")
    )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class LazyAdam(keras.optimizers.Adam):
    """Adam that updates only the rows present in a sparse gradient.

    On TensorFlow the gradient of an embedding table is a `tf.IndexedSlices`
    that holds the rows of the tokens in the batch. Adam decays the moments
    of every row at every step; LazyAdam (as in TensorFlow Addons) reads,
    updates and writes back only the rows present, so the rows of tokens
    absent from the batch, their moments included, stay as they are. With
    `t` the step counted from 1, for each row `i` in the gradient (the
    values of a repeated row summed first):

    ```
    m[i] = beta_1 * m[i] + (1 - beta_1) * g[i]
    v[i] = beta_2 * v[i] + (1 - beta_2) * g[i]**2
    lr_t = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    variable[i] -= lr_t * m[i] / (sqrt(v[i]) + epsilon)
    ```

    On dense gradients (every other weight; every gradient on JAX, whose
    gradients are always dense) it is exactly `keras.optimizers.Adam`: on
    JAX a `LazyAdam` therefore trains as `Adam` does.

    Args:
        learning_rate: A positive float, a schedule or a callable. Defaults
            to `0.001`.
        beta_1: Float in [0, 1), decay of the first moment. Defaults to `0.9`.
        beta_2: Float in [0, 1), decay of the second moment. Defaults to
            `0.999`.
        epsilon: Small positive float added to `sqrt(v)`. Defaults to `1e-7`.
        amsgrad: Boolean, use the running maximum of `v` (of the rows
            present, on sparse gradients). Defaults to `False`.
        name: String, the name of the optimizer.
        **kwargs: the keyword arguments of every Keras optimizer
            (`weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
            `use_ema`, `ema_momentum`, `ema_overwrite_frequency`,
            `loss_scale_factor`, `gradient_accumulation_steps`).

    References:
        - [Kingma and Ba, 2014, Adam: A Method for Stochastic
          Optimization](https://arxiv.org/abs/1412.6980)
        - [TensorFlow Addons' LazyAdam](https://www.tensorflow.org/addons/api_docs/python/tfa/optimizers/LazyAdam)

    Examples:

        >>> import keras
        >>> opt = LazyAdam(learning_rate=0.1)
        >>> w = keras.Variable([1.0, -1.0])
        >>> opt.apply([keras.ops.convert_to_tensor([0.5, -0.5])], [w])
        >>> [round(float(x), 4) for x in w.numpy()]  # dense: Adam's step
        [0.9, -0.9]
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        amsgrad=False,
        name="lazy_adam",
        **kwargs,
    ):
        super().__init__(
            learning_rate=_arguments.learning_rate(learning_rate),
            beta_1=_validation.rate("beta_1", beta_1),
            beta_2=_validation.rate("beta_2", beta_2),
            epsilon=_validation.positive_number("epsilon", epsilon),
            amsgrad=_validation.boolean("amsgrad", amsgrad),
            name=name,
            **_arguments.keras_arguments(kwargs),
        )

    def update_step(self, gradient, variable, learning_rate):
        """Adam's step on dense gradients, the lazy one on sparse ones."""
        if not _is_indexed_slices(gradient):
            return super().update_step(gradient, variable, learning_rate)
        import tensorflow as tf

        dtype = variable.dtype
        # Sum the values of repeated rows (a token twice in the batch).
        rows, position = tf.unique(gradient.indices)
        values = tf.math.unsorted_segment_sum(
            ops.cast(gradient.values, dtype), position, tf.size(rows)
        )
        step = ops.cast(self.iterations + 1, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        alpha = (
            ops.cast(learning_rate, dtype)
            * ops.sqrt(1.0 - ops.power(beta_2, step))
            / (1.0 - ops.power(beta_1, step))
        )
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]

        def rows_of(slot):
            return ops.take(ops.convert_to_tensor(slot), rows, axis=0)

        m_rows = beta_1 * rows_of(m) + (1.0 - beta_1) * values
        v_rows = beta_2 * rows_of(v) + (1.0 - beta_2) * ops.square(values)
        self.assign(m, tf.IndexedSlices(m_rows, rows, gradient.dense_shape))
        self.assign(v, tf.IndexedSlices(v_rows, rows, gradient.dense_shape))
        if self.amsgrad:
            v_hat = self._velocity_hats[index]
            v_rows = ops.maximum(rows_of(v_hat), v_rows)
            self.assign(
                v_hat, tf.IndexedSlices(v_rows, rows, gradient.dense_shape)
            )
        step_rows = alpha * m_rows / (ops.sqrt(v_rows) + self.epsilon)
        self.assign_sub(
            variable, tf.IndexedSlices(step_rows, rows, gradient.dense_shape)
        )
