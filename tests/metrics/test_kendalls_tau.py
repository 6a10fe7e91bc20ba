import keras
import numpy as np
import pytest
from scipy.stats import kendalltau
from support.metric_in_model import check_in_model

from keras_dlparts.metrics import KendallsTau
from keras_dlparts.testing import distribution_scope


def scores(n=60, seed=0):
    """Correlated targets and predictions with ties, and weights 0 to 3."""
    rng = np.random.default_rng(seed)
    true = np.round(rng.normal(size=n), 1)
    pred = np.round(true + rng.normal(size=n), 0)
    return true, pred, rng.integers(0, 4, n).astype("float32")


def scipy_tau(true, pred, weights=None):
    """SciPy's tau-b; whole-number weights repeat the examples."""
    if weights is not None:
        repeats = weights.astype(int)
        true, pred = np.repeat(true, repeats), np.repeat(pred, repeats)
    return kendalltau(true, pred).statistic


def update_in_batches(metric, true, pred, weights=None, sizes=(16, 5, 20)):
    start, step = 0, 0
    while start < len(true):
        end = start + sizes[step % len(sizes)]
        metric.update_state(
            true[start:end],
            pred[start:end, None],  # (batch, 1), as a model's output
            None if weights is None else weights[start:end],
        )
        start, step = end, step + 1
    return float(metric.result())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.slow
def test_matches_scipy_over_batches(weighted):
    true, pred, weights = scores(seed=1)
    weights = weights if weighted else None
    expected = scipy_tau(true, pred, weights)
    assert 0.2 < expected < 0.9
    metric = KendallsTau(max_samples=100)
    assert update_in_batches(metric, true, pred, weights) == pytest.approx(
        expected, abs=1e-6
    )
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert float(metric.seen) == 0.0


@pytest.mark.slow
def test_beyond_the_cap_the_first_examples_count():
    true, pred, _ = scores(n=70, seed=2)
    metric = KendallsTau(max_samples=45)  # a cap inside the third batch
    got = update_in_batches(metric, true, pred)
    assert got == pytest.approx(scipy_tau(true[:45], pred[:45]), abs=1e-6)
    assert float(metric.seen) == 70.0
    # Continuous values, one batch larger than the row blocks of 256.
    rng = np.random.default_rng(3)
    x = rng.normal(size=600)
    y = x + rng.normal(size=600)
    metric = KendallsTau(max_samples=1000)
    metric.update_state(x, y)
    assert float(metric.result()) == pytest.approx(scipy_tau(x, y), abs=1e-6)


@pytest.mark.slow
def test_undefined_tau_is_zero_and_empty_batch_adds_nothing():
    metric = KendallsTau()
    assert float(metric.result()) == 0.0
    metric.update_state([1.0, 1.0, 1.0], [1.0, 2.0, 3.0])  # x constant
    assert float(metric.result()) == 0.0
    metric.update_state([2.0, 0.0], [3.0, 0.5])
    before = float(metric.result())
    metric.update_state(np.zeros((0,)), np.zeros((0,)))
    assert float(metric.result()) == before
    assert before == pytest.approx(
        scipy_tau(np.array([1, 1, 1, 2, 0]), np.array([1, 2, 3, 3, 0.5]))
    )


@pytest.mark.slow
def test_in_compiled_model_jit_distributed_and_saved(tmp_path):
    true, pred, weights = scores(n=32, seed=4)
    check_in_model(
        lambda: KendallsTau(max_samples=64),
        pred[:, None],
        true,
        scipy_tau(true, pred, weights),
        sample_weight=weights,
        tmp_path=tmp_path,
    )


def test_config_and_errors():
    metric = KendallsTau(max_samples=10, name="tau")
    clone = KendallsTau.from_config(metric.get_config())
    assert clone.get_config() == metric.get_config()
    restored = keras.metrics.deserialize(keras.metrics.serialize(metric))
    assert restored.max_samples == 10
    with pytest.raises(ValueError, match="max_samples"):
        KendallsTau(max_samples=1)
    with pytest.raises(TypeError, match="max_samples"):
        KendallsTau(max_samples=None)
    with pytest.raises(ValueError, match="y_pred"):
        KendallsTau().update_state([1.0, 2.0], np.ones((2, 3)))
    with pytest.raises(ValueError, match="y_true"):
        KendallsTau().update_state(1.0, [1.0])
    with pytest.raises(ValueError, match="same batch size"):
        KendallsTau().update_state([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="sample_weight"):
        KendallsTau().update_state([1.0, 2.0], [1.0, 2.0], np.ones(3))


def test_the_cap_under_data_parallel_evaluation():
    # Two replicas (TensorFlow) each keep 4 of a cap of 8: the halves of
    # the first batch of 8; JAX's trainer stores the first 8 itself.
    true, pred, _ = scores(n=32, seed=5)
    with distribution_scope():
        inputs = keras.Input((1,))
        model = keras.Model(inputs, keras.layers.Identity()(inputs))
        model.compile(loss="mse", metrics=[KendallsTau(max_samples=8)])
        logs = model.evaluate(
            pred[:, None], true, batch_size=8, verbose=0, return_dict=True
        )
    assert logs["kendalls_tau"] == pytest.approx(
        scipy_tau(true[:8], pred[:8]), abs=1e-6
    )
