"""DenseNet's dense block and transition layer (Huang et al., 2017)."""

import keras
from keras import ops

from keras_dlparts._validation import axis_size
from keras_dlparts._validation import boolean
from keras_dlparts._validation import check_layout
from keras_dlparts._validation import fraction
from keras_dlparts._validation import initializer
from keras_dlparts._validation import keras_lookup
from keras_dlparts._validation import number
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import positive_number
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import rate

IMAGE = ("batch", "height", "width", "channels")


def _check_image(input_shape):
    """`inputs` is (batch, height, width, channels) with known channels."""
    check_layout("inputs", tuple(input_shape), IMAGE)
    axis_size("inputs", tuple(input_shape), -1)


def _check_batch_norm(epsilon, momentum):
    positive_number("epsilon", epsilon)
    fraction("momentum", momentum)


def _empty_output(layer, inputs):
    """Zeros of the output shape when `inputs` is statically empty, else None.

    TensorFlow's CPU convolution returns an empty input unchanged, and batch
    statistics of no example are NaN: an empty batch skips the layers.
    """
    if 0 in tuple(inputs.shape):
        shape = layer.compute_output_shape(inputs.shape)
        return ops.zeros(shape, layer.compute_dtype)
    return None


@keras.saving.register_keras_serializable(package="keras_dlparts")
class DenseBlock(keras.layers.Layer):
    """Dense block: every layer sees the concatenation of all before it.

    With `x_0` the input, layer `l` computes
    `x_l = H_l([x_0, x_1, ..., x_{l-1}])` and the block returns
    `[x_0, x_1, ..., x_L]` concatenated on the channel axis, so the output
    has `channels + num_layers * growth_rate` channels. `H_l` is
    BN - ReLU - conv3x3(growth_rate); with `bottleneck=True` (DenseNet-B,
    as in `keras.applications.DenseNet121`) it is
    BN - ReLU - conv1x1(4 * growth_rate) - BN - ReLU - conv3x3(growth_rate).

    Args:
        num_layers: positive integer, the number of layers `L`.
        growth_rate: positive integer, channels each layer adds (`k`).
        bottleneck: boolean, whether each layer starts with the 1x1
            bottleneck convolution.
        dropout: float in [0, 1), dropout after each convolution.
        epsilon: batch normalisation epsilon.
        momentum: batch normalisation momentum.
        kernel_initializer: initializer of the convolution kernels.
        kernel_regularizer: optional regularizer of the kernels.
        seed: integer seed of the dropout.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: `(batch, height, width, channels)` tensor.
        training: Python boolean, batch normalisation and dropout mode.

    Returns:
        `(batch, height, width, channels + num_layers * growth_rate)`.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import DenseBlock
        >>> tuple(DenseBlock(3, growth_rate=4)(np.ones((1, 5, 5, 2))).shape)
        (1, 5, 5, 14)
    """

    def __init__(
        self,
        num_layers,
        growth_rate,
        bottleneck=True,
        dropout=0.0,
        epsilon=1.001e-5,
        momentum=0.99,
        kernel_initializer="he_normal",
        kernel_regularizer=None,
        seed=None,
        **kwargs,
    ):
        positive_int("num_layers", num_layers)
        positive_int("growth_rate", growth_rate)
        boolean("bottleneck", bottleneck)
        rate("dropout", dropout)
        _check_batch_norm(epsilon, momentum)
        kernel_initializer = initializer(
            "kernel_initializer", kernel_initializer
        )
        kernel_regularizer = keras_lookup(
            "kernel_regularizer", kernel_regularizer, "regularizers"
        )
        random_seed("seed", seed)
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.growth_rate = growth_rate
        self.bottleneck = bottleneck
        self.dropout = float(dropout)
        self.epsilon = epsilon
        self.momentum = momentum
        self.kernel_initializer = kernel_initializer
        self.kernel_regularizer = kernel_regularizer
        self.seed = seed

    def _composite(self, index):
        """The layers of `H_index`, in order."""
        specs = [(self.growth_rate, 3)]
        if self.bottleneck:
            specs.insert(0, (4 * self.growth_rate, 1))
        layers = []
        for j, (filters, size) in enumerate(specs):
            layers.append(
                keras.layers.BatchNormalization(
                    epsilon=self.epsilon,
                    momentum=self.momentum,
                    dtype=self.dtype_policy,
                    name=f"layer{index}_bn{j}",
                )
            )
            layers.append(
                keras.layers.Conv2D(
                    filters,
                    size,
                    padding="same",
                    use_bias=False,
                    kernel_initializer=self.kernel_initializer,
                    kernel_regularizer=self.kernel_regularizer,
                    dtype=self.dtype_policy,
                    name=f"layer{index}_conv{j}",
                )
            )
            if self.dropout:
                layers.append(
                    keras.layers.Dropout(
                        self.dropout,
                        seed=None if self.seed is None else self.seed + index,
                        dtype=self.dtype_policy,
                    )
                )
        return layers

    def build(self, input_shape):
        _check_image(input_shape)
        # Sub-layers are single attributes: tf.train.Checkpoint does not
        # follow Keras's tracked lists.
        shape = tuple(input_shape)
        for index in range(self.num_layers):
            layers = self._composite(index)
            self.layers_per_composite = len(layers)
            inner = shape
            for j, layer in enumerate(layers):
                layer.build(inner)
                inner = layer.compute_output_shape(inner)
                setattr(self, f"layer{index}_{j}", layer)
            shape = shape[:-1] + (shape[-1] + self.growth_rate,)
        self.built = True

    @property
    def composites(self):
        """The layers of each `H_l`, in order, one list per layer `l`."""
        return [
            [
                getattr(self, f"layer{index}_{j}")
                for j in range(self.layers_per_composite)
            ]
            for index in range(self.num_layers)
        ]

    def call(self, inputs, training=None):
        empty = _empty_output(self, inputs)
        if empty is not None:
            return empty
        x = inputs
        for layers in self.composites:
            y = x
            for layer in layers:
                if isinstance(layer, keras.layers.BatchNormalization):
                    y = ops.relu(layer(y, training=training))
                else:
                    y = layer(y, training=training)
            x = ops.concatenate([x, y], axis=-1)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (
            input_shape[-1] + self.num_layers * self.growth_rate,
        )

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "num_layers": self.num_layers,
            "growth_rate": self.growth_rate,
            "bottleneck": self.bottleneck,
            "dropout": self.dropout,
            "epsilon": self.epsilon,
            "momentum": self.momentum,
            "kernel_initializer": serialize(self.kernel_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package="keras_dlparts")
class TransitionLayer(keras.layers.Layer):
    """DenseNet transition: BN - ReLU - conv1x1 - 2x2 average pooling.

    Between dense blocks it compresses the channels to
    `floor(compression * channels)` (DenseNet-C) and halves the spatial size.

    Args:
        compression: float in (0, 1], the fraction of channels kept.
        epsilon: batch normalisation epsilon.
        momentum: batch normalisation momentum.
        kernel_initializer: initializer of the convolution kernel.
        kernel_regularizer: optional regularizer of the kernel.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: `(batch, height, width, channels)` tensor.
        training: Python boolean, batch normalisation mode.

    Returns:
        `(batch, height // 2, width // 2, floor(compression * channels))`.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import TransitionLayer
        >>> tuple(TransitionLayer(0.5)(np.ones((1, 6, 6, 8))).shape)
        (1, 3, 3, 4)
    """

    def __init__(
        self,
        compression=0.5,
        epsilon=1.001e-5,
        momentum=0.99,
        kernel_initializer="he_normal",
        kernel_regularizer=None,
        **kwargs,
    ):
        number("compression", compression, low=0.0, include_low=False, high=1.0)
        _check_batch_norm(epsilon, momentum)
        kernel_initializer = initializer(
            "kernel_initializer", kernel_initializer
        )
        kernel_regularizer = keras_lookup(
            "kernel_regularizer", kernel_regularizer, "regularizers"
        )
        super().__init__(**kwargs)
        self.compression = float(compression)
        self.epsilon = epsilon
        self.momentum = momentum
        self.kernel_initializer = kernel_initializer
        self.kernel_regularizer = kernel_regularizer

    def build(self, input_shape):
        _check_image(input_shape)
        filters = int(input_shape[-1] * self.compression)
        if filters < 1:
            raise ValueError(
                f"Argument `compression`={self.compression} keeps no channel "
                f"of the {input_shape[-1]} of `inputs`. "
                f"Received: inputs.shape={tuple(input_shape)}"
            )
        self.norm = keras.layers.BatchNormalization(
            epsilon=self.epsilon,
            momentum=self.momentum,
            dtype=self.dtype_policy,
            name="bn",
        )
        self.conv = keras.layers.Conv2D(
            filters,
            1,
            use_bias=False,
            kernel_initializer=self.kernel_initializer,
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name="conv",
        )
        self.pool = keras.layers.AveragePooling2D(
            2, strides=2, dtype=self.dtype_policy, name="pool"
        )
        self.norm.build(input_shape)
        self.conv.build(input_shape)
        self.built = True

    def call(self, inputs, training=None):
        empty = _empty_output(self, inputs)
        if empty is not None:
            return empty
        x = ops.relu(self.norm(inputs, training=training))
        return self.pool(self.conv(x))

    def compute_output_shape(self, input_shape):
        def half(size):
            return None if size is None else size // 2

        return (
            input_shape[0],
            half(input_shape[1]),
            half(input_shape[2]),
            int(input_shape[-1] * self.compression),
        )

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "compression": self.compression,
            "epsilon": self.epsilon,
            "momentum": self.momentum,
            "kernel_initializer": serialize(self.kernel_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
        }
