"""Argument checks shared by the model builders (plain Python, no tensors)."""


def positive_int(name, value):
    """Returns `value` if it is a positive integer, else raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"Argument `{name}` must be a positive integer. "
            f"Received: {name}={value!r}"
        )
    return value


def positive_ints(name, value, length=None):
    """Returns `value` as a tuple of positive integers, else raises."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    ok = (
        isinstance(value, (list, tuple))
        and len(value) > 0
        and (length is None or len(value) == length)
        and all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0
            for v in value
        )
    )
    if not ok:
        what = f"{length} " if length else "a non-empty sequence of "
        raise ValueError(
            f"Argument `{name}` must be {what}positive integers. "
            f"Received: {name}={value!r}"
        )
    return tuple(value)


def rate(name, value):
    """Returns `value` if it is a float in [0, 1), else raises ValueError."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not 0.0 <= value < 1.0
    ):
        raise ValueError(
            f"Argument `{name}` must be a float in [0, 1). "
            f"Received: {name}={value!r}"
        )
    return float(value)


def image_shape(value):
    """Returns `value` as (height, width, channels), else raises."""
    return positive_ints("input_shape", value, length=3)
