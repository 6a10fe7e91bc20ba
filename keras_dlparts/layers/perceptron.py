"""Rosenblatt's perceptron: a linear unit followed by a step function."""

import keras
from keras import ops

from keras_dlparts import _validation


@keras.saving.register_keras_serializable(package="keras_dlparts")
class Perceptron(keras.layers.Layer):
    """Threshold units `O = f(XW + b)` with the Heaviside step `f`.

    `f(z) = 1` where `z > 0` and `0` elsewhere. The step has a zero
    derivative almost everywhere, so the layer passes gradients straight
    through it (`d f / d z := 1`, the straight-through estimator): the
    gradient of the squared error `sum (f(z) - a)^2 / 2` with respect to
    `W` is then `-sum (a - f(z)) x`, and gradient descent with learning rate
    `lr` is exactly the perceptron learning rule
    `w_i += lr * (a - f(x)) * x_i`. `keras_dlparts.models.PerceptronClassifier`
    applies that rule directly in its own `train_step`.

    Args:
        units: number of threshold units, a positive integer.
        kernel_initializer: initializer of the `(features, units)` weights.
        bias_initializer: initializer of the `(units,)` bias.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of shape `(..., features)`.

    Returns:
        A tensor of shape `(..., units)` holding 0.0 or 1.0.

    Examples:

        >>> import numpy as np
        >>> layer = Perceptron(
        ...     1,
        ...     kernel_initializer="ones",
        ...     bias_initializer=keras.initializers.Constant(-1.5),
        ... )
        >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
        >>> np.asarray(layer(x)).ravel().tolist()  # logical AND
        [0.0, 0.0, 0.0, 1.0]
    """

    def __init__(
        self,
        units,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = _validation.positive_int("units", units)
        self.kernel_initializer = _validation.initializer(
            "kernel_initializer", kernel_initializer
        )
        self.bias_initializer = _validation.initializer(
            "bias_initializer", bias_initializer
        )

    def build(self, input_shape):
        _validation.min_rank("inputs", tuple(input_shape), 2)
        features = _validation.axis_size("inputs", tuple(input_shape), -1)
        # `aggregation="mean"` lets a learning rule assign the weights
        # inside a replica (tf.distribute), averaging the replicas' values.
        self.kernel = self.add_weight(
            name="kernel",
            shape=(features, self.units),
            initializer=self.kernel_initializer,
            aggregation="mean",
        )
        self.bias = self.add_weight(
            name="bias",
            shape=(self.units,),
            initializer=self.bias_initializer,
            aggregation="mean",
        )

    def pre_activation(self, inputs):
        """Returns `z = XW + b`, the input of the step function."""
        _validation.axis_size(
            "inputs",
            inputs,
            -1,
            self.kernel.shape[0],
            " (the layer's features)",
        )
        inputs = ops.cast(inputs, self.compute_dtype)
        kernel = ops.cast(self.kernel, self.compute_dtype)
        bias = ops.cast(self.bias, self.compute_dtype)
        return ops.matmul(inputs, kernel) + bias

    def call(self, inputs):
        z = self.pre_activation(inputs)
        step = ops.cast(z > 0, z.dtype)
        # Forward: exactly `step` (z - z == 0); backward: d/dz = 1.
        return step + (z - ops.stop_gradient(z))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config
