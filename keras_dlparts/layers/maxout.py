"""Maxout activation: the maximum over groups of features."""

import keras
from keras import ops

from keras_dlparts._validation import axis_index
from keras_dlparts._validation import axis_size
from keras_dlparts._validation import integer
from keras_dlparts._validation import positive_int


@keras.saving.register_keras_serializable(package="keras_dlparts")
class Maxout(keras.layers.Layer):
    """Maxout (Goodfellow et al., 2013): max over contiguous feature groups.

    The `d` features along `axis` are split into `num_units` contiguous
    groups of `k = d / num_units` features, and unit `j` outputs

    ```
    maxout(x)_j = max(x[j * k], ..., x[(j + 1) * k - 1])
    ```

    Preceded by a `Dense(num_units * k)` layer this is the maxout unit of
    the paper, a learned piecewise-linear convex activation. The layer has
    no weights.

    Args:
        num_units: positive integer, the number of outputs along `axis`;
            must divide the input size along `axis`.
        axis: integer, the axis holding the features (default -1).
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: a tensor of rank >= 2 whose size along `axis` is a multiple
            of `num_units`.

    Returns:
        The input's shape with `num_units` along `axis`. With `axis=-1` an
        incoming mask (e.g. over time steps) is passed on unchanged.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import Maxout
        >>> x = np.array([[1.0, 4.0, 3.0, 2.0, -1.0, 0.0]], "float32")
        >>> np.asarray(Maxout(3)(x)).tolist()
        [[4.0, 3.0, 0.0]]
    """

    def __init__(self, num_units, axis=-1, **kwargs):
        positive_int("num_units", num_units)
        if integer("axis", axis) == 0:
            raise ValueError(
                "Argument `axis` must be a non-batch axis (not 0). "
                f"Received: axis={axis!r}"
            )
        super().__init__(**kwargs)
        self.num_units = num_units
        self.axis = axis
        # A mask over the leading (batch, time) axes stays valid when the
        # features are grouped along the last axis.
        self.supports_masking = axis == -1

    def _axis(self, rank):
        axis = axis_index("axis", self.axis, rank)
        if axis == 0:
            raise ValueError(
                f"Argument `axis`={self.axis} is the batch axis of the "
                f"input `inputs` of rank {rank}, not a feature axis."
            )
        return axis

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        size = axis_size("inputs", input_shape, self._axis(len(input_shape)))
        if size % self.num_units:
            raise ValueError(
                f"Argument `inputs` must have a size along axis {self.axis} "
                f"that is a multiple of `num_units`={self.num_units}. "
                f"Received: inputs.shape={input_shape}"
            )
        self.built = True

    def call(self, inputs):
        axis = self._axis(len(inputs.shape))
        if 0 in tuple(inputs.shape):
            # An empty batch: TensorFlow's eager `max` refuses empty tensors.
            return ops.zeros(
                self.compute_output_shape(inputs.shape), inputs.dtype
            )
        shape = ops.shape(inputs)
        group = inputs.shape[axis] // self.num_units
        grouped = ops.reshape(
            inputs,
            tuple(shape[:axis])
            + (self.num_units, group)
            + tuple(shape[axis + 1 :]),
        )
        return ops.max(grouped, axis=axis + 1)

    def compute_output_shape(self, input_shape):
        axis = self._axis(len(input_shape))
        shape = list(input_shape)
        shape[axis] = self.num_units
        return tuple(shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_units": self.num_units,
            "axis": self.axis,
        }
