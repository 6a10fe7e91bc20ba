"""Residual block of ResNet (He et al., 2016): basic and bottleneck."""

import math

import keras
from keras import ops

from keras_dlparts._validation import axis_size
from keras_dlparts._validation import boolean
from keras_dlparts._validation import check_layout
from keras_dlparts._validation import fraction
from keras_dlparts._validation import initializer
from keras_dlparts._validation import keras_lookup
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import positive_number
from keras_dlparts.layers.dense_block import IMAGE

_KINDS = ("basic", "bottleneck")


@keras.saving.register_keras_serializable(package="keras_dlparts")
class ResidualBlock(keras.layers.Layer):
    """ResNet v1 residual block, `relu(F(x) + shortcut(x))`.

    `kind="basic"` (ResNet-18/34): `F` is conv3x3(stride) - BN - ReLU -
    conv3x3 - BN, with `filters` output channels.
    `kind="bottleneck"` (ResNet-50 and deeper, as in
    `keras.applications.ResNet50`): `F` is conv1x1(stride) - BN - ReLU -
    conv3x3 - BN - ReLU - conv1x1 - BN, with `4 * filters` output channels.

    The shortcut is the identity when the shape is kept; when the stride is
    not 1 or the channel count changes it is a projection,
    conv1x1(stride) - BN. Inputs are channels-last images.

    Args:
        filters: positive integer, channels of the block's convolutions
            (the output has `filters`, or `4 * filters` for "bottleneck").
        kind: "basic" or "bottleneck".
        strides: positive integer, stride of the block (2 halves the size).
        kernel_size: odd integer, size of the spatial convolution (3).
        use_bias: boolean, whether the convolutions have a bias
            (`keras.applications.ResNet50` uses biases).
        epsilon: batch normalisation epsilon.
        momentum: batch normalisation momentum.
        kernel_initializer: initializer of the convolution kernels.
        kernel_regularizer: optional regularizer of the kernels.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: `(batch, height, width, channels)` tensor.
        training: Python boolean, batch normalisation mode.

    Returns:
        `(batch, ceil(height / strides), ceil(width / strides), out)`
        with `out = filters` or `4 * filters`.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import ResidualBlock
        >>> block = ResidualBlock(4, kind="bottleneck", strides=2)
        >>> tuple(block(np.ones((1, 8, 8, 3), "float32")).shape)
        (1, 4, 4, 16)
    """

    def __init__(
        self,
        filters,
        kind="basic",
        strides=1,
        kernel_size=3,
        use_bias=False,
        epsilon=1.001e-5,
        momentum=0.99,
        kernel_initializer="he_normal",
        kernel_regularizer=None,
        **kwargs,
    ):
        positive_int("filters", filters)
        positive_int("strides", strides)
        one_of("kind", kind, _KINDS)
        if positive_int("kernel_size", kernel_size) % 2 == 0:
            raise ValueError(
                "Argument `kernel_size` must be a positive odd integer. "
                f"Received: kernel_size={kernel_size!r}"
            )
        boolean("use_bias", use_bias)
        positive_number("epsilon", epsilon)
        fraction("momentum", momentum)
        kernel_initializer = initializer(
            "kernel_initializer", kernel_initializer
        )
        kernel_regularizer = keras_lookup(
            "kernel_regularizer", kernel_regularizer, "regularizers"
        )
        super().__init__(**kwargs)
        self.filters = filters
        self.kind = kind
        self.strides = strides
        self.kernel_size = kernel_size
        self.use_bias = use_bias
        self.epsilon = epsilon
        self.momentum = momentum
        self.kernel_initializer = kernel_initializer
        self.kernel_regularizer = kernel_regularizer
        self.out_channels = filters * (4 if kind == "bottleneck" else 1)

    def _conv(self, filters, kernel_size, strides, name):
        return keras.layers.Conv2D(
            filters,
            kernel_size,
            strides=strides,
            padding="same",
            use_bias=self.use_bias,
            kernel_initializer=self.kernel_initializer,
            kernel_regularizer=self.kernel_regularizer,
            dtype=self.dtype_policy,
            name=name,
        )

    def _norm(self, name):
        return keras.layers.BatchNormalization(
            epsilon=self.epsilon,
            momentum=self.momentum,
            dtype=self.dtype_policy,
            name=name,
        )

    def build(self, input_shape):
        check_layout("inputs", tuple(input_shape), IMAGE)
        axis_size("inputs", tuple(input_shape), -1)
        f, k, s = self.filters, self.kernel_size, self.strides
        if self.kind == "basic":
            specs = [(f, k, s), (f, k, 1)]
        else:
            specs = [(f, 1, s), (f, k, 1), (4 * f, 1, 1)]
        # Sub-layers are single attributes: tf.train.Checkpoint does not
        # follow Keras's tracked lists.
        self.num_convs = len(specs)
        for i, spec in enumerate(specs):
            setattr(
                self, f"conv{i + 1}", self._conv(*spec, name=f"conv{i + 1}")
            )
            setattr(self, f"bn{i + 1}", self._norm(f"bn{i + 1}"))
        self.shortcut_conv = self.shortcut_norm = None
        if s != 1 or input_shape[-1] != self.out_channels:
            self.shortcut_conv = self._conv(self.out_channels, 1, s, "shortcut")
            self.shortcut_norm = self._norm("shortcut_bn")
            self.shortcut_conv.build(input_shape)
            self.shortcut_norm.build(
                self.shortcut_conv.compute_output_shape(input_shape)
            )
        shape = input_shape
        for conv, norm in zip(self.convs, self.norms, strict=True):
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            norm.build(shape)
        self.built = True

    @property
    def convs(self):
        """The main path's convolutions, in order."""
        return [getattr(self, f"conv{i + 1}") for i in range(self.num_convs)]

    @property
    def norms(self):
        """The main path's batch normalisations, in order."""
        return [getattr(self, f"bn{i + 1}") for i in range(self.num_convs)]

    def call(self, inputs, training=None):
        if 0 in tuple(inputs.shape):
            # An empty batch: TensorFlow's CPU convolution returns its input
            # unchanged, and batch statistics of nothing are NaN.
            shape = self.compute_output_shape(inputs.shape)
            return ops.zeros(shape, self.compute_dtype)
        x = inputs
        last = len(self.convs) - 1
        for i, (conv, norm) in enumerate(
            zip(self.convs, self.norms, strict=True)
        ):
            x = norm(conv(x), training=training)
            if i < last:
                x = ops.relu(x)
        shortcut = inputs
        if self.shortcut_conv is not None:
            shortcut = self.shortcut_norm(
                self.shortcut_conv(inputs), training=training
            )
        return ops.relu(x + shortcut)

    def compute_output_shape(self, input_shape):
        def reduce(size):
            return None if size is None else math.ceil(size / self.strides)

        return (
            input_shape[0],
            reduce(input_shape[1]),
            reduce(input_shape[2]),
            self.out_channels,
        )

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "filters": self.filters,
            "kind": self.kind,
            "strides": self.strides,
            "kernel_size": self.kernel_size,
            "use_bias": self.use_bias,
            "epsilon": self.epsilon,
            "momentum": self.momentum,
            "kernel_initializer": serialize(self.kernel_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
        }
