"""Sinusoidal timestep embedding followed by an MLP, as in DDPM."""

import math

import keras

from keras_dlparts._validation import batch_vector
from keras_dlparts._validation import initializer
from keras_dlparts._validation import keras_lookup
from keras_dlparts._validation import multiple_of
from keras_dlparts._validation import number
from keras_dlparts._validation import positive_int


def _timestep_frequencies(timesteps, frequency_dim, max_period):
    """DDPM's sinusoidal embedding of scalar timesteps, in float32.

    `[sin(t w_0), .., sin(t w_{h-1}), cos(t w_0), .., cos(t w_{h-1})]` with
    `h = frequency_dim / 2` and `w_i = exp(-log(max_period) i / (h - 1))`.
    """
    half = frequency_dim // 2
    scale = math.log(max_period) / (half - 1)
    freqs = keras.ops.exp(
        keras.ops.arange(half, dtype="float32")
        * keras.ops.cast(-scale, "float32")
    )
    args = keras.ops.cast(timesteps, "float32")[:, None] * freqs[None, :]
    return keras.ops.concatenate([keras.ops.sin(args), keras.ops.cos(args)], -1)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class TimestepEmbedding(keras.layers.Layer):
    """Embeds integer diffusion timesteps: sinusoids, then a two-layer MLP.

    As in DDPM (Ho et al., 2020), a timestep `t` is first mapped to
    `e(t) = concat(sin(t w), cos(t w))` with
    `w_i = exp(-log(max_period) * i / (h - 1))`, `i = 0 .. h-1`,
    `h = frequency_dim / 2` (the sinusoids are computed in float32 whatever
    the dtype policy, because `t` reaches the thousands), and then
    `Dense(embedding_dim)(act(Dense(hidden_dim)(e(t))))`.

    Args:
        embedding_dim: size of the output embedding, a positive integer.
        frequency_dim: size of the sinusoidal part, an even integer >= 4;
            defaults to `embedding_dim` rounded up to even (and at least 4).
        hidden_dim: width of the MLP's hidden layer; defaults to
            `embedding_dim`.
        max_period: longest period of the sinusoids, > 1.
        activation: activation of the hidden layer (a Keras activation
            name), `"swish"` by default.
        kernel_initializer: initializer of both Dense kernels.
        bias_initializer: initializer of both Dense biases.
        **kwargs: base layer keyword arguments (`name`, `dtype`, ...).

    Call arguments:
        timesteps: integer (or float) tensor shaped `(batch,)` or
            `(batch, 1)`.

    Returns:
        A tensor shaped `(batch, embedding_dim)` in the compute dtype.

    Examples:

        >>> import numpy as np
        >>> layer = TimestepEmbedding(8)
        >>> tuple(layer(np.array([0, 10, 999])).shape)
        (3, 8)
    """

    def __init__(
        self,
        embedding_dim,
        frequency_dim=None,
        hidden_dim=None,
        max_period=10000.0,
        activation="swish",
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        positive_int("embedding_dim", embedding_dim)
        if frequency_dim is not None:
            positive_int("frequency_dim", frequency_dim, minimum=4)
            multiple_of("frequency_dim", frequency_dim, 2)
        if hidden_dim is not None:
            positive_int("hidden_dim", hidden_dim)
        number("max_period", max_period, low=1, include_low=False)
        self.embedding_dim = embedding_dim
        self.frequency_dim = frequency_dim
        self.hidden_dim = hidden_dim
        self.max_period = float(max_period)
        self.activation = keras_lookup("activation", activation, "activations")
        self.kernel_initializer = initializer(
            "kernel_initializer", kernel_initializer
        )
        self.bias_initializer = initializer(
            "bias_initializer", bias_initializer
        )
        self._frequency_dim = frequency_dim or max(
            4, embedding_dim + embedding_dim % 2
        )

    def build(self, input_shape):
        input_shape = batch_vector("timesteps", tuple(input_shape))
        common = {
            "kernel_initializer": keras.initializers.get(
                keras.initializers.serialize(self.kernel_initializer)
            ),
            "bias_initializer": self.bias_initializer,
            "dtype": self.dtype_policy,
        }
        self.hidden = keras.layers.Dense(
            self.hidden_dim or self.embedding_dim,
            activation=self.activation,
            name="hidden",
            **common,
        )
        self.hidden.build((input_shape[0], self._frequency_dim))
        self.output_dense = keras.layers.Dense(
            self.embedding_dim, name="output", **common
        )
        self.output_dense.build(
            (input_shape[0], self.hidden_dim or self.embedding_dim)
        )
        self.built = True

    def call(self, timesteps):
        timesteps = keras.ops.reshape(timesteps, (-1,))
        features = _timestep_frequencies(
            timesteps, self._frequency_dim, self.max_period
        )
        features = keras.ops.cast(features, self.compute_dtype)
        return self.output_dense(self.hidden(features))

    def compute_output_shape(self, input_shape):
        return (tuple(input_shape)[0], self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "embedding_dim": self.embedding_dim,
                "frequency_dim": self.frequency_dim,
                "hidden_dim": self.hidden_dim,
                "max_period": self.max_period,
                "activation": keras.activations.serialize(self.activation),
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
            }
        )
        return config
