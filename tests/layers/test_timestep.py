import math

import keras
import numpy as np
import pytest

from keras_dlparts.layers.timestep import TimestepEmbedding
from keras_dlparts.testing import check_layer


def numpy_timestep_embedding(layer, t):
    """DDPM's get_timestep_embedding, then the two Dense layers, in NumPy."""
    half = layer._frequency_dim // 2
    freqs = np.exp(-math.log(layer.max_period) * np.arange(half) / (half - 1))
    args = np.asarray(t, "float64").reshape(-1)[:, None] * freqs[None, :]
    emb = np.concatenate([np.sin(args), np.cos(args)], axis=1)
    w1, b1 = (w.numpy() for w in layer.hidden.weights)
    w2, b2 = (w.numpy() for w in layer.output_dense.weights)
    h = emb @ w1 + b1
    h = h / (1.0 + np.exp(-h))  # swish
    return h @ w2 + b2


@pytest.mark.slow
def test_contract():
    t = np.array([0, 3, 17, 250, 999, 500, 42, 1], dtype="int32")
    check_layer(
        TimestepEmbedding,
        {"embedding_dim": 6, "frequency_dim": 8, "hidden_dim": 12},
        t,
        reference=numpy_timestep_embedding,
        atol=1e-4,
        rtol=1e-4,
    )


def test_sinusoids_match_ddpm_formula_and_column_shape():
    layer = TimestepEmbedding(5)  # frequency_dim rounds up to 6
    out = layer(np.array([[7], [300]], "int32"))
    assert layer._frequency_dim == 6
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out),
        numpy_timestep_embedding(layer, [7, 300]),
        atol=1e-4,
    )
    # Different timesteps give different embeddings; t=0 is sin=0, cos=1.
    from keras_dlparts.layers.timestep import _timestep_frequencies

    e0 = keras.ops.convert_to_numpy(
        _timestep_frequencies(np.array([0]), 8, 1e4)
    )
    np.testing.assert_allclose(e0, [[0, 0, 0, 0, 1, 1, 1, 1]], atol=1e-7)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"embedding_dim": 0}, "embedding_dim"),
        ({"embedding_dim": 4, "frequency_dim": 5}, "frequency_dim"),
        ({"embedding_dim": 4, "hidden_dim": -1}, "hidden_dim"),
        ({"embedding_dim": 4, "max_period": 1}, "max_period"),
        ({"embedding_dim": 4, "max_period": float("nan")}, "max_period"),
        ({"embedding_dim": 4, "max_period": float("inf")}, "max_period"),
        ({"embedding_dim": 4, "activation": "no-such"}, "activation"),
        (
            {"embedding_dim": 4, "kernel_initializer": "no-such"},
            "kernel_initializer",
        ),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimestepEmbedding(**kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"embedding_dim": 4.0}, "embedding_dim"),
        ({"embedding_dim": 4, "max_period": "x"}, "max_period"),
    ],
)
def test_wrong_types_raise_type_error(kwargs, name):
    with pytest.raises(TypeError, match=name):
        TimestepEmbedding(**kwargs)


def test_an_empty_batch_gives_an_empty_output():
    assert tuple(TimestepEmbedding(4)(np.zeros((0,), "int32")).shape) == (0, 4)


def test_bad_input_rank():
    with pytest.raises(ValueError, match="timesteps"):
        TimestepEmbedding(4)(np.zeros((2, 3), "int32"))
