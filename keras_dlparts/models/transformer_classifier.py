"""A transformer-encoder classifier of sequences (token ids or features)."""

import keras

from keras_dlparts import _validation as args
from keras_dlparts.layers.attention import SCORES
from keras_dlparts.layers.positional import LearnedPositionalEmbedding
from keras_dlparts.layers.positional import SinusoidalPositionalEncoding
from keras_dlparts.layers.positional import TokenAndPositionEmbedding
from keras_dlparts.layers.transformer import TransformerEncoderBlock

POSITIONS = ("learned", "sinusoidal")
POOLINGS = ("mean", "max")


def _embed_sequence(
    inputs,
    embedding_dim,
    vocabulary_size=None,
    position="learned",
    mask_zero=False,
    name="embedding",
):
    """Embeds token ids or projects feature vectors, then adds positions.

    Token ids `(batch, length)` go through `TokenAndPositionEmbedding`
    (`position="learned"`) or `keras.layers.Embedding` plus
    `SinusoidalPositionalEncoding`; feature sequences
    `(batch, length, features)` through `Dense(embedding_dim)` plus the
    chosen position encoding; images `(batch, rows, cols, channels)` are read
    as a sequence of `rows` rows of `cols * channels` features first.

    Args:
        inputs: a symbolic `keras.Input`.
        embedding_dim: width of the embeddings.
        vocabulary_size: number of token ids when `inputs` holds ids.
        position: `"learned"` or `"sinusoidal"`.
        mask_zero: for token ids, whether id 0 is padding (masked downstream).
        name: prefix of the layer names.

    Returns:
        The symbolic `(batch, length, embedding_dim)` sequence.
    """
    shape = tuple(inputs.shape[1:])
    length = shape[0]
    if vocabulary_size is not None:
        if position == "learned":
            return TokenAndPositionEmbedding(
                vocabulary_size,
                length,
                embedding_dim,
                mask_zero=mask_zero,
                name=f"{name}_tokens_and_positions",
            )(inputs)
        x = keras.layers.Embedding(
            vocabulary_size,
            embedding_dim,
            mask_zero=mask_zero,
            name=f"{name}_tokens",
        )(inputs)
        return SinusoidalPositionalEncoding(name=f"{name}_positions")(x)
    x = inputs
    if len(shape) == 3:
        rows = (shape[0], shape[1] * shape[2])
        x = keras.layers.Reshape(rows, name=f"{name}_rows")(x)
    x = keras.layers.Dense(embedding_dim, name=f"{name}_projection")(x)
    if position == "learned":
        return LearnedPositionalEmbedding(length, name=f"{name}_positions")(x)
    return SinusoidalPositionalEncoding(name=f"{name}_positions")(x)


def build_transformer_classifier(
    input_shape,
    num_classes,
    *,
    vocabulary_size=None,
    embedding_dim=64,
    num_heads=4,
    intermediate_dim=128,
    num_layers=2,
    dropout=0.1,
    position="learned",
    pooling="mean",
    norm_first=False,
    score="scaled_dot",
    mask_zero=False,
    memory_efficient=False,
    name="transformer_classifier",
):
    """Builds a transformer-encoder classifier of sequences.

    `inputs -> embedding + position -> Dropout -> num_layers x
    TransformerEncoderBlock -> [LayerNorm if norm_first] -> pooling over
    positions -> Dense(num_classes, softmax)`. The inputs are one of:

    - token ids, `input_shape=(length,)` with `vocabulary_size` given
      (`mask_zero=True` makes id 0 padding, ignored by attention and pooling);
    - feature sequences, `input_shape=(length, features)`, projected by
      `Dense(embedding_dim)` (e.g. digits as 8 rows of 8 pixels);
    - images, `input_shape=(rows, cols, channels)`, read as `rows` rows of
      `cols * channels` features.

    Args:
        input_shape: shape of one example, without the batch axis.
        num_classes: number of classes (a softmax over them is the output).
        vocabulary_size: number of token ids, or `None` for float inputs.
        embedding_dim: width of the model; divisible by `num_heads`.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward width per block.
        num_layers: number of encoder blocks.
        dropout: dropout rate after the embedding and inside the blocks.
        position: `"learned"` or `"sinusoidal"` position encoding.
        pooling: `"mean"` or `"max"` over positions (masks respected by
            `"mean"`).
        norm_first: pre-norm blocks (and a final LayerNorm) if `True`.
        score: attention score, see `keras_dlparts.layers.MultiHeadAttention`.
        mask_zero: for token ids, whether id 0 is padding.
        memory_efficient: whether the attention layers use exact attention
            in memory linear in the length
            (`MultiHeadAttention(memory_efficient=True)`, docs/attention.md).
        name: the model's name.

    Returns:
        An uncompiled `keras.Model` mapping inputs to class probabilities
        (float32 even under mixed precision); train it with
        `sparse_categorical_crossentropy`.

    Examples:

        >>> model = build_transformer_classifier(
        ...     (8, 8), 10, embedding_dim=16, num_heads=2, intermediate_dim=32,
        ...     num_layers=1)
        >>> model.output_shape
        (None, 10)
    """
    input_shape = _check_arguments(
        input_shape,
        num_classes,
        vocabulary_size,
        embedding_dim,
        num_heads,
        intermediate_dim,
        num_layers,
        dropout,
        position,
        pooling,
        norm_first,
        score,
        mask_zero,
    )
    args.boolean("memory_efficient", memory_efficient)

    inputs = keras.Input(
        input_shape,
        dtype="int32" if vocabulary_size else "float32",
        name="inputs",
    )
    x = _embed_sequence(
        inputs, embedding_dim, vocabulary_size, position, mask_zero
    )
    x = keras.layers.Dropout(dropout, name="embedding_dropout")(x)
    for index in range(num_layers):
        x = TransformerEncoderBlock(
            num_heads,
            intermediate_dim,
            dropout=dropout,
            norm_first=norm_first,
            score=score,
            memory_efficient=memory_efficient,
            name=f"encoder_block_{index}",
        )(x)
    if norm_first:
        x = keras.layers.LayerNormalization(epsilon=1e-5, name="final_norm")(x)
    if pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D(name="pooling")(x)
    else:
        x = keras.layers.GlobalMaxPooling1D(name="pooling")(x)
    outputs = keras.layers.Dense(
        num_classes, activation="softmax", dtype="float32", name="probabilities"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def _sequence_shape(input_shape):
    """`input_shape` as a tuple of positive ints; the length may be None."""
    if isinstance(input_shape, (list, tuple)) and input_shape:
        head = input_shape[0]
        rest = args.positive_ints_or_empty(
            "input_shape", tuple(input_shape[1:])
        )
        if head is None:
            return (None, *rest)
    return args.positive_ints("input_shape", input_shape)


def check_encoder_stack(
    num_classes,
    embedding_dim,
    num_heads,
    intermediate_dim,
    num_layers,
    dropout,
    score,
):
    """Checks the arguments every transformer classifier builder shares."""
    # The blocks check these too; refused here before any layer is built.
    for arg, value in (
        ("num_classes", num_classes),
        ("embedding_dim", embedding_dim),
        ("num_heads", num_heads),
        ("intermediate_dim", intermediate_dim),
        ("num_layers", num_layers),
    ):
        args.positive_int(arg, value)
    args.rate("dropout", dropout)
    args.one_of("score", score, SCORES)
    args.multiple_of(
        "embedding_dim", embedding_dim, num_heads, f" (`num_heads`={num_heads})"
    )


def _check_arguments(
    input_shape,
    num_classes,
    vocabulary_size,
    embedding_dim,
    num_heads,
    intermediate_dim,
    num_layers,
    dropout,
    position,
    pooling,
    norm_first,
    score,
    mask_zero,
):
    """Checks every argument, naming it; returns `input_shape` as a tuple."""
    input_shape = _sequence_shape(input_shape)
    if vocabulary_size is None:
        args.sequence(
            "input_shape",
            input_shape,
            (2, 3),
            "(length, features) or (rows, cols, channels) for float inputs, "
            "or (length,) with `vocabulary_size` for token ids",
        )
    else:
        args.positive_int("vocabulary_size", vocabulary_size)
        args.sequence(
            "input_shape",
            input_shape,
            (1,),
            "(length,) when `vocabulary_size` is given",
        )
    check_encoder_stack(
        num_classes,
        embedding_dim,
        num_heads,
        intermediate_dim,
        num_layers,
        dropout,
        score,
    )
    args.one_of("position", position, POSITIONS)
    args.one_of("pooling", pooling, POOLINGS)
    args.boolean("norm_first", norm_first)
    args.boolean("mask_zero", mask_zero)
    if input_shape[0] is None and position == "learned":
        raise ValueError(
            "Argument `input_shape` needs a known length for "
            f"position='learned'. Received: input_shape={input_shape}"
        )
    return input_shape
