import numpy as np
import pytest

from keras_dlparts.losses import ContrastiveLoss
from keras_dlparts.testing import check_loss


def contrastive_reference(margin):
    """TFA's convention: y = 1 similar, loss = y d^2 + (1 - y) relu(m - d)^2."""

    def reference(y_true, y_pred):
        y, d = np.ravel(y_true).astype("float64"), np.ravel(y_pred)
        return np.mean(y * d**2 + (1 - y) * np.maximum(margin - d, 0) ** 2)

    return reference


def hadsell_loss(y_paper, d, margin):
    """The paper's form: Y = 0 similar, both terms halved."""
    return np.mean(
        (1 - y_paper) * 0.5 * d**2
        + y_paper * 0.5 * np.maximum(margin - d, 0) ** 2
    )


rng = np.random.default_rng(0)
LABELS = rng.integers(0, 2, size=(8, 1))
DISTANCES = np.abs(rng.normal(size=(8, 1))).astype("float32")
DISTANCES[0] = 0.0  # a pair at distance zero, gradient must stay finite


@pytest.mark.slow
def test_contract_and_reference():
    check_loss(
        lambda: ContrastiveLoss(margin=1.5),
        LABELS,
        DISTANCES,
        reference=contrastive_reference(1.5),
    )


def test_shapes_batch_and_batch_by_one_agree():
    loss = ContrastiveLoss(margin=2.0)
    flat = float(loss(LABELS.ravel(), DISTANCES.ravel()))
    column = float(loss(LABELS, DISTANCES))
    assert flat == pytest.approx(column)
    assert flat == pytest.approx(contrastive_reference(2.0)(LABELS, DISTANCES))


def test_is_twice_the_paper_loss_with_flipped_labels():
    ours = float(ContrastiveLoss(margin=1.0)(LABELS, DISTANCES))
    paper = hadsell_loss(1 - LABELS.ravel(), DISTANCES.ravel(), 1.0)
    assert ours == pytest.approx(2 * paper, rel=1e-6)


def test_dissimilar_pairs_beyond_margin_cost_nothing():
    loss = ContrastiveLoss(margin=1.0)
    assert float(loss([0, 0], [1.0, 3.0])) == 0.0
    assert float(loss([1], [3.0])) == pytest.approx(9.0)


def test_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="`margin` must be a positive"):
        ContrastiveLoss(margin=0.0)
    with pytest.raises(
        ValueError, match=r"`y_pred` must have shape \(batch,\)"
    ):
        ContrastiveLoss()(np.ones((4, 1)), np.ones((4, 3)))


def test_labels_other_than_zero_and_one_are_refused():
    # The issue: ContrastiveLoss()([5., 5.], [0.1, 0.2]) returned -2.775.
    with pytest.raises(
        ValueError, match=r"`y_true` must hold labels 0 or 1.*5\.0"
    ):
        ContrastiveLoss()([5.0, 5.0], [0.1, 0.2])
    with pytest.raises(ValueError, match="`y_true`"):
        ContrastiveLoss()(np.array([[0.5], [1.0]]), np.ones((2, 1)))


def test_labels_are_not_read_inside_compiled_functions():
    # Traced labels have no value: the check is skipped, the graph builds.
    from support.backend import jit

    fn = jit(lambda y, d: ContrastiveLoss()(y, d))
    assert float(fn(np.array([1.0, 0.0]), np.array([0.5, 0.25]))) == 0.40625


def test_mismatched_batches_and_empty_batch():
    with pytest.raises(
        ValueError, match="`y_true` and `y_pred` must have the same"
    ):
        ContrastiveLoss()(np.ones(3), np.ones(4))
    empty = ContrastiveLoss()(np.zeros((0,)), np.zeros((0,)))
    assert np.all(np.isfinite(np.asarray(empty)))


def test_margin_must_be_finite_number():
    for bad in (float("nan"), float("inf"), -1.0):
        with pytest.raises(ValueError, match="`margin`"):
            ContrastiveLoss(margin=bad)
    with pytest.raises(TypeError, match="`margin`"):
        ContrastiveLoss(margin="1")
