import numpy as np
import pytest
from support.backend import gradients
from support.metric_learning import encoder
from support.metric_learning import labelled_inputs

from keras_dlparts.losses import NTXentLoss
from keras_dlparts.losses import SupervisedContrastiveLoss
from keras_dlparts.testing import check_loss


def ntxent_reference(temperature):
    """SimCLR (Chen et al., 2020), Algorithm 1: views 2k and 2k+1 of the
    concatenated batch are a pair; mean of l(i, j) over all 2N anchors."""

    def reference(y_true, views):
        v = np.asarray(views, "float64")
        z = v.reshape(-1, v.shape[-1])  # rows 2k, 2k+1: example k
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        z = np.where(norms > 0, z / np.where(norms > 0, norms, 1), 0.0)
        sim = z @ z.T / temperature
        losses = []
        for i in range(len(z)):
            j = i + 1 if i % 2 == 0 else i - 1
            denominator = sum(
                np.exp(sim[i, k]) for k in range(len(z)) if k != i
            )
            losses.append(-np.log(np.exp(sim[i, j]) / denominator))
        return np.mean(losses)

    return reference


_, X = labelled_inputs(3, views=2, noise=0.5)
Y = np.zeros(8)
rng = np.random.default_rng(0)
VIEWS = rng.normal(size=(8, 2, 4)).astype("float32")
VIEWS[1, 1] = VIEWS[1, 0]  # coincident views
VIEWS[3, 0] = 0.0  # a zero vector


@pytest.mark.slow
def test_contract():
    check_loss(
        lambda: NTXentLoss(temperature=0.5),
        Y,
        VIEWS,
        reference=ntxent_reference(0.5),
        build_fn=lambda: encoder((2, 6)),
        x=X,
        y=Y,
    )


@pytest.mark.slow
def test_config_and_finite_gradients_under_xla_and_float16():
    check_loss(
        lambda: NTXentLoss(temperature=0.05),
        Y,
        VIEWS,
        only=["config", "finite_gradients"],
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("temperature", [0.1, 0.5])
@pytest.mark.slow
def test_matches_simclr_reference(seed, temperature):
    views = np.random.default_rng(seed).normal(size=(10, 2, 5))
    views = views.astype("float32")
    loss = NTXentLoss(temperature=temperature)
    value, (gradient,) = gradients(lambda v: loss(np.zeros(10), v), views)
    assert float(value) == pytest.approx(
        ntxent_reference(temperature)(None, views), rel=1e-5
    )
    assert np.all(np.isfinite(gradient))


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.slow
def test_is_supervised_contrastive_with_one_class_per_example(seed):
    views = np.random.default_rng(seed).normal(size=(6, 2, 3))
    views = views.astype("float32")
    ntxent = NTXentLoss(temperature=0.2)(np.ones(6), views)
    supcon = SupervisedContrastiveLoss(temperature=0.2)(np.arange(6), views)
    assert float(ntxent) == pytest.approx(float(supcon), rel=1e-6)


@pytest.mark.slow
def test_y_true_is_ignored():
    loss = NTXentLoss()
    assert float(loss(np.zeros(8), VIEWS)) == float(
        loss(np.arange(8)[:, None], VIEWS)
    )


def test_empty_batch_gives_zero():
    assert float(NTXentLoss()(np.zeros(0), np.zeros((0, 2, 3)))) == 0.0


def test_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="`temperature` must be a positive"):
        NTXentLoss(temperature=-1.0)
    with pytest.raises(TypeError, match="`temperature` must be"):
        NTXentLoss(temperature=None)
    with pytest.raises(ValueError, match=r"`y_pred` must have shape"):
        NTXentLoss()(Y, VIEWS[:, 0])
    with pytest.raises(ValueError, match="must have size 2 along axis 1"):
        NTXentLoss()(Y, np.ones((8, 3, 4)))
    with pytest.raises(ValueError, match="same batch size"):
        NTXentLoss()(Y[:6], VIEWS)
