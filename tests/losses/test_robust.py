import math

import numpy as np
import pytest
from support.backend import gradients

from keras_dlparts.losses import RobustLoss
from keras_dlparts.testing import check_loss

rng = np.random.default_rng(0)
Y_TRUE = rng.normal(size=(8, 3)).astype("float32")
Y_PRED = (Y_TRUE + rng.normal(scale=2.0, size=(8, 3))).astype("float32")
Y_PRED[0] = Y_TRUE[0]  # zero residuals

# Closed forms of Barron (2019), eq. 3-7, in z = x / c.
CLOSED_FORMS = {
    2.0: lambda z: 0.5 * z**2,
    1.0: lambda z: np.sqrt(z**2 + 1) - 1,
    0.0: lambda z: np.log(0.5 * z**2 + 1),
    -2.0: lambda z: 2 * z**2 / (z**2 + 4),
    -math.inf: lambda z: 1 - np.exp(-0.5 * z**2),
}


def general_form(z, alpha):
    b = abs(alpha - 2)
    return b / alpha * ((z**2 / b + 1) ** (alpha / 2) - 1)


def reference(alpha, scale, form=None):
    def value(y_true, y_pred):
        z = (np.asarray(y_pred, "float64") - y_true) / scale
        rho = form(z) if form else general_form(z, alpha)
        return np.mean(rho)

    return value


@pytest.mark.slow
def test_contract_and_reference():
    check_loss(
        lambda: RobustLoss(alpha=0.5, scale=2.0),
        Y_TRUE,
        Y_PRED,
        reference=reference(0.5, 2.0),
    )


@pytest.mark.parametrize("alpha", sorted(CLOSED_FORMS))
def test_special_cases_match_closed_forms(alpha):
    loss = RobustLoss(alpha=alpha, scale=0.7)
    expected = reference(alpha, 0.7, CLOSED_FORMS[alpha])(Y_TRUE, Y_PRED)
    assert float(loss(Y_TRUE, Y_PRED)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("alpha", [-5.0, -0.5, 0.5, 3.0])
def test_general_form_matches_reference(alpha):
    loss = RobustLoss(alpha=alpha, scale=1.3)
    expected = reference(alpha, 1.3)(Y_TRUE, Y_PRED)
    assert float(loss(Y_TRUE, Y_PRED)) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    "alpha, limit",
    [
        (1e-6, 0.0),
        (-1e-6, 0.0),
        (2 - 1e-6, 2.0),
        (2 + 1e-6, 2.0),
        (-1e8, -math.inf),
    ],
)
def test_values_near_the_limits_tend_to_them_without_nan(alpha, limit):
    value, (gradient,) = gradients(
        lambda y_pred: RobustLoss(alpha=alpha)(Y_TRUE, y_pred), Y_PRED
    )
    assert np.all(np.isfinite(gradient))
    expected = reference(limit, 1.0, CLOSED_FORMS[limit])(Y_TRUE, Y_PRED)
    assert float(value) == pytest.approx(expected, rel=1e-4)


def test_smaller_alpha_caps_the_outliers():
    outlier = np.array([[100.0]])
    values = [
        float(RobustLoss(alpha=a)(np.zeros((1, 1)), outlier))
        for a in (2, 1, 0, -2)
    ]
    assert values == sorted(values, reverse=True)
    assert values[-1] < 2.0  # Geman-McClure is bounded by 2


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"alpha": float("nan")},
            ValueError,
            "`alpha` must be a finite number",
        ),
        ({"alpha": "1"}, TypeError, "`alpha` must be a number"),
        ({"scale": 0.0}, ValueError, "`scale` must be a positive"),
        ({"scale": float("inf")}, ValueError, "`scale` must be a positive"),
        ({"scale": None}, TypeError, "`scale` must be a number"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        RobustLoss(**kwargs)


def test_shapes_are_checked_and_a_trailing_axis_of_one_is_dropped():
    loss = RobustLoss(alpha=2.0)
    with pytest.raises(
        ValueError, match="`y_true` and `y_pred` must have the same"
    ):
        loss(np.zeros((4, 2)), np.zeros((3, 2)))
    # (batch,) targets against (batch, 1) predictions: 0.5 * mean(x**2).
    assert float(loss(np.zeros(4), np.full((4, 1), 2.0))) == pytest.approx(2.0)
    assert np.all(
        np.isfinite(np.asarray(loss(np.zeros((0, 2)), np.zeros((0, 2)))))
    )


def test_infinite_alpha_is_allowed():
    assert RobustLoss(alpha=float("-inf")).alpha == float("-inf")
    assert RobustLoss(alpha=float("inf")).alpha == float("inf")
