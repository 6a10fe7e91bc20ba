import keras
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from support.metric_in_model import check_in_model
from support.metric_in_model import two_raters

from keras_dlparts.metrics import CohenKappa


def sklearn_kappa(first, second, weightage=None, sample_weight=None):
    return cohen_kappa_score(
        first,
        second,
        weights=weightage,
        sample_weight=sample_weight,
        replace_undefined_by=0.0,
    )


@pytest.mark.parametrize("weightage", [None, "linear", "quadratic"])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_sklearn_over_batches(weightage, weighted):
    first, second, weights = two_raters(seed=3)
    weights = weights if weighted else None
    kappa = CohenKappa(5, weightage, sparse_labels=True)
    for start in range(0, len(first), 16):
        kappa.update_state(
            first[start : start + 16],
            second[start : start + 16],
            None if weights is None else weights[start : start + 16],
        )
    expected = sklearn_kappa(first, second, weightage, weights)
    assert 0.2 < expected < 0.9
    assert float(kappa.result()) == pytest.approx(expected, abs=1e-6)
    kappa.reset_state()
    assert float(kappa.result()) == 0.0


@pytest.mark.slow
def test_one_hot_labels_scores_and_rounded_values():
    first, second, _ = two_raters(n=24, classes=4, seed=1)
    expected = sklearn_kappa(first, second, "quadratic")
    one_hot = np.eye(4)[first]
    scores = np.eye(4)[second] * 0.7 + 0.1
    by_scores = CohenKappa(4, "quadratic")
    by_scores.update_state(one_hot, scores)
    # Regression outputs (batch, 1): rounded, then clipped into [0, 3].
    values = second[:, None] + np.where(second[:, None] == 3, 0.8, -0.3)
    by_values = CohenKappa(4, "quadratic", sparse_labels=True)
    by_values.update_state(first[:, None], values)
    assert float(by_scores.result()) == pytest.approx(expected, abs=1e-6)
    assert float(by_values.result()) == pytest.approx(expected, abs=1e-6)
    # Two classes: probabilities are thresholded at 0.5.
    binary = CohenKappa(2, sparse_labels=True)
    binary.update_state([0, 1, 1, 0, 1], [0.2, 0.9, 0.4, 0.1, 0.6])
    assert float(binary.result()) == pytest.approx(
        sklearn_kappa([0, 1, 1, 0, 1], [0, 1, 0, 0, 1]), abs=1e-6
    )


def test_undefined_kappa_is_zero_and_empty_batch_adds_nothing():
    kappa = CohenKappa(3, sparse_labels=True)
    assert float(kappa.result()) == 0.0
    kappa.update_state([1, 1, 1], [1, 1, 1])  # one class only: undefined
    assert float(kappa.result()) == 0.0
    kappa.update_state([0, 2], [0, 1])
    before = float(kappa.result())
    kappa.update_state(np.zeros((0,), "int32"), np.zeros((0,), "int32"))
    assert float(kappa.result()) == before
    assert before == pytest.approx(
        sklearn_kappa([1, 1, 1, 0, 2], [1, 1, 1, 0, 1]), abs=1e-6
    )


@pytest.mark.slow
def test_in_compiled_model_jit_distributed_and_saved(tmp_path):
    first, second, weights = two_raters(n=32, classes=3, seed=4)
    expected = sklearn_kappa(first, second, "linear", weights)
    check_in_model(
        lambda: CohenKappa(3, "linear", sparse_labels=True),
        np.eye(3)[second],
        first,
        expected,
        sample_weight=weights,
        tmp_path=tmp_path,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )


def test_config_and_errors():
    kappa = CohenKappa(4, "linear", sparse_labels=True, name="k")
    clone = CohenKappa.from_config(kappa.get_config())
    assert clone.get_config() == kappa.get_config()
    assert keras.metrics.deserialize(
        keras.metrics.serialize(kappa)
    ).weightage == ("linear")
    with pytest.raises(ValueError, match="num_classes"):
        CohenKappa(1)
    with pytest.raises(TypeError, match="num_classes"):
        CohenKappa(2.5)
    with pytest.raises(ValueError, match="weightage"):
        CohenKappa(3, "cubic")
    with pytest.raises(TypeError, match="sparse_labels"):
        CohenKappa(3, sparse_labels="yes")
    with pytest.raises(ValueError, match="y_true.*sparse_labels=True"):
        CohenKappa(3).update_state([0, 1], [0, 1])
    with pytest.raises(ValueError, match="y_pred"):
        CohenKappa(3, sparse_labels=True).update_state([0, 1], np.ones((2, 4)))
    with pytest.raises(ValueError, match="same batch size"):
        CohenKappa(3, sparse_labels=True).update_state([0, 1, 2], [0, 1])
    with pytest.raises(ValueError, match="y_true.*\\[0, 3\\)"):
        CohenKappa(3, sparse_labels=True).update_state([0, 3], [0, 1])
    with pytest.raises(ValueError, match="sample_weight"):
        CohenKappa(3, sparse_labels=True).update_state(
            [0, 1], [0, 1], sample_weight=np.ones((2, 2))
        )
