"""LSTM language model built on `layers.LSTMCell`."""

import keras

from keras_dlparts import _validation as args
from keras_dlparts.layers.lstm import LSTMCell


def build_lstm_language_model(
    vocabulary_size,
    embedding_dim=64,
    units=128,
    num_layers=1,
    sequence_length=None,
    dropout=0.0,
    recurrent_dropout=0.0,
    layer_norm=False,
    peephole=False,
    name="lstm_language_model",
):
    """Builds a next-token LSTM language model.

    Token ids `(batch, time)` - embedding (id 0 is padding and is masked) -
    `num_layers` of `keras.layers.RNN(LSTMCell(units))` returning sequences
    - dense logits over the vocabulary at every step, `(batch, time,
    vocabulary_size)`. Train it with
    `SparseCategoricalCrossentropy(from_logits=True)` on `y = ids[:, 1:]`
    for `x = ids[:, :-1]`; padded steps carry the mask, so they do not
    count in the loss.

    Args:
        vocabulary_size: positive integer, vocabulary size including padding 0.
        embedding_dim: positive integer, size of the token embeddings.
        units: positive integer, LSTM units per layer.
        num_layers: positive integer, stacked LSTM layers.
        sequence_length: optional positive integer (None: any length).
        dropout: float in [0, 1), dropout of the LSTM inputs and before
            the output layer.
        recurrent_dropout: float in [0, 1), dropout of the recurrent state.
        layer_norm, peephole: booleans, the `LSTMCell` options.
        name: model name.

    Returns:
        An uncompiled `keras.Model` giving next-token logits.

    Examples:

        >>> from keras_dlparts.models import build_lstm_language_model
        >>> model = build_lstm_language_model(50, embedding_dim=8, units=8)
        >>> model.output_shape
        (None, None, 50)
    """
    args.positive_int("vocabulary_size", vocabulary_size)
    args.positive_int("embedding_dim", embedding_dim)
    args.positive_int("units", units)
    args.positive_int("num_layers", num_layers)
    if sequence_length is not None:
        args.positive_int("sequence_length", sequence_length)
    dropout = args.rate("dropout", dropout)
    recurrent_dropout = args.rate("recurrent_dropout", recurrent_dropout)
    args.boolean("layer_norm", layer_norm)
    args.boolean("peephole", peephole)

    inputs = keras.Input((sequence_length,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(
        vocabulary_size, embedding_dim, mask_zero=True, name="embedding"
    )(inputs)
    for i in range(1, num_layers + 1):
        cell = LSTMCell(
            units,
            layer_norm=layer_norm,
            peephole=peephole,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            name=f"lstm{i}_cell",
        )
        x = keras.layers.RNN(cell, return_sequences=True, name=f"lstm{i}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="output_dropout")(x)
    outputs = keras.layers.Dense(vocabulary_size, name="logits")(x)
    return keras.Model(inputs, outputs, name=name)
