"""Tests of keras_dlparts.layers.Maxout."""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import Maxout
from keras_dlparts.testing import check_layer


def _numpy_maxout(x, num_units, axis=-1):
    x = np.moveaxis(x, axis, -1)
    out = x.reshape(x.shape[:-1] + (num_units, -1)).max(axis=-1)
    return np.moveaxis(out, -1, axis)


@pytest.mark.slow
def test_contract_with_numpy_reference():
    x = np.random.default_rng(0).normal(size=(8, 12)).astype("float32")
    check_layer(
        Maxout,
        {"num_units": 4},
        x,
        reference=lambda layer, x: _numpy_maxout(x, 4),
    )


def test_groups_are_contiguous_worked_example():
    x = np.array([[1.0, 4.0, 3.0, 2.0, -1.0, 0.0]], "float32")
    np.testing.assert_array_equal(np.asarray(Maxout(3)(x)), [[4.0, 3.0, 0.0]])
    np.testing.assert_array_equal(np.asarray(Maxout(2)(x)), [[4.0, 2.0]])


def test_other_axis():
    x = np.random.default_rng(1).normal(size=(2, 6, 5)).astype("float32")
    layer = Maxout(3, axis=1)
    out = np.asarray(layer(x))
    np.testing.assert_allclose(out, _numpy_maxout(x, 3, axis=1))
    assert layer.compute_output_shape((2, 6, 5)) == (2, 3, 5)


def test_passes_the_time_mask_on():
    embedded = keras.layers.Embedding(5, 6, mask_zero=True)(
        np.array([[1, 2, 0]])
    )
    out = Maxout(2)(embedded)
    assert tuple(out.shape) == (1, 3, 2)
    np.testing.assert_array_equal(
        np.asarray(out._keras_mask), [[True, True, False]]
    )


def test_indivisible_input_raises():
    with pytest.raises(ValueError, match="multiple of `num_units`=4"):
        Maxout(4)(np.ones((2, 6), "float32"))


def test_an_axis_beyond_the_rank_names_axis_and_the_rank():
    with pytest.raises(ValueError, match="`axis` must be an axis of a rank-2"):
        Maxout(2, axis=2)(np.ones((2, 6), "float32"))


def test_an_empty_batch_gives_an_empty_output():
    out = Maxout(3)(np.ones((0, 6), "float32"))
    assert tuple(out.shape) == (0, 3)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_units": 0}, ValueError, "num_units"),
        ({"num_units": 2.0}, TypeError, "num_units"),
        ({"num_units": 2, "axis": 0}, ValueError, "axis"),
        ({"num_units": 2, "axis": "x"}, TypeError, "axis"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        Maxout(**kwargs)
