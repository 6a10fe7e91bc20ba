"""Weight normalization (Salimans and Kingma, 2016) of Dense and Conv layers."""

import keras
from keras import ops

from keras_dlparts import _validation

_CONVS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class WeightNormalization(keras.layers.Wrapper):
    """Weight normalization of a Dense or convolution layer.

    The wrapped layer's kernel becomes the direction `v` of its weights,
    and a new per-unit length `g` sets their norm (Salimans and Kingma,
    2016):

    ```
    w = g * v / ||v||      (the norm over every axis but the units)
    ```

    which decouples a unit's scale from its direction and speeds up and
    steadies gradient descent. `g` starts at `||v||`, so the wrapped layer
    computes what it computed unwrapped.

    With `data_init=True` the first call in training mode (the first batch
    of `fit`, or a call with `training=True`) sets `g` and the bias from
    that batch so that every unit's pre-activation has mean 0 and variance
    1 over it: with `t = x . v / ||v||`, `g = 1 / std(t)` and
    `bias = -mean(t) / std(t)` (the paper's section 3). Those values are
    kept as non-trainable offsets added to the trainable `g` and bias,
    which is what lets a compiled JAX training step set them; the
    trainable variables then move exactly as the paper's `g` and `b`.
    TensorFlow Addons computed `t` with the unnormalized `v`; here `t` is
    the paper's.

    Args:
        layer: a `keras.layers.Dense`, `Conv1D`, `Conv2D` or `Conv3D`
            (not causal, not grouped), built or not.
        data_init: bool, whether to use the data-dependent initialization.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        inputs: what the wrapped layer takes.
        training: whether the call trains (the data-dependent
            initialization runs on the first such call).

    Returns:
        The wrapped layer's output, computed with the normalized kernel.

    Examples:

        >>> import numpy as np, keras
        >>> from keras_dlparts.layers import WeightNormalization
        >>> x = np.random.default_rng(0).normal(size=(64, 3)).astype("float32")
        >>> dense = WeightNormalization(keras.layers.Dense(2))
        >>> y = np.asarray(dense(x, training=True))  # sets g and the bias
        >>> np.round(y.mean(0), 3).tolist(), np.round(y.std(0), 3).tolist()
        ([0.0, 0.0], [1.0, 1.0])
    """

    def __init__(self, layer, data_init=True, **kwargs):
        _validation.keras_object("layer", layer, (keras.layers.Dense,) + _CONVS)
        _validation.boolean("data_init", data_init)
        if isinstance(layer, _CONVS):
            config = layer.get_config()
            if config["padding"] == "causal" or config.get("groups", 1) != 1:
                raise ValueError(
                    "Argument `layer` must be a convolution without causal "
                    "padding or groups. Received: layer with padding="
                    f"{config['padding']!r}, groups={config.get('groups')!r}"
                )
        super().__init__(layer, **kwargs)
        self.data_init = data_init

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        if isinstance(self.layer, keras.layers.Dense):
            _validation.min_rank("inputs", input_shape, 2)
        else:
            rank = len(self.layer.get_config()["kernel_size"]) + 2
            _validation.check_rank("inputs", input_shape, rank)
        super().build(input_shape)
        kernel = self.layer.kernel
        units = kernel.shape[-1]
        self._norm_axes = tuple(range(len(kernel.shape) - 1))
        # g and the offsets are read in float32 under mixed precision.
        self.g = self.add_weight(
            shape=(units,), initializer="ones", name="g", autocast=False
        )
        self.g.assign(self._kernel_norm())
        self.g_offset = self.add_weight(
            shape=(units,),
            initializer="zeros",
            name="g_offset",
            trainable=False,
            autocast=False,
            aggregation="mean",
        )
        self.bias_offset = self.add_weight(
            shape=(units,),
            initializer="zeros",
            name="bias_offset",
            trainable=False,
            autocast=False,
            aggregation="mean",
        )
        self.initialized = self.add_weight(
            shape=(),
            initializer="ones" if not self.data_init else "zeros",
            name="initialized",
            trainable=False,
            autocast=False,
            aggregation="only_first_replica",
        )

    def _kernel_norm(self):
        v = ops.cast(self.layer.kernel, "float32")
        return ops.sqrt(ops.sum(ops.square(v), axis=self._norm_axes))

    def _channel_axis(self, rank):
        config = self.layer.get_config()
        if config.get("data_format") == "channels_first":
            return 1
        return rank - 1

    def _linear(self, inputs, kernel):
        """The wrapped layer's pre-activation without bias, for `kernel`."""
        if isinstance(self.layer, keras.layers.Dense):
            return ops.matmul(inputs, kernel)
        config = self.layer.get_config()
        return ops.conv(
            inputs,
            kernel,
            strides=config["strides"],
            padding=config["padding"],
            data_format=config["data_format"],
            dilation_rate=config["dilation_rate"],
        )

    def _bias_shape(self, rank, axis):
        shape = [1] * rank
        shape[axis] = -1
        return shape

    def call(self, inputs, training=None):
        dtype = self.compute_dtype
        inputs = ops.cast(inputs, dtype)
        direction = ops.cast(self.layer.kernel, "float32") / ops.maximum(
            self._kernel_norm(), 1e-12
        )
        t = self._linear(inputs, ops.cast(direction, dtype))
        rank = len(t.shape)
        axis = self._channel_axis(rank)
        g_offset, bias_offset = self.g_offset, self.bias_offset
        if self.data_init and training:
            g_offset, bias_offset = self._data_dependent_offsets(t, axis)
        g = self.g + g_offset
        shape = self._bias_shape(rank, axis)
        outputs = t * ops.cast(ops.reshape(g, shape), dtype)
        if self.layer.use_bias:
            bias = ops.cast(self.layer.bias, "float32") + bias_offset
            outputs = outputs + ops.cast(ops.reshape(bias, shape), dtype)
        activation = self.layer.activation
        return activation(outputs) if activation is not None else outputs

    def _data_dependent_offsets(self, t, axis):
        """Offsets from this batch on the first training call, else kept."""
        axes = tuple(a for a in range(len(t.shape)) if a != axis)
        t = ops.stop_gradient(ops.cast(t, "float32"))
        mean = ops.mean(t, axis=axes)
        scale = 1.0 / ops.sqrt(ops.var(t, axis=axes) + 1e-10)
        g_new = ops.stop_gradient(scale - self.g)
        bias_new = -mean * scale
        if self.layer.use_bias:
            bias_new = bias_new - ops.cast(self.layer.bias, "float32")
        bias_new = ops.stop_gradient(bias_new)
        if not self.layer.use_bias:
            bias_new = ops.zeros_like(bias_new)
        done = self.initialized.value > 0.5
        g_offset = ops.where(done, self.g_offset.value, g_new)
        bias_offset = ops.where(done, self.bias_offset.value, bias_new)
        self.g_offset.assign(g_offset)
        self.bias_offset.assign(bias_offset)
        self.initialized.assign(1.0)
        return g_offset, bias_offset

    @property
    def kernel(self):
        """The effective kernel `g * v / ||v||` (float32)."""
        g = self.g + self.g_offset
        return ops.cast(self.layer.kernel, "float32") * (
            g / self._kernel_norm()
        )

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        return {**super().get_config(), "data_init": self.data_init}
