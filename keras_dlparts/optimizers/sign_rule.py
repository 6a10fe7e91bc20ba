"""The shared core of the Neural Optimizer Search sign rules.

`PowerSign` and `AddSign` (Bello et al., 2017) both keep a running average
`m` of the gradient and scale the gradient by how far its sign agrees with
the sign of `m`. Only the scaling differs, so both subclass
`SignAgreementOptimizer` and implement `scale(agreement, variable)`.
"""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.optimizers import _arguments


class SignAgreementOptimizer(keras.optimizers.Optimizer):
    """Base class of the sign-agreement update rules of Neural Optimizer Search.

    For a gradient `g` and step `t` (counted from 0):

    ```
    m = beta * m + (1 - beta) * g
    agreement = f(t) * sign(g) * sign(m)
    variable -= learning_rate * scale(agreement) * g
    ```

    with the internal decay `f(t) = 1` (`decay_steps=None`) or the linear
    decay `f(t) = 1 - min(t, decay_steps) / decay_steps` of the paper. The
    moving average is updated *before* it is compared with `g`, as in the
    paper and in TensorFlow 1's `PowerSignOptimizer`/`AddSignOptimizer`.

    Subclasses implement `scale(agreement, variable)`.
    """

    def __init__(self, learning_rate, beta, decay_steps, name, **kwargs):
        super().__init__(
            learning_rate=_arguments.learning_rate(learning_rate),
            name=name,
            **_arguments.keras_arguments(kwargs),
        )
        self.beta = _validation.rate("beta", beta)
        self.decay_steps = (
            None
            if decay_steps is None
            else _validation.positive_int("decay_steps", decay_steps)
        )

    def build(self, var_list):
        """Creates one moving average of the gradient per variable."""
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

    def sign_decay(self, dtype):
        """The internal decay `f(t)` at the current step, a `dtype` scalar."""
        if self.decay_steps is None:
            return ops.ones((), dtype=dtype)
        step = ops.minimum(
            ops.cast(self.iterations, dtype), float(self.decay_steps)
        )
        return 1.0 - step / float(self.decay_steps)

    def scale(self, agreement, variable):
        """Returns the factor that multiplies the gradient."""
        raise NotImplementedError

    def update_step(self, gradient, variable, learning_rate):
        """Update step given gradient and the associated model variable."""
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        beta = ops.cast(self.beta, dtype)
        m = self._momentums[self._get_variable_index(variable)]
        self.assign(m, ops.add(ops.multiply(m, beta), gradient * (1.0 - beta)))
        agreement = self.sign_decay(dtype) * ops.sign(gradient) * ops.sign(m)
        self.assign_sub(
            variable,
            lr * ops.multiply(self.scale(agreement, variable), gradient),
        )

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.beta, "decay_steps": self.decay_steps})
        return config
