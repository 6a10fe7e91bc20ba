"""Tests of keras_dlparts.layers.MinibatchStdDev."""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import MinibatchStdDev
from keras_dlparts.testing import check_layer


def numpy_minibatch_std(x, group_size, epsilon=1e-8):
    """Karras et al. (2018), group by group in NumPy (consecutive groups)."""
    x = np.asarray(x, "float64")
    extra = np.zeros(x.shape[:-1] + (1,))
    for start in range(0, len(x), group_size):
        group = x[start : start + group_size]
        std = np.sqrt(group.var(axis=0) + epsilon)  # biased, per feature
        extra[start : start + group_size] = std.mean()
    return np.concatenate([x, extra], axis=-1)


def _inputs(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.slow  # the whole contract: 52 s on the loaded 2-core VM
def test_contract_with_numpy_reference():
    check_layer(
        MinibatchStdDev,
        {"group_size": 2},
        _inputs(4, 2, 2, 3),
        reference=lambda layer, x: numpy_minibatch_std(x, 2),
    )


@pytest.mark.parametrize(
    "shape, group_size",
    [
        ((8, 3, 2, 4), 4),
        ((7, 3, 2, 4), 3),
        ((3, 5), 4),
        ((5, 2, 6), 1),
        ((0, 3, 2), 2),
    ],
)
@pytest.mark.slow
def test_matches_numpy_for_any_batch_size(shape, group_size):
    x = _inputs(*shape, seed=group_size)
    out = np.asarray(MinibatchStdDev(group_size)(x))
    assert out.shape == shape[:-1] + (shape[-1] + 1,)
    np.testing.assert_allclose(
        out, numpy_minibatch_std(x, group_size), rtol=1e-5, atol=1e-6
    )


def test_near_copies_give_a_small_spread_in_a_model():
    inputs = keras.Input((4, 4, 2))
    model = keras.Model(inputs, MinibatchStdDev(4)(inputs))
    assert model.output_shape == (None, 4, 4, 3)
    varied = _inputs(8, 4, 4, 2)
    copies = np.repeat(varied[:1], 8, axis=0) + 1e-3 * varied
    spread = model.predict(varied, batch_size=8, verbose=0)[..., -1]
    assert spread.min() > 0.5
    assert model.predict(copies, batch_size=8, verbose=0)[..., -1].max() < 0.01


def test_refusals_name_the_argument():
    with pytest.raises(ValueError, match="group_size"):
        MinibatchStdDev(0)
    with pytest.raises(TypeError, match="group_size"):
        MinibatchStdDev(2.5)
    with pytest.raises(ValueError, match="epsilon"):
        MinibatchStdDev(2, epsilon=-1.0)
    with pytest.raises(ValueError, match="inputs.*rank"):
        MinibatchStdDev(2)(np.zeros((3,), "float32"))
