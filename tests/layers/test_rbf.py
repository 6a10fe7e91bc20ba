import keras
import numpy as np
import pytest

from keras_dlparts.layers import RBF
from keras_dlparts.testing import check_layer


def _reference(layer, x):
    c = layer.centers.numpy().astype("float64")
    gamma = layer.gamma.numpy().astype("float64")
    return np.exp(-gamma * ((x[:, None, :] - c[None]) ** 2).sum(-1))


@pytest.mark.slow
def test_contract():
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    check_layer(
        RBF,
        {"units": 4, "gamma": 0.5, "centers_initializer": "random_normal"},
        x,
        reference=_reference,
    )


def test_higher_rank_inputs_and_frozen_gamma():
    layer = RBF(3, gamma=2.0, trainable_gamma=False)
    x = np.random.default_rng(1).normal(size=(2, 5, 4)).astype("float32")
    out = np.asarray(layer(x))
    assert out.shape == (2, 5, 3)
    expected = _reference(layer, x.reshape(-1, 4)).reshape(2, 5, 3)
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert [w.name for w in layer.trainable_weights] == ["centers"]


@pytest.mark.slow
def test_adapt_places_centres_by_kmeans_and_repeats_with_a_seed():
    rng = np.random.default_rng(0)
    blobs = np.array([[0, 0], [5, 5], [0, 5]], "float32")
    data = (blobs.repeat(30, 0) + rng.normal(0, 0.3, (90, 2))).astype("float32")
    first, second = RBF(3), RBF(3)
    first.adapt(data, seed=3)
    second.adapt(data, seed=3)
    np.testing.assert_array_equal(first.centers.numpy(), second.centers.numpy())
    found = first.centers.numpy()
    # Each blob's sample mean is a centre.
    for k in range(3):
        mean = data[30 * k : 30 * (k + 1)].mean(0)
        assert np.min(np.abs(found - mean).max(1)) < 1e-4


@pytest.mark.slow
def test_adapt_ends_at_a_lloyd_fixed_point():
    data = np.random.default_rng(1).normal(size=(60, 3)).astype("float32")
    layer = RBF(4)
    layer.adapt(data, iterations=50, seed=0)
    centers = layer.centers.numpy().astype("float64")
    nearest = ((data[:, None] - centers[None]) ** 2).sum(-1).argmin(1)
    for j in range(4):
        # Every centre is the NumPy mean of the samples nearest to it.
        np.testing.assert_allclose(
            centers[j], data[nearest == j].mean(0), atol=1e-5
        )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"units": 0}, ValueError, "`units` must be a positive integer"),
        ({"units": 2.0}, TypeError, "`units` must be a positive integer"),
        ({"gamma": -1.0}, ValueError, "`gamma` must be a positive finite"),
        ({"gamma": float("nan")}, ValueError, "gamma=nan"),
        ({"gamma": float("inf")}, ValueError, "gamma=inf"),
        ({"gamma": "1"}, TypeError, "`gamma` must be a number"),
        (
            {"trainable_gamma": "yes"},
            TypeError,
            "`trainable_gamma` must be True",
        ),
        ({"centers_initializer": "nope"}, ValueError, "`centers_initializer`"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        RBF(**{"units": 2, **kwargs})


def test_bad_adapt_arguments():
    with pytest.raises(TypeError, match="`iterations`"):
        RBF(2).adapt(np.ones((3, 2), "float32"), iterations=1.5)
    with pytest.raises(TypeError, match="`seed`"):
        RBF(2).adapt(np.ones((3, 2), "float32"), seed="x")
    with pytest.raises(ValueError, match="`data` must have rank 2"):
        RBF(2).adapt(np.ones((3,), "float32"))
    layer = RBF(2)
    layer(np.ones((1, 3), "float32"))
    with pytest.raises(
        ValueError, match="`data` must have size 3 along axis -1"
    ):
        layer.adapt(np.ones((4, 2), "float32"))


def test_bad_inputs():
    layer = RBF(2)
    layer(np.ones((1, 3), "float32"))
    with pytest.raises(
        ValueError, match="`inputs` must have size 3 along axis -1"
    ):
        layer(np.ones((1, 4), "float32"))
    with pytest.raises(ValueError, match="rank >= 2"):
        RBF(2).build((3,))
    with pytest.raises(ValueError, match="at least `units`=5"):
        RBF(5).adapt(np.ones((3, 2), "float32"))


def test_config_serializes_the_initializer_and_loads_a_plain_string():
    config = RBF(2, centers_initializer="ones").get_config()
    assert config["centers_initializer"] == keras.initializers.serialize(
        keras.initializers.Ones()
    )
    # Configs saved with the initializer as a plain string still load.
    layer = RBF.from_config({**config, "centers_initializer": "zeros"})
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.centers.numpy(), np.zeros((2, 3)))
