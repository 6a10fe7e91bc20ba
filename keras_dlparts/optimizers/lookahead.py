"""Lookahead: k fast steps forward, one step back towards slow weights."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.optimizers import _wrapping

# Arguments of every Keras optimizer that Lookahead takes from its inner
# optimizer (the gradient clipping and weight decay run before the inner
# update rule) or cannot honour (they change the step counting).
_TAKEN_FROM_INNER = ("weight_decay", "clipnorm", "clipvalue", "global_clipnorm")
_UNSUPPORTED_ON_INNER = {
    "use_ema": False,
    "gradient_accumulation_steps": None,
}


def _check_inner_optimizer(inner_optimizer):
    _validation.keras_object(
        "inner_optimizer", inner_optimizer, keras.optimizers.Optimizer
    )
    if isinstance(
        inner_optimizer, (Lookahead, keras.optimizers.LossScaleOptimizer)
    ):
        # Both drive their own inner optimizer from `apply`, which
        # Lookahead bypasses (it calls the inner `update_step`).
        raise TypeError(
            "Argument `inner_optimizer` must be a plain optimizer, not a "
            f"{type(inner_optimizer).__name__} (for mixed precision, "
            "wrap Lookahead in the LossScaleOptimizer instead, as "
            "`compile` does). Received: "
            f"inner_optimizer={inner_optimizer!r}"
        )
    for arg, default in _UNSUPPORTED_ON_INNER.items():
        value = getattr(inner_optimizer, arg)
        if value != default:
            raise ValueError(
                f"Argument `inner_optimizer` must have `{arg}`={default!r}: "
                f"Lookahead does not support `{arg}` on its inner optimizer. "
                f"Received: inner_optimizer.{arg}={value!r}"
            )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class Lookahead(_wrapping.InnerOptimizerWrapper):
    """Wraps an optimizer with Lookahead (Zhang et al., 2019).

    The inner optimizer updates the ("fast") model weights `theta` as usual.
    Lookahead keeps a copy `phi` of them, the slow weights, and every
    `sync_period` steps moves the slow weights part of the way towards the
    fast ones and restarts the fast weights from there:

    ```
    phi = theta                                   # at step 0
    theta = inner_update(theta, g)                # every step
    every sync_period steps:
        phi = phi + slow_step_size * (theta - phi)
        theta = phi
    ```

    The inner optimizer's learning rate (and schedule), gradient clipping
    and weight decay apply; its `use_ema` and
    `gradient_accumulation_steps` are not supported (they would change
    what a step is). `.keras` and `.weights.h5` files keep every variable
    once: Lookahead's step counter and slow weights under the optimizer,
    the inner optimizer's slots and step counter under its child
    `inner_optimizer`.

    Args:
        inner_optimizer: a `keras.optimizers.Optimizer` instance (or its
            serialized form) that computes the fast updates.
        sync_period: positive integer `k`, the number of fast steps between
            synchronisations. Defaults to `6`.
        slow_step_size: float `alpha` in (0, 1], the fraction of the way the
            slow weights move towards the fast ones. Defaults to `0.5`.
        name: String, the name of the optimizer.

    References:
        - [Zhang et al., 2019, Lookahead Optimizer: k steps forward, 1 step
          back](https://arxiv.org/abs/1907.08610)

    Examples:

        >>> import keras
        >>> opt = Lookahead(keras.optimizers.SGD(0.1), sync_period=2)
        >>> w = keras.Variable([1.0])
        >>> for _ in range(2):
        ...     opt.apply([keras.ops.convert_to_tensor([1.0])], [w])
        >>> round(float(w.numpy()[0]), 4)  # SGD: 0.8; Lookahead halves the way
        0.9
    """

    # Files written before the inner variables were stored once hold them
    # in Lookahead's store too, after its own: they load.
    _loads_stores_with_inner_variables = True

    def __init__(
        self,
        inner_optimizer,
        sync_period=6,
        slow_step_size=0.5,
        name="lookahead",
        **kwargs,
    ):
        if isinstance(inner_optimizer, dict):
            inner_optimizer = keras.optimizers.deserialize(inner_optimizer)
        _check_inner_optimizer(inner_optimizer)
        _wrapping.refuse_optimizer_arguments(
            "Lookahead", "`inner_optimizer`", kwargs
        )
        sync_period = _validation.positive_int("sync_period", sync_period)
        slow_step_size = _validation.number(
            "slow_step_size",
            slow_step_size,
            low=0.0,
            include_low=False,
            high=1.0,
        )
        super().__init__(
            inner_optimizer,
            name=name,
            **{k: getattr(inner_optimizer, k) for k in _TAKEN_FROM_INNER},
        )
        self.sync_period = sync_period
        self.slow_step_size = slow_step_size

    def build(self, var_list):
        """Builds the inner optimizer and one slow copy of each variable."""
        if self.built:
            return
        super().build(var_list)
        self._slow_weights = self.add_optimizer_variables(var_list, "slow")

    def _use_weight_decay(self, variable):
        return self.inner_optimizer._use_weight_decay(variable)

    def apply(self, grads, trainable_variables=None):
        super().apply(grads, trainable_variables)
        # The inner update rule ran through `update_step`; advance its step
        # counter (bias corrections, schedules) as its own `apply` would.
        self.inner_optimizer.iterations.assign_add(1)

    def update_step(self, gradient, variable, learning_rate):
        """One inner step, then a synchronisation every `sync_period` steps."""
        slow = self._slow_weights[self._get_variable_index(variable)]
        step = ops.convert_to_tensor(self.iterations)
        # After every synchronisation (and before the first step) the fast
        # weights are where the slow ones must start: copy them then.
        starts_cycle = ops.equal(step % self.sync_period, 0)
        self.assign(
            slow,
            ops.where(
                starts_cycle,
                ops.convert_to_tensor(variable),
                ops.convert_to_tensor(slow),
            ),
        )
        self.inner_optimizer.update_step(gradient, variable, learning_rate)
        syncs = ops.equal((step + 1) % self.sync_period, 0)
        alpha = ops.cast(self.slow_step_size, variable.dtype)
        fast = ops.convert_to_tensor(variable)
        old_slow = ops.convert_to_tensor(slow)
        new_slow = old_slow + alpha * (fast - old_slow)
        self.assign(slow, ops.where(syncs, new_slow, old_slow))
        self.assign(variable, ops.where(syncs, new_slow, fast))

    def get_config(self):
        return {
            **super().get_config(),
            "sync_period": self.sync_period,
            "slow_step_size": self.slow_step_size,
        }
