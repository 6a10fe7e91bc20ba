"""Yogi: Adam whose second moment grows or shrinks additively."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.optimizers import _arguments


@keras.saving.register_keras_serializable(package="keras_dlparts")
class Yogi(keras.optimizers.Optimizer):
    """Optimizer that implements Yogi (Zaheer et al., 2018).

    Adam's second moment `v` forgets large past gradients geometrically,
    which can make its effective learning rate grow abruptly. Yogi moves
    `v` towards `g**2` by an additive step of size `(1 - beta_2) g**2`
    instead (Algorithm 2 of the paper), with Adam's bias-corrected
    learning rate as in TensorFlow Addons. With `t` the step counted from 1:

    ```
    m = beta_1 * m + (1 - beta_1) * g
    v = v + (1 - beta_2) * s(g**2 - v) * g**2   # s = sign or tanh(10 x)
    lr_t = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)
    w = variable - lr_t * m / (sqrt(v) + epsilon)
    a = lr_t / (sqrt(v) + epsilon)
    variable = sign(w) * max(|w| - l1 * a, 0) / (1 + l2 * a)
    ```

    The last line is the proximal step of TensorFlow Addons' optional L1
    and L2 regularization (the identity when both are 0, the default). `v`
    starts at `initial_accumulator_value`, `m` at 0. The defaults are
    TensorFlow Addons' (`tfa.optimizers.Yogi`, whose `beta1`/`beta2` are
    `beta_1`/`beta_2` here).

    Args:
        learning_rate: A positive float, a schedule or a callable. Defaults
            to `0.01`.
        beta_1: Float in [0, 1), decay of the first moment. Defaults to `0.9`.
        beta_2: Float in [0, 1), rate of the second moment. Defaults to
            `0.999`.
        epsilon: Positive float added to `sqrt(v)`; the paper's constant
            that trades adaptivity for noise. Defaults to `1e-3`.
        l1_regularization_strength: Float >= 0. Defaults to `0.0`.
        l2_regularization_strength: Float >= 0. Defaults to `0.0`.
        initial_accumulator_value: Positive float, the starting `v`.
            Defaults to `1e-6`.
        activation: `"sign"` (the paper) or `"tanh"` (a smooth sign,
            `tanh(10 x)`). Defaults to `"sign"`.
        name: String, the name of the optimizer.
        **kwargs: the keyword arguments of every Keras optimizer
            (`weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
            `use_ema`, `ema_momentum`, `ema_overwrite_frequency`,
            `loss_scale_factor`, `gradient_accumulation_steps`).

    References:
        - [Zaheer et al., 2018, Adaptive Methods for Nonconvex
          Optimization](https://papers.nips.cc/paper/8186-adaptive-methods-for-nonconvex-optimization)

    Examples:

        >>> import keras
        >>> opt = Yogi(learning_rate=0.1, epsilon=1e-3)
        >>> w = keras.Variable([1.0, -1.0])
        >>> opt.apply([keras.ops.convert_to_tensor([0.5, -0.5])], [w])
        >>> [round(float(x), 3) for x in w.numpy()]
        [0.906, -0.906]
    """

    def __init__(
        self,
        learning_rate=0.01,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-3,
        l1_regularization_strength=0.0,
        l2_regularization_strength=0.0,
        initial_accumulator_value=1e-6,
        activation="sign",
        name="yogi",
        **kwargs,
    ):
        super().__init__(
            learning_rate=_arguments.learning_rate(learning_rate),
            name=name,
            **_arguments.keras_arguments(kwargs),
        )
        self.beta_1 = _validation.rate("beta_1", beta_1)
        self.beta_2 = _validation.rate("beta_2", beta_2)
        self.epsilon = _validation.positive_number("epsilon", epsilon)
        self.l1_regularization_strength = _validation.non_negative_number(
            "l1_regularization_strength", l1_regularization_strength
        )
        self.l2_regularization_strength = _validation.non_negative_number(
            "l2_regularization_strength", l2_regularization_strength
        )
        self.initial_accumulator_value = _validation.positive_number(
            "initial_accumulator_value", initial_accumulator_value
        )
        self.activation = _validation.one_of(
            "activation", activation, ("sign", "tanh")
        )

    def build(self, var_list):
        """Creates the first and second moments of every variable."""
        if self.built:
            return
        super().build(var_list)
        self._momentums = self.add_optimizer_variables(var_list, "momentum")
        self._velocities = [
            self.add_variable_from_reference(
                variable,
                name="velocity",
                initializer=keras.initializers.Constant(
                    self.initial_accumulator_value
                ),
            )
            for variable in var_list
        ]

    def update_step(self, gradient, variable, learning_rate):
        """Update step given gradient and the associated model variable."""
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        lr_t = (
            lr
            * ops.sqrt(1.0 - ops.power(beta_2, step))
            / (1.0 - ops.power(beta_1, step))
        )

        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        self.assign_add(m, (gradient - m) * (1.0 - beta_1))
        g2 = ops.square(gradient)
        if self.activation == "sign":
            direction = ops.sign(g2 - v)
        else:
            direction = ops.tanh(10.0 * (g2 - v))
        self.assign_add(v, (1.0 - beta_2) * direction * g2)

        per_coordinate_lr = lr_t / (ops.sqrt(v) + ops.cast(self.epsilon, dtype))
        new = variable - per_coordinate_lr * m
        if self.l1_regularization_strength > 0:
            l1 = ops.cast(self.l1_regularization_strength, dtype)
            new = ops.sign(new) * ops.maximum(
                ops.abs(new) - l1 * per_coordinate_lr, 0.0
            )
        if self.l2_regularization_strength > 0:
            l2 = ops.cast(self.l2_regularization_strength, dtype)
            new = new / (1.0 + l2 * per_coordinate_lr)
        self.assign(variable, new)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "initial_accumulator_value": self.initial_accumulator_value,
                "activation": self.activation,
            }
        )
        return config
