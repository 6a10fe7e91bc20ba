"""Transformer encoder and decoder blocks (Vaswani et al., 2017)."""

import keras
from keras import ops

from keras_dlparts._validation import boolean
from keras_dlparts._validation import broadcastable_mask
from keras_dlparts._validation import initializer
from keras_dlparts._validation import keras_lookup
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import positive_number
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import rate
from keras_dlparts._validation import same_batch_size
from keras_dlparts.layers.attention import SCORES
from keras_dlparts.layers.attention import MultiHeadAttention


def _unmasked(x):
    """`x` as a new tensor without a Keras mask.

    The blocks pass every mask to the attention explicitly; a copy keeps
    Keras from also filling in the attention's `query_mask` from the Keras
    mask of `x` (padded queries would then get all-zero weights).
    """
    return ops.copy(x)


def _first(*masks):
    """The first mask that is not None (Keras fills in one of them)."""
    return next((m for m in masks if m is not None), None)


def _key_mask(*masks):
    """ANDs `(batch, length)` key masks, any of which may be None."""
    merged = None
    for mask in masks:
        if mask is None:
            continue
        mask = ops.cast(mask, "bool")
        merged = mask if merged is None else ops.logical_and(merged, mask)
    return merged


def _check_padding_mask(name, mask, sequence):
    """Raises unless a `(batch, length)` mask fits `sequence`."""
    if mask is not None:
        broadcastable_mask(name, mask, tuple(sequence.shape)[:2])


def _check_sequence(name, shape, num_heads=None):
    if len(shape) != 3 or shape[-1] is None:
        raise ValueError(
            f"Input `{name}` must have rank 3 (batch, length, hidden_dim) "
            f"with a known hidden_dim. Received: {name}.shape={tuple(shape)}"
        )
    if num_heads is not None and shape[-1] % num_heads:
        raise ValueError(
            f"The last dimension of `{name}` must be divisible by "
            f"`num_heads`={num_heads}. Received: {name}.shape={tuple(shape)}"
        )


class _TransformerBlock(keras.layers.Layer):
    """Shared arguments, validation and sublayers of the two blocks."""

    def __init__(
        self,
        num_heads,
        intermediate_dim,
        dropout=0.0,
        activation="relu",
        norm_first=False,
        score="scaled_dot",
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        seed=None,
        memory_efficient=False,
        query_chunk_size=1024,
        key_chunk_size=4096,
        **kwargs,
    ):
        super().__init__(**kwargs)
        positive_int("num_heads", num_heads)
        positive_int("intermediate_dim", intermediate_dim)
        rate("dropout", dropout)
        boolean("norm_first", norm_first)
        one_of("score", score, SCORES)
        positive_number("layer_norm_epsilon", layer_norm_epsilon)
        random_seed("seed", seed)
        boolean("memory_efficient", memory_efficient)
        positive_int("query_chunk_size", query_chunk_size)
        positive_int("key_chunk_size", key_chunk_size)
        activation_fn = keras_lookup("activation", activation, "activations")
        self.num_heads = num_heads
        self.intermediate_dim = intermediate_dim
        self.dropout = dropout
        self.activation = activation_fn
        self.norm_first = norm_first
        self.score = score
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = initializer(
            "kernel_initializer", kernel_initializer
        )
        self.bias_initializer = initializer(
            "bias_initializer", bias_initializer
        )
        self.seed = seed
        self.memory_efficient = memory_efficient
        self.query_chunk_size = query_chunk_size
        self.key_chunk_size = key_chunk_size
        self.supports_masking = True
        self._seed_offset = 0

    def _next_seed(self):
        self._seed_offset += 1
        return None if self.seed is None else self.seed + self._seed_offset

    def _common(self):
        return {
            "kernel_initializer": keras.initializers.get(
                keras.initializers.serialize(self.kernel_initializer)
            ),
            "bias_initializer": keras.initializers.get(
                keras.initializers.serialize(self.bias_initializer)
            ),
            "dtype": self.dtype_policy,
        }

    def _attention(self, hidden_dim, name):
        # The chunked attention never forms the weights dropout would drop.
        return MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=hidden_dim // self.num_heads,
            dropout=0.0 if self.memory_efficient else self.dropout,
            score=self.score,
            memory_efficient=self.memory_efficient,
            query_chunk_size=self.query_chunk_size,
            key_chunk_size=self.key_chunk_size,
            seed=self._next_seed(),
            name=name,
            **self._common(),
        )

    def _norm(self, name):
        return keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name
        )

    def _dropout(self, name):
        return keras.layers.Dropout(
            self.dropout,
            seed=self._next_seed(),
            dtype=self.dtype_policy,
            name=name,
        )

    def _build_feedforward(self, shape):
        hidden_dim = shape[-1]
        self.feedforward_norm = self._norm("feedforward_norm")
        self.feedforward_norm.build(shape)
        self.feedforward_inner = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            name="feedforward_inner",
            **self._common(),
        )
        self.feedforward_inner.build(shape)
        self.feedforward_outer = keras.layers.Dense(
            hidden_dim, name="feedforward_outer", **self._common()
        )
        self.feedforward_outer.build((*shape[:-1], self.intermediate_dim))
        self.feedforward_dropout = self._dropout("feedforward_dropout")

    def _residual(self, x, sublayer, norm, training):
        """`norm(x + sublayer(x))`, or `x + sublayer(norm(x))` if norm_first."""
        y = norm(x) if self.norm_first else x
        y = sublayer(y, training)
        y = ops.add(x, y)
        return y if self.norm_first else norm(y)

    def _feedforward(self, x, training):
        y = self.feedforward_outer(self.feedforward_inner(x))
        return self.feedforward_dropout(y, training=training)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "intermediate_dim": self.intermediate_dim,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "norm_first": self.norm_first,
                "score": self.score,
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(
                    self.kernel_initializer
                ),
                "bias_initializer": keras.initializers.serialize(
                    self.bias_initializer
                ),
                "seed": self.seed,
                "memory_efficient": self.memory_efficient,
                "query_chunk_size": self.query_chunk_size,
                "key_chunk_size": self.key_chunk_size,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="keras_dlparts")
class TransformerEncoderBlock(_TransformerBlock):
    """Transformer encoder block: self-attention and a feed-forward network.

    With `norm_first=False` (post-norm, as in the paper):

    ```
    h = LayerNorm(x + Dropout(MultiHeadAttention(x, x)))
    y = LayerNorm(h + Dropout(W_2 act(W_1 h + b_1) + b_2))
    ```

    With `norm_first=True` (pre-norm), `h = x + Dropout(MHA(LN(x), LN(x)))`
    and `y = h + Dropout(FFN(LN(h)))`. The attention is
    `keras_dlparts.layers.MultiHeadAttention` with `hidden_dim / num_heads`
    dimensions per head and the chosen `score`. Padded keys get zero
    attention weight; the padding mask comes from Keras masking (e.g.
    `TokenAndPositionEmbedding(mask_zero=True)` upstream) and/or the
    `padding_mask` argument (both are ANDed), and it passes through to
    downstream layers.

    Args:
        num_heads: number of attention heads, a positive integer dividing
            the input's last dimension.
        intermediate_dim: width of the feed-forward hidden layer.
        dropout: dropout rate in [0, 1) for the attention weights and the
            two residual branches.
        activation: activation of the feed-forward hidden layer.
        norm_first: `False` for post-norm (the paper), `True` for pre-norm.
        score: the attention score, one of `MultiHeadAttention`'s `SCORES`.
        layer_norm_epsilon: epsilon of the two layer normalisations.
        kernel_initializer, bias_initializer: initializers of every dense
            projection.
        seed: optional integer seed of the dropout layers.
        memory_efficient, query_chunk_size, key_chunk_size: passed to the
            `MultiHeadAttention` layers: exact attention in memory linear in
            the length (see docs/attention.md). Its weights are then not
            dropped out (the residual branches still are).
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a tensor of shape `(batch, length, hidden_dim)`.
        padding_mask: optional boolean `(batch, length)`, `True` for real
            tokens and `False` for padding.
        attention_mask: optional boolean `(batch, length, length)`, `True`
            where query `t` may attend to key `s`.
        training: whether dropout is active.
        mask, inputs_mask: not to be passed: Keras fills in the Keras mask
            of `inputs` (as `mask` when `inputs` is the only tensor
            argument, else as `inputs_mask`).

    Returns:
        A tensor shaped like `inputs`.

    Examples:

        >>> import numpy as np
        >>> block = TransformerEncoderBlock(num_heads=2, intermediate_dim=8)
        >>> rng = np.random.default_rng(0)
        >>> x = rng.normal(size=(1, 3, 4)).astype("float32")
        >>> tuple(block(x, padding_mask=np.array([[True, True, False]])).shape)
        (1, 3, 4)
    """

    def build(self, inputs_shape):
        _check_sequence("inputs", inputs_shape, self.num_heads)
        hidden_dim = inputs_shape[-1]
        self.self_attention = self._attention(hidden_dim, "self_attention")
        self.self_attention.build(inputs_shape, inputs_shape)
        self.self_attention_norm = self._norm("self_attention_norm")
        self.self_attention_norm.build(inputs_shape)
        self.self_attention_dropout = self._dropout("self_attention_dropout")
        self._build_feedforward(inputs_shape)
        self.built = True

    def call(
        self,
        inputs,
        padding_mask=None,
        attention_mask=None,
        training=None,
        mask=None,
        inputs_mask=None,
    ):
        _check_padding_mask("padding_mask", padding_mask, inputs)
        # The attention checks `attention_mask` and ANDs it with the keys'.
        key_mask = _key_mask(padding_mask, _first(mask, inputs_mask))

        def attend(x, training):
            x = _unmasked(x)
            y = self.self_attention(
                x,
                x,
                value_mask=key_mask,
                attention_mask=attention_mask,
                training=training,
            )
            return self.self_attention_dropout(y, training=training)

        x = self._residual(inputs, attend, self.self_attention_norm, training)
        return self._residual(
            x, self._feedforward, self.feedforward_norm, training
        )

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class TransformerDecoderBlock(_TransformerBlock):
    """Transformer decoder block: causal self-attention, cross-attention, FFN.

    With `norm_first=False` (post-norm, as in the paper), for the decoder
    sequence `x` and the encoder outputs `m`:

    ```
    h = LayerNorm(x + Dropout(CausalMultiHeadAttention(x, x)))
    c = LayerNorm(h + Dropout(MultiHeadAttention(h, m)))   # if m is given
    y = LayerNorm(c + Dropout(W_2 act(W_1 c + b_1) + b_2))
    ```

    With `norm_first=True` every sublayer sees `LayerNorm` of its input and
    adds its output to the residual stream. Position `t` attends only to
    positions `<= t` of `x` (so changing later tokens never changes earlier
    outputs) and to every unpadded position of `m`. The cross-attention
    weights exist only if the block is first called with `encoder_sequence`
    (decoder-only models omit it). Padding masks come from Keras masking on
    `decoder_sequence` / `encoder_sequence` and/or the explicit arguments.

    Args:
        num_heads: number of attention heads, a positive integer dividing
            the decoder's last dimension.
        intermediate_dim: width of the feed-forward hidden layer.
        dropout: dropout rate in [0, 1).
        activation: activation of the feed-forward hidden layer.
        norm_first: `False` for post-norm (the paper), `True` for pre-norm.
        score: the attention score, one of `MultiHeadAttention`'s `SCORES`.
        layer_norm_epsilon: epsilon of the layer normalisations.
        kernel_initializer, bias_initializer: initializers of every dense
            projection.
        seed: optional integer seed of the dropout layers.
        memory_efficient, query_chunk_size, key_chunk_size: passed to the
            `MultiHeadAttention` layers: exact attention in memory linear in
            the length (see docs/attention.md). Its weights are then not
            dropped out (the residual branches still are).
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        decoder_sequence: a tensor of shape
            `(batch, target_length, hidden_dim)`.
        encoder_sequence: optional encoder outputs of shape
            `(batch, source_length, encoder_dim)`.
        decoder_padding_mask: optional boolean `(batch, target_length)`.
        encoder_padding_mask: optional boolean `(batch, source_length)`.
        training: whether dropout is active.
        mask, decoder_sequence_mask, encoder_sequence_mask: not to be
            passed: Keras fills in the Keras masks of the sequences (as
            `mask` when `decoder_sequence` is the only tensor argument).

    Returns:
        A tensor shaped like `decoder_sequence`.

    Examples:

        >>> import numpy as np
        >>> block = TransformerDecoderBlock(num_heads=2, intermediate_dim=8)
        >>> rng = np.random.default_rng(0)
        >>> target = rng.normal(size=(1, 3, 4)).astype("float32")
        >>> source = rng.normal(size=(1, 5, 6)).astype("float32")
        >>> tuple(block(target, source).shape)
        (1, 3, 4)
    """

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        shape = decoder_sequence_shape
        _check_sequence("decoder_sequence", shape, self.num_heads)
        hidden_dim = shape[-1]
        self.self_attention = self._attention(hidden_dim, "self_attention")
        self.self_attention.build(shape, shape)
        self.self_attention_norm = self._norm("self_attention_norm")
        self.self_attention_norm.build(shape)
        self.self_attention_dropout = self._dropout("self_attention_dropout")
        self.cross_attention = None
        if encoder_sequence_shape is not None:
            _check_sequence("encoder_sequence", encoder_sequence_shape)
            self.cross_attention = self._attention(
                hidden_dim, "cross_attention"
            )
            self.cross_attention.build(shape, encoder_sequence_shape)
            self.cross_attention_norm = self._norm("cross_attention_norm")
            self.cross_attention_norm.build(shape)
            self.cross_attention_dropout = self._dropout(
                "cross_attention_dropout"
            )
        self._build_feedforward(shape)
        self.built = True

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        encoder_padding_mask=None,
        training=None,
        mask=None,
        decoder_sequence_mask=None,
        encoder_sequence_mask=None,
    ):
        if (encoder_sequence is None) != (self.cross_attention is None):
            raise ValueError(
                "`encoder_sequence` must be given on every call if and only "
                "if it was given on the first call (which decides whether the "
                "block has cross-attention). Received: encoder_sequence="
                f"{'None' if encoder_sequence is None else 'a tensor'}"
            )
        _check_padding_mask(
            "decoder_padding_mask", decoder_padding_mask, decoder_sequence
        )
        if encoder_sequence is not None:
            same_batch_size(
                ("decoder_sequence", decoder_sequence),
                ("encoder_sequence", encoder_sequence),
            )
            _check_padding_mask(
                "encoder_padding_mask", encoder_padding_mask, encoder_sequence
            )
        self_mask = _key_mask(
            decoder_padding_mask, _first(mask, decoder_sequence_mask)
        )
        cross_mask = None
        if encoder_sequence is not None:
            cross_mask = _key_mask(encoder_padding_mask, encoder_sequence_mask)

        def attend_self(x, training):
            x = _unmasked(x)
            y = self.self_attention(
                x,
                x,
                value_mask=self_mask,
                use_causal_mask=True,
                training=training,
            )
            return self.self_attention_dropout(y, training=training)

        def attend_encoder(x, training):
            y = self.cross_attention(
                _unmasked(x),
                _unmasked(encoder_sequence),
                value_mask=cross_mask,
                training=training,
            )
            return self.cross_attention_dropout(y, training=training)

        x = self._residual(
            decoder_sequence, attend_self, self.self_attention_norm, training
        )
        if encoder_sequence is not None:
            x = self._residual(
                x, attend_encoder, self.cross_attention_norm, training
            )
        return self._residual(
            x, self._feedforward, self.feedforward_norm, training
        )

    def compute_output_shape(
        self, decoder_sequence_shape, encoder_sequence_shape=None
    ):
        return tuple(decoder_sequence_shape)
