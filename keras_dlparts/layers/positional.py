"""Positional encodings of sequences: sinusoidal, learned, token+position."""

import keras
from keras import ops

from keras_dlparts._validation import axis_size
from keras_dlparts._validation import boolean
from keras_dlparts._validation import check_layout
from keras_dlparts._validation import initializer
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import positive_number
from keras_dlparts.ops.positional import check_depth
from keras_dlparts.ops.positional import sinusoidal_positional_encoding

_SEQUENCE = ("batch", "length", "depth")


def _check_length(input_shape, sequence_length):
    """Raises unless the static length of `inputs` fits `sequence_length`."""
    length = input_shape[1]
    if length is not None and length > sequence_length:
        raise ValueError(
            "Argument `inputs` must have at most "
            f"`sequence_length`={sequence_length} positions (axis 1). "
            f"Received: inputs.shape={tuple(input_shape)}"
        )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class SinusoidalPositionalEncoding(keras.layers.Layer):
    """Adds the fixed sinusoidal positional encoding to a sequence.

    For inputs `x` of shape `(batch, length, depth)` the layer returns
    `x + PE[:length]` where `PE` is the interleaved sine/cosine table of
    `keras_dlparts.ops.sinusoidal_positional_encoding`:
    `PE(pos, 2i) = sin(pos / base^(2i/depth))`,
    `PE(pos, 2i+1) = cos(pos / base^(2i/depth))`. It has no weights, works
    for any sequence length, and passes the Keras mask through.

    Args:
        base: the wavelength base, a positive number (10000 in the paper).
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of shape `(batch, length, depth)`, `depth` even.

    Returns:
        A tensor shaped like `inputs`: `inputs + PE[:length]`.

    Examples:

        >>> import numpy as np
        >>> layer = SinusoidalPositionalEncoding()
        >>> out = layer(np.zeros((1, 3, 2), "float32"))
        >>> print(np.asarray(out)[0].round(4))
        [[ 0.      1.    ]
         [ 0.8415  0.5403]
         [ 0.9093 -0.4161]]
    """

    def __init__(self, base=10000.0, **kwargs):
        super().__init__(**kwargs)
        # Refused here, before a config holds it; the op checks it again.
        positive_number("base", base)
        self.base = float(base)
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = check_layout("inputs", tuple(input_shape), _SEQUENCE)
        # The op's own check, run now and named for the layer's input.
        check_depth(axis_size("inputs", input_shape, -1), "inputs.shape[-1]")
        self.built = True

    def call(self, inputs):
        length, depth = ops.shape(inputs)[1], inputs.shape[-1]
        table = sinusoidal_positional_encoding(length, depth, self.base)
        return inputs + ops.cast(table, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"base": self.base})
        return config


@keras.saving.register_keras_serializable(package="keras_dlparts")
class LearnedPositionalEmbedding(keras.layers.Layer):
    """Adds a trainable embedding of each position to a sequence.

    For inputs `x` of shape `(batch, length, depth)` with
    `length <= sequence_length` the layer returns `x + P[:length]`, where `P`
    is a trainable `(sequence_length, depth)` table. The Keras mask passes
    through.

    Args:
        sequence_length: the largest sequence length, a positive integer.
        embeddings_initializer: initializer of the table.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of shape `(batch, length, depth)`.

    Returns:
        A tensor shaped like `inputs`: `inputs + P[:length]`.

    Examples:

        >>> import numpy as np
        >>> layer = LearnedPositionalEmbedding(sequence_length=4,
        ...                                    embeddings_initializer="ones")
        >>> out = layer(np.zeros((2, 3, 5), "float32"))
        >>> tuple(out.shape), float(np.asarray(out).max())
        ((2, 3, 5), 1.0)
    """

    def __init__(
        self,
        sequence_length,
        embeddings_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        positive_int("sequence_length", sequence_length)
        self.sequence_length = sequence_length
        self.embeddings_initializer = initializer(
            "embeddings_initializer", embeddings_initializer
        )
        self.supports_masking = True

    def build(self, input_shape):
        input_shape = check_layout("inputs", tuple(input_shape), _SEQUENCE)
        depth = axis_size("inputs", input_shape, -1)
        _check_length(input_shape, self.sequence_length)
        self.position_embeddings = self.add_weight(
            name="position_embeddings",
            shape=(self.sequence_length, depth),
            initializer=self.embeddings_initializer,
        )
        self.built = True

    def call(self, inputs):
        # Built for an unknown length, called with a known one.
        _check_length(inputs.shape, self.sequence_length)
        length = ops.shape(inputs)[1]
        # The variable's value, not the variable: JAX cannot slice a
        # KerasVariable inside a traced function.
        table = ops.slice(
            ops.convert_to_tensor(self.position_embeddings),
            (0, 0),
            (length, inputs.shape[-1]),
        )
        return inputs + ops.cast(table, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_dlparts")
class TokenAndPositionEmbedding(keras.layers.Layer):
    """Embeds token ids and adds a learned position embedding.

    `out[b, t] = E[ids[b, t]] + P[t]` with a trainable token table `E` of
    shape `(vocabulary_size, embedding_dim)` and a
    `LearnedPositionalEmbedding` table `P` of shape
    `(sequence_length, embedding_dim)`. With `mask_zero=True`, id 0 is
    padding: the layer emits the mask `ids != 0`, which Keras passes on to
    downstream layers (attention blocks, pooling).

    Shapes are checked when the layer is built or called: rank 2, and no
    more than `sequence_length` positions. Token ids are values, not
    shapes, and are not checked: an id `>= vocabulary_size` or
    `< -vocabulary_size` raises `InvalidArgumentError` on TensorFlow on the
    CPU (eagerly and in a `tf.function`), is clamped to the nearest row
    under XLA (`jit_compile=True`), and gives a row of NaN on JAX
    (`jnp.take` fills, also under `jit`); an id in `[-vocabulary_size, 0)`
    counts from the end of the table. Keep ids in `[0, vocabulary_size)`.

    Args:
        vocabulary_size: number of token ids, a positive integer.
        sequence_length: the largest sequence length, a positive integer.
        embedding_dim: width of the embeddings, a positive integer.
        mask_zero: whether id 0 is padding to be masked downstream.
        embeddings_initializer: initializer of the token table.
        position_initializer: initializer of the position table.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: an integer tensor of token ids, shape `(batch, length)`.

    Returns:
        A float tensor of shape `(batch, length, embedding_dim)`.

    Examples:

        >>> import numpy as np
        >>> layer = TokenAndPositionEmbedding(10, 4, 3, mask_zero=True)
        >>> ids = np.array([[5, 2, 0, 0]])
        >>> tuple(layer(ids).shape)
        (1, 4, 3)
        >>> np.asarray(layer.compute_mask(ids)).tolist()
        [[True, True, False, False]]
    """

    def __init__(
        self,
        vocabulary_size,
        sequence_length,
        embedding_dim,
        mask_zero=False,
        embeddings_initializer="uniform",
        position_initializer="glorot_uniform",
        **kwargs,
    ):
        super().__init__(**kwargs)
        positive_int("vocabulary_size", vocabulary_size)
        positive_int("sequence_length", sequence_length)
        positive_int("embedding_dim", embedding_dim)
        boolean("mask_zero", mask_zero)
        self.vocabulary_size = vocabulary_size
        self.sequence_length = sequence_length
        self.embedding_dim = embedding_dim
        self.mask_zero = mask_zero
        self.embeddings_initializer = initializer(
            "embeddings_initializer", embeddings_initializer
        )
        self.position_initializer = initializer(
            "position_initializer", position_initializer
        )
        self.token_embedding = keras.layers.Embedding(
            vocabulary_size,
            embedding_dim,
            embeddings_initializer=self.embeddings_initializer,
            mask_zero=mask_zero,
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = LearnedPositionalEmbedding(
            sequence_length,
            embeddings_initializer=self.position_initializer,
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.supports_masking = mask_zero

    def build(self, input_shape):
        check_layout("inputs", tuple(input_shape), ("batch", "length"))
        _check_length(input_shape, self.sequence_length)
        self.token_embedding.build(input_shape)
        self.position_embedding.build((*input_shape, self.embedding_dim))
        self.built = True

    def call(self, inputs):
        _check_length(inputs.shape, self.sequence_length)
        return self.position_embedding(self.token_embedding(inputs))

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.embedding_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary_size": self.vocabulary_size,
                "sequence_length": self.sequence_length,
                "embedding_dim": self.embedding_dim,
                "mask_zero": self.mask_zero,
                "embeddings_initializer": keras.initializers.serialize(
                    self.embeddings_initializer
                ),
                "position_initializer": keras.initializers.serialize(
                    self.position_initializer
                ),
            }
        )
        return config
