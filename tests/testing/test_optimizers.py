"""The optimizer contract fails broken optimizers, naming the check."""

import types

import keras
import numpy as np
import pytest
from keras import ops

from keras_dlparts.testing import ContractError
from keras_dlparts.testing import check_optimizer
from keras_dlparts.testing import optimizer_problem


def sgd_reference(lr):
    def reference(w, gradient_fn, steps):
        out = []
        for t in range(steps):
            w = w - lr * gradient_fn(w, t)
            out.append(w)
        return np.stack(out)

    return reference


class SignOfGradientSGD(keras.optimizers.SGD):
    """Wrong rule: steps by the sign of the gradient."""

    def update_step(self, gradient, variable, learning_rate):
        lr = ops.cast(learning_rate, variable.dtype)
        self.assign_sub(
            variable, lr * ops.sign(ops.cast(gradient, variable.dtype))
        )


@keras.saving.register_keras_serializable(package="contract_tests")
class ForgetfulMomentum(keras.optimizers.Optimizer):
    """Keeps its momentum in untracked variables: checkpoints lose them."""

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        # A plain namespace hides the variables from every tracker.
        self._hidden = types.SimpleNamespace(
            momentums=[
                keras.Variable(np.zeros(v.shape, "float32"), trainable=False)
                for v in var_list
            ]
        )

    def update_step(self, gradient, variable, learning_rate):
        m = self._hidden.momentums[self._get_variable_index(variable)]
        m.assign(0.9 * m + gradient)
        self.assign_sub(variable, ops.cast(learning_rate, variable.dtype) * m)


@keras.saving.register_keras_serializable(package="contract_tests")
class ForgetsSlots(keras.optimizers.SGD):
    """SGD with momentum that ignores the state Keras's weight files hand it."""

    def load_own_variables(self, store):
        pass


class HiddenArgument(keras.optimizers.SGD):
    """Takes `scale` but does not return it from get_config()."""

    def __init__(self, scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale


def test_keras_sgd_passes_the_reference():
    check_optimizer(
        lambda: keras.optimizers.SGD(0.1),
        reference=sgd_reference(0.1),
        only=["config", "reference"],
    )


def test_wrong_update_rule_fails_reference():
    with pytest.raises(ContractError, match=r"\[reference\] .*step 1 of 20"):
        check_optimizer(
            lambda: SignOfGradientSGD(0.1),
            reference=sgd_reference(0.1),
            only=["reference"],
        )


@pytest.mark.backends("tensorflow")
def test_untracked_slots_fail_checkpoint_and_keras_file():
    # TensorFlow only: JAX's compiled training step threads the tracked
    # state alone, so there the untracked momentum never accumulates.
    with pytest.raises(ContractError) as info:
        check_optimizer(
            lambda: ForgetfulMomentum(learning_rate=0.01),
            only=["checkpoint", "keras_file"],
        )
    assert set(info.value.failures) == {"checkpoint", "keras_file"}
    assert "training on from the restored checkpoint" in str(info.value)


@pytest.mark.slow
def test_slots_not_loaded_fail_keras_file_and_the_jax_checkpoint():
    with pytest.raises(ContractError) as info:
        check_optimizer(
            lambda: ForgetsSlots(learning_rate=0.01, momentum=0.9),
            only=["checkpoint", "keras_file", "fit"],
        )
    # The `.keras` file and, on JAX, the checkpoint (a `.weights.h5` file)
    # load through `load_own_variables`; `tf.train.Checkpoint` does not.
    expected = {"keras_file"}
    if keras.backend.backend() == "jax":
        expected.add("checkpoint")
    assert set(info.value.failures) == expected
    assert "optimizer variables" in info.value.failures["keras_file"]


def test_missing_config_argument_fails_config():
    with pytest.raises(ContractError, match=r"\[config\] .*lacks .*'scale'"):
        check_optimizer(lambda: HiddenArgument(scale=2.0), only=["config"])


def test_problem_is_fixed():
    w0, gradient_fn = optimizer_problem()
    w1, gradient_fn_again = optimizer_problem()
    np.testing.assert_array_equal(w0, w1)
    np.testing.assert_array_equal(gradient_fn(w0, 3), gradient_fn_again(w0, 3))
    assert w0.shape == (17,)


def test_unknown_check_name():
    with pytest.raises(ValueError, match="Unknown contract check"):
        check_optimizer(lambda: keras.optimizers.SGD(), only=["fitt"])
