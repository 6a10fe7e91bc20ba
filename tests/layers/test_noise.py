import numpy as np
import pytest
from support.backend import MappedBatches

from keras_dlparts.layers.noise import SaltAndPepperNoise
from keras_dlparts.testing import check_layer


@pytest.mark.slow
def test_contract():
    x = (
        np.random.default_rng(0)
        .uniform(0.2, 0.8, (8, 4, 4, 3))
        .astype("float32")
    )
    check_layer(
        SaltAndPepperNoise,
        {"rate": 0.1, "salt_ratio": 0.3, "seed": 1},
        x,
        reference=lambda layer, x: x,  # identity outside training
    )


def test_rates_per_element():
    x = np.full((64, 32, 32, 1), 0.5, "float32")
    y = SaltAndPepperNoise(0.2, salt_ratio=0.25, seed=3)(x, training=True)
    y = np.asarray(y)
    assert np.mean(y == 1.0) == pytest.approx(0.2 * 0.25, abs=0.005)
    assert np.mean(y == 0.0) == pytest.approx(0.2 * 0.75, abs=0.005)
    assert np.all((y == 0.5) | (y == 0.0) | (y == 1.0))


def test_per_pixel_shares_the_draw_over_channels():
    x = np.full((32, 16, 16, 3), 0.5, "float32")
    layer = SaltAndPepperNoise(0.3, low=-1.0, high=2.0, per_pixel=True, seed=0)
    y = np.asarray(layer(x, training=True))
    assert np.all(y == y[..., :1])
    assert np.mean(y[..., 0] != 0.5) == pytest.approx(0.3, abs=0.02)
    assert set(np.unique(y)) <= {-1.0, 0.5, 2.0}


def test_seeded_runs_repeat():
    x = np.full((4, 8, 8, 1), 0.5, "float32")
    a = SaltAndPepperNoise(0.5, seed=7)(x, training=True)
    b = SaltAndPepperNoise(0.5, seed=7)(x, training=True)
    np.testing.assert_array_equal(a, b)


@pytest.mark.backends("tensorflow")
def test_in_tf_data_map():
    import tensorflow as tf

    x = np.full((6, 8, 8, 1), 0.5, "float32")
    layer = SaltAndPepperNoise(0.5, seed=2)
    ds = tf.data.Dataset.from_tensor_slices(x).batch(3)
    ds = ds.map(lambda b: layer(b, training=True))
    out = np.concatenate([np.asarray(b) for b in ds])
    assert out.shape == x.shape
    assert 0.3 < np.mean(out != 0.5) < 0.7
    same = tf.data.Dataset.from_tensor_slices(x).map(lambda b: layer(b))
    np.testing.assert_array_equal(np.stack(list(same)), x)


def test_in_python_data_pipeline():
    x = np.full((6, 8, 8, 1), 0.5, "float32")
    layer = SaltAndPepperNoise(0.5, seed=2)
    noisy = MappedBatches(x, 3, lambda b: layer(b, training=True))
    out = np.concatenate([noisy[i] for i in range(len(noisy))])
    assert out.shape == x.shape
    assert 0.3 < np.mean(out != 0.5) < 0.7
    assert set(np.unique(out)) <= {0.0, 0.5, 1.0}
    # The two batches draw different noise.
    assert np.any(out[:3] != out[3:])
    same = MappedBatches(x, 3, layer)
    np.testing.assert_array_equal(np.concatenate([same[0], same[1]]), x)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"rate": 1.5}, ValueError, "rate"),
        ({"rate": float("nan")}, ValueError, "rate=nan"),
        ({"rate": "0.1"}, TypeError, "rate"),
        ({"rate": 0.1, "salt_ratio": -0.1}, ValueError, "salt_ratio"),
        ({"rate": 0.1, "low": 1.0, "high": 0.0}, ValueError, "low"),
        ({"rate": 0.1, "low": float("-inf")}, ValueError, "low=-inf"),
        ({"rate": 0.1, "high": float("nan")}, ValueError, "high=nan"),
        ({"rate": 0.1, "per_pixel": 1}, TypeError, "per_pixel"),
        ({"rate": 0.1, "seed": 1.5}, TypeError, "seed"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        SaltAndPepperNoise(**kwargs)
