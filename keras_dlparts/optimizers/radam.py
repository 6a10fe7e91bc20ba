"""RAdam: Adam with a rectified, variance-aware adaptive learning rate."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.optimizers import _arguments


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RAdam(keras.optimizers.Optimizer):
    """Optimizer that implements Rectified Adam (Liu et al., 2019).

    Adam's adaptive learning rate has a large variance in the first steps.
    RAdam estimates the length `rho_t` of the simple moving average that
    approximates Adam's exponential one and, while it is too short for the
    variance to be tractable, takes plain momentum steps; afterwards it
    rescales Adam's step by the rectification term `r_t`. With `t` the step
    counted from 1:

    ```
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g**2
    m_hat = m / (1 - beta_1**t)
    rho_inf = 2 / (1 - beta_2) - 1
    rho_t = rho_inf - 2 * t * beta_2**t / (1 - beta_2**t)
    if rho_t > sma_threshold:
        v_hat = sqrt(v / (1 - beta_2**t))
        r_t = sqrt((rho_t - 4) (rho_t - 2) rho_inf
                   / ((rho_inf - 4) (rho_inf - 2) rho_t))
        variable -= learning_rate * r_t * m_hat / (v_hat + epsilon)
    else:
        variable -= learning_rate * m_hat
    ```

    The paper's Algorithm 2 has no `epsilon` and rectifies when
    `rho_t > 4` (the default `sma_threshold`); the authors' code and
    TensorFlow Addons add `epsilon` to `v_hat` as here, and rectify from
    `rho_t > 5`: pass `sma_threshold=5.0` to reproduce them.

    TensorFlow Addons' warmup is available too: with `total_steps > 0` the
    learning rate `lr` (a number or the schedule's value) rises linearly
    over the first `w = warmup_proportion * total_steps` steps, then falls
    linearly to `min_lr` at `total_steps` and stays there:

    ```
    lr_t = lr * t / w                                  if t <= w
    lr_t = lr + (min_lr - lr) * min(t - w, d) / d      otherwise,
                                            d = max(total_steps - w, 1)
    ```

    Args:
        learning_rate: A positive float, a schedule or a callable. Defaults
            to `0.001`.
        beta_1: Float in [0, 1), decay of the first moment. Defaults to `0.9`.
        beta_2: Float in [0, 1), decay of the second moment. Defaults to
            `0.999`.
        epsilon: Small positive float added to `v_hat`. Defaults to `1e-7`.
        sma_threshold: Float >= 4, the length of the moving average from
            which the adaptive step is used. Defaults to `4.0`.
        total_steps: Integer >= 0; a positive value turns on the warmup and
            decay of the learning rate above. Defaults to `0` (off).
        warmup_proportion: Float in [0, 1], the fraction of `total_steps`
            spent warming up. Defaults to `0.1`.
        min_lr: Float >= 0, the learning rate after `total_steps`.
            Defaults to `0.0`.
        name: String, the name of the optimizer.
        **kwargs: the keyword arguments of every Keras optimizer
            (`weight_decay`, `clipnorm`, `clipvalue`, `global_clipnorm`,
            `use_ema`, `ema_momentum`, `ema_overwrite_frequency`,
            `loss_scale_factor`, `gradient_accumulation_steps`).

    References:
        - [Liu et al., 2019, On the Variance of the Adaptive Learning Rate
          and Beyond](https://arxiv.org/abs/1908.03265)

    Examples:

        >>> import keras
        >>> opt = RAdam(learning_rate=0.1)
        >>> w = keras.Variable([1.0, -1.0])
        >>> opt.apply([keras.ops.convert_to_tensor([0.5, -0.5])], [w])
        >>> [round(float(x), 4) for x in w.numpy()]
        [0.95, -0.95]
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-7,
        sma_threshold=4.0,
        total_steps=0,
        warmup_proportion=0.1,
        min_lr=0.0,
        name="radam",
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
        # The rectification term is undefined below 4.
        self.sma_threshold = _validation.number(
            "sma_threshold", sma_threshold, low=4
        )
        self.total_steps = _validation.positive_int(
            "total_steps", total_steps, minimum=0
        )
        self.warmup_proportion = _validation.fraction(
            "warmup_proportion", warmup_proportion
        )
        self.min_lr = _validation.non_negative_number("min_lr", min_lr)

    def build(self, var_list):
        """Creates the first and second moments of every variable."""
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )

    def update_step(self, gradient, variable, learning_rate):
        """Update step given gradient and the associated model variable."""
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        beta_1_power = ops.power(beta_1, step)
        beta_2_power = ops.power(beta_2, step)
        if self.total_steps > 0:
            lr = self._warmup_and_decay(lr, step)

        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        self.assign_add(m, (gradient - m) * (1.0 - beta_1))
        self.assign_add(v, (ops.square(gradient) - v) * (1.0 - beta_2))
        m_hat = m / (1.0 - beta_1_power)

        rho_inf = 2.0 / (1.0 - beta_2) - 1.0
        rho_t = rho_inf - 2.0 * step * beta_2_power / (1.0 - beta_2_power)
        tractable = ops.greater(rho_t, ops.cast(self.sma_threshold, dtype))
        # Clamp inside the square roots so the unused branch stays finite.
        safe_rho_t = ops.maximum(rho_t, 4.0)
        r_t = ops.sqrt(
            (safe_rho_t - 4.0)
            * (safe_rho_t - 2.0)
            * rho_inf
            / ((rho_inf - 4.0) * (rho_inf - 2.0) * safe_rho_t)
        )
        v_hat = ops.sqrt(v / (1.0 - beta_2_power))
        adaptive = r_t * m_hat / (v_hat + ops.cast(self.epsilon, dtype))
        self.assign_sub(variable, lr * ops.where(tractable, adaptive, m_hat))

    def _warmup_and_decay(self, lr, step):
        warmup = self.total_steps * self.warmup_proportion
        decay_steps = max(self.total_steps - warmup, 1.0)
        # `max(warmup, 1)` keeps the unused branch finite without warmup.
        warming = lr * step / max(warmup, 1.0)
        decaying = lr + (self.min_lr - lr) * (
            ops.minimum(step - warmup, decay_steps) / decay_steps
        )
        return ops.where(ops.less_equal(step, warmup), warming, decaying)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "sma_threshold": self.sma_threshold,
                "total_steps": self.total_steps,
                "warmup_proportion": self.warmup_proportion,
                "min_lr": self.min_lr,
            }
        )
        return config
