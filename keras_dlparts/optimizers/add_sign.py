"""AddSign, the additive sign rule found by Neural Optimizer Search."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.optimizers.sign_rule import SignAgreementOptimizer


@keras.saving.register_keras_serializable(package="keras_dlparts")
class AddSign(SignAgreementOptimizer):
    """Optimizer that implements AddSign (Bello et al., 2017).

    The gradient is scaled by `alpha + 1` when its sign agrees with the sign
    of its running average and by `alpha - 1` when it disagrees:

    ```
    m = beta * m + (1 - beta) * g
    variable -= learning_rate * (alpha + f(t) * sign(g) * sign(m)) * g
    ```

    `f(t)` is 1, or the paper's linear decay `1 - min(t, decay_steps) /
    decay_steps` (with `t` the step counted from 0) when `decay_steps` is set.

    Args:
        learning_rate: A positive float, a schedule or a callable. Defaults
            to `0.1`.
        alpha: Non-negative float, the constant term. Defaults to `1.0`.
        beta: Float in [0, 1), decay of the running average of the gradient.
            Defaults to `0.9`.
        decay_steps: `None` (no internal decay) or a positive integer, the
            step at which the linear internal decay reaches 0.
        name: String, the name of the optimizer.
        **kwargs: the keyword arguments of every Keras optimizer
            (`weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
            `use_ema`, `ema_momentum`, `ema_overwrite_frequency`,
            `loss_scale_factor`, `gradient_accumulation_steps`).

    References:
        - [Bello et al., 2017, Neural Optimizer Search with Reinforcement
          Learning](https://arxiv.org/abs/1709.07417)

    Examples:

        >>> import keras
        >>> opt = AddSign(learning_rate=0.1)
        >>> w = keras.Variable([1.0, -1.0])
        >>> opt.apply([keras.ops.convert_to_tensor([0.5, -0.5])], [w])
        >>> [round(float(x), 4) for x in w.numpy()]
        [0.9, -0.9]
    """

    def __init__(
        self,
        learning_rate=0.1,
        alpha=1.0,
        beta=0.9,
        decay_steps=None,
        name="add_sign",
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            beta=beta,
            decay_steps=decay_steps,
            name=name,
            **kwargs,
        )
        self.alpha = _validation.non_negative_number("alpha", alpha)

    def scale(self, agreement, variable):
        """`alpha + agreement`."""
        return ops.cast(self.alpha, variable.dtype) + agreement

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config
