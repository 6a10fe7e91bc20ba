"""Mixed-precision edges of the losses: finite values and gradients.

In the style of the contract's mixed-precision check: at the edge the loss
and its gradient with respect to `y_pred` are finite for float32, float16
and bfloat16 `y_pred`, eagerly and under XLA (the losses compute in their
own dtype, float32 by default, as Keras losses do under a mixed policy).
"""

import numpy as np
import pytest
from support.backend import gradients
from support.backend import jit

from keras_dlparts.losses import ContrastiveLoss
from keras_dlparts.losses import TripletLoss

DTYPES = ("float32", "float16", "bfloat16")


def _f32(x):
    return np.asarray(x, "float32")


def _value_and_grad(loss, y_true, y_pred):
    value, (grad,) = gradients(lambda p: loss(y_true, p), y_pred)
    return _f32(value), _f32(grad)


def test_contrastive_far_dissimilar_pair_is_zero_not_nan():
    # 1e20**2 overflows float32: the similar term used to be 0 * inf = NaN.
    loss = ContrastiveLoss(margin=1.0, reduction=None)
    labels, distances = np.array([0.0, 1.0]), np.array([1e20, 0.5], "float32")
    value, grad = _value_and_grad(loss, labels, distances)
    np.testing.assert_array_equal(value, [0.0, 0.25])
    np.testing.assert_array_equal(grad, [0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.slow
def test_contrastive_edges_are_finite(dtype):
    # A dissimilar pair near float16's largest value (6e4), and a similar
    # pair whose loss d**2 = 9e8 overflows float16 but whose gradient
    # 2 d = 6e4 fits it: the loss computes in float32.
    top = float(np.array(6e4, dtype).astype("float32"))
    far = float(np.array(3e4, dtype).astype("float32"))
    labels = np.array([0.0, 0.0, 1.0, 1.0], "float32")
    distances = np.array([top, 0.0, 0.0, far], dtype)
    value, grad = _value_and_grad(
        ContrastiveLoss(reduction=None), labels, distances
    )
    assert np.all(np.isfinite(value)) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(value, [0.0, 1.0, 0.0, far**2], rtol=1e-6)
    np.testing.assert_allclose(grad, [0.0, -2.0, 0.0, 2 * far], rtol=1e-2)
    compiled = jit(lambda t, p: ContrastiveLoss()(t, p))(labels, distances)
    assert np.isfinite(float(compiled))


@pytest.mark.parametrize("distance", ["l2", "cosine", "squared_l2"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.slow
def test_triplet_coincident_and_zero_embeddings(dtype, distance):
    # Coincident embeddings (distance 0), zero embeddings (no direction for
    # the cosine) and a small one: value and gradient finite, also under XLA.
    # (The loss computes in float32, so a float16 embedding's gradient is
    # bounded by float32's floor: 1 / |x| for |x| > 1e-6 would overflow
    # float16 below 1.5e-5; see `keras_dlparts.ops.similarity`.)
    embeddings = np.array(
        [[0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [1.0, 1.0], [1e-3, 0.0]], dtype
    )
    labels = np.array([0, 0, 1, 1, 0])
    for mining in ("semi_hard", "batch_hard", "batch_all"):
        loss = TripletLoss(margin=0.5, mining=mining, distance=distance)
        value, grad = _value_and_grad(loss, labels, embeddings)
        assert np.isfinite(value) and np.all(np.isfinite(grad)), (
            mining,
            value,
            grad,
        )
        compiled = jit(lambda t, p, loss=loss: loss(t, p))(labels, embeddings)
        np.testing.assert_allclose(float(compiled), value, rtol=1e-5, atol=1e-6)
