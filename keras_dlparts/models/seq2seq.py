"""An encoder-decoder transformer for sequences, and greedy decoding."""

import keras
import numpy as np

from keras_dlparts import _validation as args
from keras_dlparts.layers.attention import SCORES
from keras_dlparts.layers.positional import TokenAndPositionEmbedding
from keras_dlparts.layers.transformer import TransformerDecoderBlock
from keras_dlparts.layers.transformer import TransformerEncoderBlock


def build_seq2seq_transformer(
    source_vocabulary_size,
    target_vocabulary_size,
    source_length,
    target_length,
    *,
    embedding_dim=64,
    num_heads=4,
    intermediate_dim=128,
    num_encoder_layers=2,
    num_decoder_layers=2,
    dropout=0.1,
    norm_first=False,
    score="scaled_dot",
    memory_efficient=False,
    name="seq2seq_transformer",
):
    """Builds an encoder-decoder transformer trained with teacher forcing.

    ```
    m = Encoder^N(TokenAndPositionEmbedding(source_ids))
    h = Decoder^M(TokenAndPositionEmbedding(target_input_ids), m)
    logits = h W + b        # (batch, target_len, target_vocabulary_size)
    ```

    Id 0 is padding in both sequences: it is masked in every attention, and
    the mask reaches the logits so Keras losses ignore padded targets. With
    teacher forcing, `target_input_ids` is the target shifted right (starting
    with a start id) and the labels are the target itself; the decoder's
    causal self-attention keeps position `t` from seeing tokens after `t`.
    Inputs may be shorter than `source_length` / `target_length` (the sizes
    of the position tables). Decode new sequences with `greedy_decode`.

    Args:
        source_vocabulary_size, target_vocabulary_size: numbers of token ids.
        source_length, target_length: the longest source and target input.
        embedding_dim: width of the model; divisible by `num_heads`.
        num_heads: attention heads per block.
        intermediate_dim: feed-forward width per block.
        num_encoder_layers, num_decoder_layers: numbers of blocks.
        dropout: dropout rate after the embeddings and inside the blocks.
        norm_first: pre-norm blocks (plus final LayerNorms) if `True`.
        score: attention score, see `keras_dlparts.layers.MultiHeadAttention`.
        memory_efficient: whether the attention layers use exact attention
            in memory linear in the length
            (`MultiHeadAttention(memory_efficient=True)`, docs/attention.md).
        name: the model's name.

    Returns:
        An uncompiled `keras.Model` with inputs `[source_ids,
        target_input_ids]` (int32) and float32 next-token logits; train it
        with `SparseCategoricalCrossentropy(from_logits=True)`.

    Examples:

        >>> model = build_seq2seq_transformer(12, 12, 6, 7, embedding_dim=8,
        ...                                   num_heads=2, intermediate_dim=16,
        ...                                   num_encoder_layers=1,
        ...                                   num_decoder_layers=1)
        >>> model.output_shape
        (None, None, 12)
    """
    # The blocks check these too; refused here before any layer is built.
    for arg in (
        "source_vocabulary_size",
        "target_vocabulary_size",
        "source_length",
        "target_length",
        "embedding_dim",
        "num_heads",
        "num_encoder_layers",
        "num_decoder_layers",
    ):
        args.positive_int(arg, locals()[arg])
    args.positive_int("intermediate_dim", intermediate_dim)
    args.rate("dropout", dropout)
    args.boolean("norm_first", norm_first)
    args.one_of("score", score, SCORES)
    args.boolean("memory_efficient", memory_efficient)
    args.multiple_of(
        "embedding_dim", embedding_dim, num_heads, f" (`num_heads`={num_heads})"
    )
    block_args = {
        "num_heads": num_heads,
        "intermediate_dim": intermediate_dim,
        "dropout": dropout,
        "norm_first": norm_first,
        "score": score,
        "memory_efficient": memory_efficient,
    }

    source = keras.Input((None,), dtype="int32", name="source_ids")
    target = keras.Input((None,), dtype="int32", name="target_input_ids")

    x = TokenAndPositionEmbedding(
        source_vocabulary_size,
        source_length,
        embedding_dim,
        mask_zero=True,
        name="source_embedding",
    )(source)
    x = keras.layers.Dropout(dropout, name="source_dropout")(x)
    for index in range(num_encoder_layers):
        x = TransformerEncoderBlock(
            **block_args, name=f"encoder_block_{index}"
        )(x)
    if norm_first:
        x = keras.layers.LayerNormalization(epsilon=1e-5, name="encoder_norm")(
            x
        )
    memory = x

    y = TokenAndPositionEmbedding(
        target_vocabulary_size,
        target_length,
        embedding_dim,
        mask_zero=True,
        name="target_embedding",
    )(target)
    y = keras.layers.Dropout(dropout, name="target_dropout")(y)
    for index in range(num_decoder_layers):
        y = TransformerDecoderBlock(
            **block_args, name=f"decoder_block_{index}"
        )(y, memory)
    if norm_first:
        y = keras.layers.LayerNormalization(epsilon=1e-5, name="decoder_norm")(
            y
        )
    logits = keras.layers.Dense(
        target_vocabulary_size, dtype="float32", name="logits"
    )(y)
    return keras.Model([source, target], logits, name=name)


def greedy_decode(model, source_ids, start_id, end_id, max_length):
    """Decodes with a seq2seq model, one most-likely token at a time.

    Starting from `[start_id]`, each step runs
    `model([source_ids, target_so_far])` and appends the argmax of the
    logits at the last filled position, until every sequence has produced
    `end_id` or `max_length` tokens are filled. The decoder input is a
    fixed-width buffer padded with 0, so one traced function serves every
    step; causal self-attention keeps the padding from affecting the filled
    positions.

    The shapes, `max_length` and the ids are checked against the model's
    `"source_embedding"` and `"target_embedding"` layers when it has them
    (as `build_seq2seq_transformer`'s models do).

    Args:
        model: a model such as `build_seq2seq_transformer` returns: inputs
            `[source_ids, target_input_ids]`, outputs `(batch, length, vocab)`.
        source_ids: int array `(batch, source_length)`, 0 for padding.
        start_id: the id the decoder starts from.
        end_id: the id that ends a sequence.
        max_length: width of the result, including the start id; at most
            the model's `target_length`.

    Returns:
        An int32 NumPy array `(batch, max_length)`: `start_id`, the decoded
        tokens up to and including `end_id`, then 0 (padding).
    """
    source_ids = _check_decode_arguments(
        model, source_ids, start_id, end_id, max_length
    )
    batch = len(source_ids)
    target = np.zeros((batch, max_length), "int32")
    target[:, 0] = start_id
    done = np.zeros(batch, bool)
    for step in range(max_length - 1):
        logits = keras.ops.convert_to_numpy(
            model.predict_on_batch([source_ids, target])
        )
        next_ids = logits[:, step].argmax(-1).astype("int32")
        target[:, step + 1] = np.where(done, 0, next_ids)
        done |= next_ids == end_id
        if done.all():
            break
    return target


def _embedding_limits(model, name):
    """(vocabulary_size, sequence_length) of `model`'s layer `name`, if any."""
    try:
        layer = model.get_layer(name)
    except ValueError:
        return None, None
    return (
        getattr(layer, "vocabulary_size", None),
        getattr(layer, "sequence_length", None),
    )


def _check_id(name, value, vocabulary_size):
    """A token id: an integer in [0, vocabulary_size) when that is known."""
    args.positive_int(name, value, minimum=0)
    if vocabulary_size is not None:
        args.number(
            name, value, low=0, high=vocabulary_size, include_high=False
        )


def _check_decode_arguments(model, source_ids, start_id, end_id, max_length):
    """Checks `greedy_decode`'s arguments; returns `source_ids` as int32."""
    args.keras_object("model", model, keras.Model)
    source_vocabulary, source_length = _embedding_limits(
        model, "source_embedding"
    )
    target_vocabulary, target_length = _embedding_limits(
        model, "target_embedding"
    )
    args.positive_int("max_length", max_length)
    if target_length is not None:
        args.ordered(
            "max_length", max_length, "target sequence_length", target_length
        )
    for name, value in (("start_id", start_id), ("end_id", end_id)):
        _check_id(name, value, target_vocabulary)
    # Token ids are class labels of the source vocabulary, one per token.
    args.class_labels(
        "source_ids", np.ravel(source_ids), num_classes=source_vocabulary
    )
    source_ids = np.asarray(source_ids)
    args.check_rank("source_ids", source_ids, 2)
    if 0 in source_ids.shape:
        raise ValueError(
            "Argument `source_ids` must hold at least one sequence of at least "
            f"one token. Received: source_ids.shape={source_ids.shape}"
        )
    if source_length is not None and source_ids.shape[1] > source_length:
        raise ValueError(
            "Argument `source_ids` must be at most the model's source length "
            f"{source_length} wide. "
            f"Received: source_ids.shape={source_ids.shape}"
        )
    return source_ids.astype("int32")
