"""NovoGrad: momentum on gradients normalised by a layer-wise second moment."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.optimizers import _arguments


@keras.saving.register_keras_serializable(package="keras_dlparts")
class NovoGrad(keras.optimizers.Optimizer):
    """Optimizer that implements NovoGrad (Ginsburg et al., 2019).

    NovoGrad keeps one second moment `v` per variable (per layer weight),
    the moving average of the squared norm of its gradient, normalises the
    gradient by it, adds the weight decay, and takes a momentum step. With
    `t` the step counted from 1 and `d` the `weight_decay`:

    ```
    v = ||g||**2 if t == 1 else beta_2 * v + (1 - beta_2) * ||g||**2
    u = g / (sqrt(v) + epsilon) + d * variable
    u = (1 - beta_1) * u           if grad_averaging and t > 1
    m = beta_1 * m + u
    variable -= learning_rate * m
    ```

    With `amsgrad=True` the largest `v` seen so far normalises the gradient.
    `weight_decay` is the paper's: it enters the momentum (Algorithm 1),
    not Keras's decoupled decay; `exclude_from_weight_decay` applies to it.
    The options and defaults are TensorFlow Addons' (`tfa.optimizers.
    NovoGrad`), which keeps the learning rate inside the momentum (`m =
    beta_1 m - lr u; variable += m`): the same steps while the learning
    rate is constant.

    Args:
        learning_rate: A positive float, a schedule or a callable. Defaults
            to `0.001`.
        beta_1: Float in [0, 1), the momentum. Defaults to `0.9`.
        beta_2: Float in [0, 1), decay of the second moment. Defaults to
            `0.999`.
        epsilon: Positive float added to `sqrt(v)`. Defaults to `1e-7`.
        weight_decay: Float >= 0, the paper's weight decay `d`. Defaults to
            `0.0`.
        grad_averaging: Boolean, scale the normalised gradient by
            `1 - beta_1` (Adam-like averaging) after the first step.
            Defaults to `False`.
        amsgrad: Boolean, normalise by the running maximum of `v`.
            Defaults to `False`.
        name: String, the name of the optimizer.
        **kwargs: the other keyword arguments of every Keras optimizer
            (`clipnorm`, `clipvalue`, `global_clipnorm`, `use_ema`,
            `ema_momentum`, `ema_overwrite_frequency`, `loss_scale_factor`,
            `gradient_accumulation_steps`).

    References:
        - [Ginsburg et al., 2019, Stochastic Gradient Methods with
          Layer-wise Adaptive Moments for Training of Deep
          Networks](https://arxiv.org/abs/1905.11286)

    Examples:

        >>> import keras
        >>> opt = NovoGrad(learning_rate=0.1)
        >>> w = keras.Variable([1.0, -1.0])
        >>> # ||g|| = 5: the first step is lr * g / 5, whatever the scale of g.
        >>> opt.apply([keras.ops.convert_to_tensor([3.0, -4.0])], [w])
        >>> [round(float(x), 4) for x in w.numpy()]
        [0.94, -0.92]
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        weight_decay=0.0,
        grad_averaging=False,
        amsgrad=False,
        name="novograd",
        **kwargs,
    ):
        weight_decay = _validation.non_negative_number(
            "weight_decay", weight_decay
        )
        super().__init__(
            learning_rate=_arguments.learning_rate(learning_rate),
            name=name,
            **_arguments.keras_arguments(kwargs),
        )
        # Keras's decoupled decay stays off (`self.weight_decay` is None):
        # NovoGrad's enters the momentum, in `update_step`.
        self.moment_weight_decay = float(weight_decay)
        self.beta_1 = _validation.rate("beta_1", beta_1)
        self.beta_2 = _validation.rate("beta_2", beta_2)
        self.epsilon = _validation.positive_number("epsilon", epsilon)
        self.grad_averaging = _validation.boolean(
            "grad_averaging", grad_averaging
        )
        self.amsgrad = _validation.boolean("amsgrad", amsgrad)

    def build(self, var_list):
        """Creates the momentum and the scalar second moment(s) per variable."""
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")

        def scalars(name):
            return [
                self.add_variable(
                    shape=(),
                    initializer="zeros",
                    dtype=variable.dtype,
                    name=f"{variable.name}_{name}",
                )
                for variable in var_list
            ]

        self._velocities = scalars("velocity")
        if self.amsgrad:
            self._max_velocities = scalars("max_velocity")

    def update_step(self, gradient, variable, learning_rate):
        """Update step given gradient and the associated model variable."""
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        first = ops.equal(self.iterations, 0)

        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        norm2 = ops.sum(ops.square(gradient))
        self.assign(
            v, ops.where(first, norm2, beta_2 * v + (1 - beta_2) * norm2)
        )
        v_used = v
        if self.amsgrad:
            v_max = self._max_velocities[index]
            self.assign(v_max, ops.maximum(v_max, v))
            v_used = v_max
        update = gradient / (ops.sqrt(v_used) + ops.cast(self.epsilon, dtype))
        if self.moment_weight_decay > 0 and self._use_weight_decay(variable):
            update = (
                update + ops.cast(self.moment_weight_decay, dtype) * variable
            )
        if self.grad_averaging:
            update = ops.where(first, update, (1.0 - beta_1) * update)
        self.assign(m, beta_1 * m + update)
        self.assign_sub(variable, lr * m)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "weight_decay": self.moment_weight_decay,
                "grad_averaging": self.grad_averaging,
                "amsgrad": self.amsgrad,
            }
        )
        return config
