"""Fuzz table: keras_dlparts.layers, sequence and block layers.

Attention, transformer blocks, positional encodings, the LSTM cell, ViT
patches, timestep embeddings, token augmentations and the convolutional
blocks (DenseNet, ResNet, Maxout).
"""

import numpy as np
from fuzz.cases import ACTIVATION
from fuzz.cases import BOOLEAN
from fuzz.cases import CHOICE
from fuzz.cases import FRACTION
from fuzz.cases import INF
from fuzz.cases import INITIALIZER
from fuzz.cases import NAN
from fuzz.cases import OPTIONAL_KERAS
from fuzz.cases import POSITIVE_INT
from fuzz.cases import POSITIVE_NUMBER
from fuzz.cases import RATE
from fuzz.cases import SEED
from fuzz.cases import Entry

from keras_dlparts import layers

rng = np.random.default_rng(0)


def _floats(*shape):
    return rng.normal(size=shape).astype("float32")


Q, V = _floats(2, 3, 8), _floats(2, 5, 8)
SEQ = _floats(2, 4, 8)
IDS = np.array([[3, 1, 4, 0], [5, 9, 2, 6]], "int32")
IMAGES = _floats(2, 4, 4, 3)
H, C = _floats(2, 4), _floats(2, 4)


def _keywords(layer, **inputs):
    """Calls `layer` with every input by keyword."""
    return layer(**inputs)


def _lstm_step(cell, **inputs):
    return cell(inputs["inputs"], [inputs["states[0]"], inputs["states[1]"]])


def _training(layer, **inputs):
    return layer(*inputs.values(), training=True)


_BLOCK_BAD = {
    "num_heads": POSITIVE_INT,
    "intermediate_dim": POSITIVE_INT,
    "dropout": RATE,
    "activation": ACTIVATION,
    "norm_first": BOOLEAN,
    "score": CHOICE,
    "layer_norm_epsilon": POSITIVE_NUMBER,
    "kernel_initializer": INITIALIZER,
    "bias_initializer": INITIALIZER,
    "seed": SEED,
    "memory_efficient": BOOLEAN,
    "query_chunk_size": POSITIVE_INT,
    "key_chunk_size": POSITIVE_INT,
}

_TOKEN_NOTE = (
    "rank 1 is a single sequence (tf.data before batching), so dropping the "
    "batch axis is legitimate"
)

TABLE = {
    "layers.MultiHeadAttention": Entry(
        layers.MultiHeadAttention,
        args={"num_heads": 2, "key_dim": 4},
        bad={
            "num_heads": POSITIVE_INT,
            "key_dim": POSITIVE_INT,
            "score": CHOICE,
            "memory_efficient": BOOLEAN,
            "query_chunk_size": POSITIVE_INT,
            "key_chunk_size": POSITIVE_INT,
            "value_dim": (0, -1, 1.5, True, "x"),
            "dropout": RATE,
            "use_bias": BOOLEAN,
            "use_gate": BOOLEAN,
            "sliding_window": (0, -1, 1.5, True, "x"),
            "flash_attention": ("yes", 2),
            "kernel_initializer": INITIALIZER,
            "bias_initializer": INITIALIZER,
            "kernel_regularizer": OPTIONAL_KERAS,
            "bias_regularizer": OPTIONAL_KERAS,
            "activity_regularizer": OPTIONAL_KERAS,
            "kernel_constraint": OPTIONAL_KERAS,
            "bias_constraint": OPTIONAL_KERAS,
            "seed": SEED,
        },
        inputs={"query": Q, "value": V},
        call=_keywords,
        bad_calls=[
            (
                "attention_mask",
                {
                    "query": Q,
                    "value": V,
                    "attention_mask": np.ones((2, 3, 4), bool),
                },
            ),
            (
                "attention_mask",
                {
                    "query": Q,
                    "value": V,
                    "attention_mask": np.ones((3, 3, 5), bool),
                },
            ),
            (
                "attention_mask",
                {
                    "query": Q,
                    "value": V,
                    "attention_mask": np.ones((3, 6), bool),
                },
            ),
            ("key", {"query": Q, "value": V, "key": _floats(2, 4, 8)}),
            (
                "value_mask",
                {"query": Q, "value": V, "value_mask": np.ones((2, 4), bool)},
            ),
            (
                "query_mask",
                {"query": Q, "value": V, "query_mask": np.ones((2, 5), bool)},
            ),
        ],
    ),
    "layers.TransformerEncoderBlock": Entry(
        layers.TransformerEncoderBlock,
        args={"num_heads": 2, "intermediate_dim": 8},
        bad=_BLOCK_BAD,
        inputs={"inputs": SEQ},
        call=_keywords,
        bad_calls=[
            (
                "padding_mask",
                {"inputs": SEQ, "padding_mask": np.ones((2, 5), bool)},
            ),
            (
                "padding_mask",
                {"inputs": SEQ, "padding_mask": np.ones((3, 4), bool)},
            ),
            (
                "attention_mask",
                {"inputs": SEQ, "attention_mask": np.ones((2, 4, 5), bool)},
            ),
            (
                "attention_mask",
                {"inputs": SEQ, "attention_mask": np.ones((4, 5), bool)},
            ),
            ("num_heads", {"inputs": _floats(2, 4, 7)}),
        ],
    ),
    "layers.TransformerDecoderBlock": Entry(
        layers.TransformerDecoderBlock,
        args={"num_heads": 2, "intermediate_dim": 8},
        bad=_BLOCK_BAD,
        inputs={"decoder_sequence": Q, "encoder_sequence": _floats(2, 5, 6)},
        call=_keywords,
        bad_calls=[
            (
                "decoder_padding_mask",
                {
                    "decoder_sequence": Q,
                    "encoder_sequence": _floats(2, 5, 6),
                    "decoder_padding_mask": np.ones((2, 5), bool),
                },
            ),
            (
                "encoder_padding_mask",
                {
                    "decoder_sequence": Q,
                    "encoder_sequence": _floats(2, 5, 6),
                    "encoder_padding_mask": np.ones((2, 3), bool),
                },
            ),
        ],
    ),
    "layers.SinusoidalPositionalEncoding": Entry(
        layers.SinusoidalPositionalEncoding,
        args={"base": 10000.0},
        bad={"base": POSITIVE_NUMBER},
        inputs={"inputs": SEQ},
        bad_calls=[("inputs", {"inputs": _floats(2, 4, 7)})],
    ),
    "layers.LearnedPositionalEmbedding": Entry(
        layers.LearnedPositionalEmbedding,
        args={"sequence_length": 6},
        bad={
            "sequence_length": POSITIVE_INT,
            "embeddings_initializer": INITIALIZER,
        },
        inputs={"inputs": SEQ},
        bad_calls=[("sequence_length", {"inputs": _floats(2, 7, 8)})],
    ),
    "layers.TokenAndPositionEmbedding": Entry(
        layers.TokenAndPositionEmbedding,
        args={"vocabulary_size": 10, "sequence_length": 6, "embedding_dim": 4},
        bad={
            "vocabulary_size": POSITIVE_INT,
            "sequence_length": POSITIVE_INT,
            "embedding_dim": POSITIVE_INT,
            "mask_zero": BOOLEAN,
            "embeddings_initializer": INITIALIZER,
            "position_initializer": INITIALIZER,
        },
        inputs={"inputs": IDS},
        bad_calls=[("sequence_length", {"inputs": np.ones((2, 7), "int32")})],
        note="ids out of range show only in values: documented, not checked",
    ),
    "layers.LSTMCell": Entry(
        layers.LSTMCell,
        args={"units": 4},
        bad={
            "units": POSITIVE_INT,
            "layer_norm": BOOLEAN,
            "peephole": BOOLEAN,
            "activation": ACTIVATION,
            "recurrent_activation": ACTIVATION,
            "use_bias": BOOLEAN,
            "kernel_initializer": INITIALIZER,
            "recurrent_initializer": INITIALIZER,
            "bias_initializer": INITIALIZER,
            "peephole_initializer": INITIALIZER,
            "unit_forget_bias": BOOLEAN,
            "kernel_regularizer": OPTIONAL_KERAS,
            "recurrent_regularizer": OPTIONAL_KERAS,
            "bias_regularizer": OPTIONAL_KERAS,
            "kernel_constraint": OPTIONAL_KERAS,
            "recurrent_constraint": OPTIONAL_KERAS,
            "bias_constraint": OPTIONAL_KERAS,
            "dropout": FRACTION,
            "recurrent_dropout": FRACTION,
            "layer_norm_epsilon": POSITIVE_NUMBER,
            "seed": SEED,
        },
        inputs={"inputs": _floats(2, 3), "states[0]": H, "states[1]": C},
        call=_lstm_step,
        bad_calls=[
            (
                "states[0]",
                {
                    "inputs": _floats(2, 3),
                    "states[0]": _floats(2, 5),
                    "states[1]": C,
                },
            ),
            (
                "states[1]",
                {
                    "inputs": _floats(2, 3),
                    "states[0]": H,
                    "states[1]": _floats(2, 3),
                },
            ),
        ],
    ),
    "layers.PatchEmbedding": Entry(
        layers.PatchEmbedding,
        args={"patch_size": 2, "embedding_dim": 5},
        bad={
            "patch_size": POSITIVE_INT + ((2, 0), (2, 2, 2), (2, "x")),
            "embedding_dim": POSITIVE_INT,
            "kernel_initializer": INITIALIZER,
            "bias_initializer": INITIALIZER,
        },
        inputs={"inputs": IMAGES},
        bad_calls=[("patch_size", {"inputs": _floats(2, 5, 4, 3)})],
    ),
    "layers.ClassToken": Entry(
        layers.ClassToken,
        args={},
        bad={"token_initializer": INITIALIZER},
        inputs={"inputs": SEQ},
    ),
    "layers.TimestepEmbedding": Entry(
        layers.TimestepEmbedding,
        args={"embedding_dim": 8},
        bad={
            "embedding_dim": POSITIVE_INT,
            "frequency_dim": (0, -1, 1.5, True, "x", 3, 2),
            "hidden_dim": (0, -1, 1.5, True, "x"),
            "max_period": (1.0, 0.5, 0, -1.0, NAN, INF, "x", None),
            "activation": ACTIVATION,
            "kernel_initializer": INITIALIZER,
            "bias_initializer": INITIALIZER,
        },
        inputs={"timesteps": np.array([0, 10, 999], "int32")},
        bad_calls=[
            ("timesteps", {"timesteps": np.zeros((3, 2), "int32")}),
            ("timesteps", {"timesteps": np.zeros((3, 1, 1), "int32")}),
        ],
    ),
    "layers.RandomTokenDeletion": Entry(
        layers.RandomTokenDeletion,
        args={"rate": 0.5, "seed": 0},
        bad={"rate": FRACTION, "seed": SEED},
        inputs={"inputs": IDS},
        call=_training,
        rank_free=("inputs",),
        bad_calls=[
            ("inputs", {"inputs": np.ones((2, 2, 2), "int32")}),
            ("inputs", {"inputs": _floats(2, 4)}),
        ],
        note=_TOKEN_NOTE,
    ),
    "layers.RandomTokenInsertion": Entry(
        layers.RandomTokenInsertion,
        args={"rate": 0.5, "seed": 0},
        bad={
            "rate": FRACTION,
            "seed": SEED,
            "vocabulary_size": (0, 1, -1, 1.5, True, "x"),
        },
        inputs={"inputs": IDS},
        call=_training,
        rank_free=("inputs",),
        bad_calls=[
            ("inputs", {"inputs": np.ones((2, 2, 2), "int32")}),
            ("inputs", {"inputs": _floats(2, 4)}),
        ],
        note=_TOKEN_NOTE,
    ),
    "layers.RandomTokenSwap": Entry(
        layers.RandomTokenSwap,
        args={"rate": 0.5, "seed": 0},
        bad={"rate": FRACTION, "seed": SEED},
        inputs={"inputs": IDS},
        call=_training,
        rank_free=("inputs",),
        bad_calls=[
            ("inputs", {"inputs": np.ones((2, 2, 2), "int32")}),
            ("inputs", {"inputs": _floats(2, 4)}),
        ],
        note=_TOKEN_NOTE,
    ),
    "layers.DenseBlock": Entry(
        layers.DenseBlock,
        args={"num_layers": 2, "growth_rate": 2},
        bad={
            "num_layers": POSITIVE_INT,
            "growth_rate": POSITIVE_INT,
            "bottleneck": BOOLEAN,
            "dropout": RATE,
            "epsilon": POSITIVE_NUMBER,
            "momentum": FRACTION,
            "kernel_initializer": INITIALIZER,
            "kernel_regularizer": OPTIONAL_KERAS,
            "seed": SEED,
        },
        inputs={"inputs": IMAGES},
    ),
    "layers.TransitionLayer": Entry(
        layers.TransitionLayer,
        args={"compression": 0.5},
        bad={
            "compression": (0, -0.5, 1.5, NAN, INF, "x", None),
            "epsilon": POSITIVE_NUMBER,
            "momentum": FRACTION,
            "kernel_initializer": INITIALIZER,
            "kernel_regularizer": OPTIONAL_KERAS,
        },
        inputs={"inputs": IMAGES},
        bad_calls=[("compression", {"inputs": _floats(2, 4, 4, 1)})],
    ),
    "layers.ResidualBlock": Entry(
        layers.ResidualBlock,
        args={"filters": 2},
        bad={
            "filters": POSITIVE_INT,
            "kind": CHOICE,
            "strides": POSITIVE_INT,
            "kernel_size": POSITIVE_INT + (2,),
            "use_bias": BOOLEAN,
            "epsilon": POSITIVE_NUMBER,
            "momentum": FRACTION,
            "kernel_initializer": INITIALIZER,
            "kernel_regularizer": OPTIONAL_KERAS,
        },
        inputs={"inputs": IMAGES},
    ),
    "layers.CRF": Entry(
        layers.CRF,
        args={"num_tags": 3},
        bad={
            "num_tags": POSITIVE_INT,
            "use_kernel": BOOLEAN,
            "use_boundary": BOOLEAN,
            "kernel_initializer": INITIALIZER,
            "chain_initializer": INITIALIZER,
            "boundary_initializer": INITIALIZER,
        },
        inputs={"inputs": SEQ},
    ),
    "layers.Maxout": Entry(
        layers.Maxout,
        args={"num_units": 3},
        bad={"num_units": POSITIVE_INT, "axis": (0, 1.5, True, "x", None)},
        inputs={"inputs": _floats(2, 6)},
        bad_calls=[("num_units", {"inputs": _floats(2, 5)})],
    ),
}
