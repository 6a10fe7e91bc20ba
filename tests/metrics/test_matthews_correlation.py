import keras
import numpy as np
import pytest
from sklearn.metrics import matthews_corrcoef
from support.metric_in_model import check_in_model
from support.metric_in_model import two_raters

from keras_dlparts.metrics import MatthewsCorrelationCoefficient


def gorodkin_rk(true, pred, classes, weights=None):
    """R_K written from Gorodkin (2004): covariances of one-hot labels."""
    weights = np.ones(len(true)) if weights is None else weights
    x, y = np.eye(classes)[true], np.eye(classes)[pred]
    mean_x = np.average(x, axis=0, weights=weights)
    mean_y = np.average(y, axis=0, weights=weights)

    def cov(a, mean_a, b, mean_b):
        return np.sum(weights[:, None] * (a - mean_a) * (b - mean_b))

    return cov(x, mean_x, y, mean_y) / np.sqrt(
        cov(x, mean_x, x, mean_x) * cov(y, mean_y, y, mean_y)
    )


@pytest.mark.parametrize("classes", [2, 5])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_sklearn_and_gorodkin_over_batches(classes, weighted):
    true, pred, weights = two_raters(n=50, classes=classes, seed=classes)
    weights = weights if weighted else None
    mcc = MatthewsCorrelationCoefficient(classes, sparse_labels=True)
    for start in range(0, len(true), 16):
        mcc.update_state(
            true[start : start + 16],
            np.eye(classes)[pred[start : start + 16]],
            None if weights is None else weights[start : start + 16],
        )
    expected = matthews_corrcoef(true, pred, sample_weight=weights)
    assert 0.2 < expected < 0.95
    assert expected == pytest.approx(gorodkin_rk(true, pred, classes, weights))
    assert float(mcc.result()) == pytest.approx(expected, abs=1e-6)
    mcc.reset_state()
    assert float(mcc.result()) == 0.0


def test_one_hot_labels_probabilities_and_undefined_cases():
    true, pred, _ = two_raters(n=20, classes=3, seed=7)
    one_hot = MatthewsCorrelationCoefficient(3)
    one_hot.update_state(np.eye(3)[true], np.eye(3)[pred] + 0.1)
    assert float(one_hot.result()) == pytest.approx(
        matthews_corrcoef(true, pred), abs=1e-6
    )
    # Two classes, probabilities (batch, 1): thresholded at 0.5.
    binary = MatthewsCorrelationCoefficient(2, sparse_labels=True)
    binary.update_state([[0], [1], [1], [0]], [[0.3], [0.8], [0.2], [0.6]])
    assert float(binary.result()) == pytest.approx(
        matthews_corrcoef([0, 1, 1, 0], [0, 1, 0, 1]), abs=1e-6
    )
    # Undefined (one predicted class): 0, as scikit-learn; perfect: 1.
    constant = MatthewsCorrelationCoefficient(3, sparse_labels=True)
    assert float(constant.result()) == 0.0
    constant.update_state([0, 1, 2], [1, 1, 1])
    assert float(constant.result()) == 0.0
    perfect = MatthewsCorrelationCoefficient(3, sparse_labels=True)
    perfect.update_state([0, 1, 2, 2], [0, 1, 2, 2])
    perfect.update_state(np.zeros((0,), "int32"), np.zeros((0,), "int32"))
    assert float(perfect.result()) == pytest.approx(1.0)


@pytest.mark.slow
def test_in_compiled_model_jit_distributed_and_saved(tmp_path):
    true, pred, weights = two_raters(n=32, classes=4, seed=8)
    check_in_model(
        lambda: MatthewsCorrelationCoefficient(4, sparse_labels=True),
        np.eye(4)[pred],
        true,
        matthews_corrcoef(true, pred, sample_weight=weights),
        sample_weight=weights,
        tmp_path=tmp_path,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def test_config_and_errors():
    mcc = MatthewsCorrelationCoefficient(4, sparse_labels=True, name="m")
    clone = MatthewsCorrelationCoefficient.from_config(mcc.get_config())
    assert clone.get_config() == mcc.get_config()
    restored = keras.metrics.deserialize(keras.metrics.serialize(mcc))
    assert (restored.num_classes, restored.sparse_labels) == (4, True)
    with pytest.raises(ValueError, match="num_classes"):
        MatthewsCorrelationCoefficient(1)
    with pytest.raises(TypeError, match="num_classes"):
        MatthewsCorrelationCoefficient("3")
    with pytest.raises(TypeError, match="sparse_labels"):
        MatthewsCorrelationCoefficient(3, sparse_labels=1)
    with pytest.raises(ValueError, match="y_true"):
        MatthewsCorrelationCoefficient(3).update_state(
            np.ones((2, 4)), np.ones((2, 3))
        )
    with pytest.raises(ValueError, match="y_pred"):
        MatthewsCorrelationCoefficient(3, sparse_labels=True).update_state(
            [0, 1], np.ones((2, 3, 1))
        )
    with pytest.raises(ValueError, match="same batch size"):
        MatthewsCorrelationCoefficient(3).update_state(np.eye(3), np.eye(3)[:2])
