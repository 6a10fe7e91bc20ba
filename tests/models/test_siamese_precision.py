"""SiameseNetwork under mixed precision: finite at equal pairs and at zero
embeddings.

In float16 the old `sqrt(max(d^2, 1e-12))` floor rounded to 0, so the
distance of an identical pair had an infinite gradient (NaN weights, or a
collapsing loss scale in `fit`). Distances are now taken in float32 with a
square root whose gradient is zero at zero.
"""

import keras
import numpy as np
import pytest

from keras_dlparts._autodiff import value_and_gradients
from keras_dlparts.losses import ContrastiveLoss
from keras_dlparts.models import SiameseNetwork

POLICIES = ("mixed_float16", "mixed_bfloat16")


@pytest.fixture(params=POLICIES)
def policy(request):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(request.param)
    try:
        yield request.param
    finally:
        keras.config.set_dtype_policy(previous)


def _model(normalize, distance, zero):
    initializer = "zeros" if zero else "glorot_uniform"
    encoder = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(
                3, kernel_initializer=initializer, bias_initializer="zeros"
            ),
        ]
    )
    return SiameseNetwork(encoder, normalize=normalize, distance=distance)


def _distance_and_gradients(model, a, b):
    """Distances of the pairs, and gradients of their sum w.r.t. weights and
    inputs."""
    inputs = [
        keras.Variable(a, trainable=True),
        keras.Variable(b, trainable=True),
    ]
    variables = model.trainable_variables + inputs

    def loss_fn():
        d = model((inputs[0].value, inputs[1].value))
        return keras.ops.sum(keras.ops.cast(d, "float32")), d

    (_, d), grads = value_and_gradients(loss_fn, variables)
    grads = [keras.ops.convert_to_numpy(g) for g in grads if g is not None]
    return keras.ops.convert_to_numpy(d), grads


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("distance", ["euclidean", "cosine"])
@pytest.mark.parametrize(
    "zero", [False, True], ids=["identical", "zero_embeddings"]
)
@pytest.mark.slow
def test_equal_pairs_have_finite_distances_and_gradients(
    policy, normalize, distance, zero
):
    model = _model(normalize, distance, zero)
    assert model.compute_dtype in ("float16", "bfloat16")
    a = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    d, grads = _distance_and_gradients(model, a, a.copy())
    assert grads, "no gradient reached the weights or the inputs"
    for g in grads:
        assert np.all(np.isfinite(g)), f"non-finite gradient under {policy}"
    assert np.all(np.isfinite(d))
    if distance == "euclidean" or zero:
        # Equal embeddings: Euclidean distance 0; a zero vector has cosine 0.
        expected = 0.0 if distance == "euclidean" else 1.0
        np.testing.assert_array_equal(d, np.full_like(d, expected))
    assert d.dtype == np.float32


def test_euclidean_distance_matches_numpy_in_float32(policy):
    model = _model(normalize=False, distance="euclidean", zero=False)
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 6, 4)).astype("float32")
    fa = keras.ops.convert_to_numpy(model.embed(a)).astype("float32")
    fb = keras.ops.convert_to_numpy(model.embed(b)).astype("float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model((a, b))),
        np.linalg.norm(fa - fb, axis=1),
        rtol=1e-5,
        atol=1e-6,
    )


def test_fit_on_identical_pairs_keeps_the_loss_scale(policy):
    # Before: the infinite gradient of an identical pair halved the loss
    # scale at every step and skipped the update. The margin is wide enough
    # for the dissimilar pairs to move the weights, small enough for the
    # scaled loss to fit float16.
    keras.utils.set_random_seed(0)
    model = _model(normalize=False, distance="euclidean", zero=False)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01), loss=ContrastiveLoss(margin=3.0)
    )
    rng = np.random.default_rng(2)
    a = rng.normal(size=(8, 4)).astype("float32")
    b = np.concatenate([a[:4], rng.normal(size=(4, 4)).astype("float32")])
    # Identical pairs with either label: d^2 and (margin - d)^2 at d = 0.
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0], "float32")
    before = [np.array(w) for w in model.encoder.get_weights()]
    history = model.fit((a, b), y, batch_size=8, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    after = model.encoder.get_weights()
    assert all(np.all(np.isfinite(w)) for w in after)
    assert any(not np.array_equal(w0, w1) for w0, w1 in zip(before, after))
    # Every step was applied (a LossScaleOptimizer counts applied steps only).
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 3
    if policy == "mixed_float16":
        scale = float(keras.ops.convert_to_numpy(model.optimizer.dynamic_scale))
        assert scale == 2.0**15  # Keras's initial scale: never lowered
