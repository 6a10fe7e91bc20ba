"""The arguments every optimizer of this folder shares, checked by name.

`learning_rate` and the keyword arguments of `keras.optimizers.Optimizer`
(`weight_decay`, `clipnorm`, ...), checked before Keras sees them: Keras
itself takes NaN, infinite and negative values for most of them.
"""

from keras_dlparts import _validation


def learning_rate(value):
    """A schedule or callable as it is; a number as a float, if it is > 0."""
    if callable(value):
        return value
    return float(_validation.positive_number("learning_rate", value))


def _optional(check):
    return lambda name, value: None if value is None else check(name, value)


def _accumulation_steps(name, value):
    return _validation.positive_int(name, value, minimum=2)


_KERAS_ARGUMENTS = {
    "weight_decay": _optional(_validation.non_negative_number),
    "clipnorm": _optional(_validation.positive_number),
    "clipvalue": _optional(_validation.positive_number),
    "global_clipnorm": _optional(_validation.positive_number),
    "use_ema": _validation.boolean,
    "ema_momentum": _validation.fraction,
    "ema_overwrite_frequency": _optional(_validation.positive_int),
    "loss_scale_factor": _optional(_validation.positive_number),
    "gradient_accumulation_steps": _optional(_accumulation_steps),
}


def keras_arguments(kwargs):
    """Checks the `keras.optimizers.Optimizer` arguments in `kwargs`.

    Unknown names are left to Keras, which refuses them.
    """
    for name, value in kwargs.items():
        if name in _KERAS_ARGUMENTS:
            _KERAS_ARGUMENTS[name](name, value)
    return kwargs
