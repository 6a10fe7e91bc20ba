"""Tests of keras_dlparts.ops.sinusoidal_positional_encoding."""

import keras
import numpy as np
import pytest
from support.backend import jit

from keras_dlparts.ops import sinusoidal_positional_encoding


def _numpy_table(length, depth, base=10000.0):
    """PE(pos, 2i) = sin(pos / base^(2i/d)), PE(pos, 2i+1) = cos(same)."""
    table = np.zeros((length, depth))
    for pos in range(length):
        for i in range(depth // 2):
            angle = pos / base ** (2 * i / depth)
            table[pos, 2 * i] = np.sin(angle)
            table[pos, 2 * i + 1] = np.cos(angle)
    return table


@pytest.mark.parametrize(
    "length, depth, base", [(1, 2, 10000.0), (7, 6, 10000.0), (50, 16, 100.0)]
)
@pytest.mark.slow
def test_matches_formula(length, depth, base):
    table = keras.ops.convert_to_numpy(
        sinusoidal_positional_encoding(length, depth, base)
    )
    assert table.shape == (length, depth)
    assert table.dtype == np.float32
    np.testing.assert_allclose(
        table, _numpy_table(length, depth, base), atol=2e-5
    )


def test_worked_example():
    table = keras.ops.convert_to_numpy(sinusoidal_positional_encoding(2, 2))
    expected = [[0.0, 1.0], [np.sin(1.0), np.cos(1.0)]]
    np.testing.assert_allclose(table, expected, atol=1e-7)


def test_dynamic_length_under_xla():
    # On TensorFlow the length is a tensor inside the traced function.
    def add_table(x):
        return x + sinusoidal_positional_encoding(keras.ops.shape(x)[0], 4)

    out = jit(add_table, input_shapes=[(None, 4)])(np.zeros((9, 4), "float32"))
    out = keras.ops.convert_to_numpy(out)
    np.testing.assert_allclose(out, _numpy_table(9, 4), atol=2e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (
            {"length": 3, "depth": 5},
            r"`depth` must be a positive even.*depth=5",
        ),
        ({"length": 3, "depth": 0}, r"`depth` must be a positive.*depth=0"),
        ({"length": -1, "depth": 4}, r"`length`.*length=-1"),
        ({"length": 3, "depth": 4, "base": 0.0}, r"`base`.*base=0.0"),
        ({"length": 3, "depth": 4, "base": float("nan")}, r"`base`.*base=nan"),
        ({"length": 3, "depth": 4, "base": float("inf")}, r"`base`.*base=inf"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sinusoidal_positional_encoding(**kwargs)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"length": 2.5, "depth": 4}, "length"),
        ({"length": 3, "depth": "4"}, "depth"),
        ({"length": 3, "depth": 4, "base": "e"}, "base"),
    ],
)
def test_wrong_types_raise_type_error(kwargs, name):
    with pytest.raises(TypeError, match=f"`{name}`"):
        sinusoidal_positional_encoding(**kwargs)
