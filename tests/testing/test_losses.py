"""The loss contract fails broken losses, naming the check."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_dlparts.losses import RobustLoss
from keras_dlparts.testing import ContractError
from keras_dlparts.testing import check_loss

Y_TRUE = np.zeros((4, 2), "float32")
Y_PRED = np.array([[0, 0], [1, 2], [3, 1], [0, 1]], "float32")


def mse(y_true, y_pred):
    return np.mean((y_pred - y_true) ** 2)


class NaiveEuclidean(keras.losses.Loss):
    """sqrt(sum(r^2)): its gradient is NaN where the residual is zero."""

    def call(self, y_true, y_pred):
        return ops.sqrt(ops.sum(ops.square(y_pred - y_true), axis=-1))


class ScaledMSE(keras.losses.Loss):
    """Takes `factor` but leaves it out of get_config()."""

    def __init__(
        self, factor=1.0, name="scaled_mse", reduction="sum_over_batch_size"
    ):
        super().__init__(name=name, reduction=reduction)
        self.factor = factor

    def call(self, y_true, y_pred):
        return self.factor * ops.mean(ops.square(y_pred - y_true), axis=-1)


class UnregisteredMSE(keras.losses.Loss):
    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true), axis=-1)


def test_half_squared_error_passes():
    check_loss(
        lambda: RobustLoss(alpha=2.0),
        Y_TRUE,
        Y_PRED,
        reference=lambda t, p: mse(t, p) / 2,
        only=["config", "reference", "finite_gradients"],
    )


def test_keras_losses_leave_dtype_out_of_their_config():
    # Keras's own losses take `dtype` but do not return it: the contract
    # says so rather than letting a lost argument pass.
    with pytest.raises(ContractError, match=r"\[config\] .*lacks .*'dtype'"):
        check_loss(
            keras.losses.MeanSquaredError, Y_TRUE, Y_PRED, only=["config"]
        )


def test_wrong_value_fails_reference():
    with pytest.raises(
        ContractError, match=r"\[reference\] .*max abs difference"
    ):
        check_loss(
            keras.losses.MeanAbsoluteError,
            Y_TRUE,
            Y_PRED,
            reference=mse,
            only=["reference"],
        )


def test_nan_gradient_fails_finite_gradients():
    with pytest.raises(
        ContractError, match=r"\[finite_gradients\] .*non-finite gradient"
    ):
        check_loss(NaiveEuclidean, Y_TRUE, Y_PRED, only=["finite_gradients"])


def test_missing_config_argument_fails_config():
    with pytest.raises(ContractError, match=r"\[config\] .*lacks .*'factor'"):
        check_loss(lambda: ScaledMSE(2.0), Y_TRUE, Y_PRED, only=["config"])


def test_unregistered_loss_fails_keras_file():
    with pytest.raises(ContractError, match=r"\[keras_file\]"):
        check_loss(UnregisteredMSE, Y_TRUE, Y_PRED, only=["keras_file"])
