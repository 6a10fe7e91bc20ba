"""Argument checks shared by every part (plain Python, no tensors).

Each returns the checked value, or raises a `ValueError` that names the
argument, says what was expected and shows what came.
"""


def positive_int(name, value, minimum=1):
    """Returns `value` if it is an integer >= `minimum` (default: positive)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(
            f"Argument `{name}` must be {what}. Received: {name}={value!r}"
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


def positive_number(name, value):
    """Returns `value` if it is a number > 0, else raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(
            f"Argument `{name}` must be a positive number. "
            f"Received: {name}={value!r}"
        )
    return value


def fraction(name, value):
    """Returns `value` if it is a number in [0, 1], else raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"Argument `{name}` must be a float in [0, 1]. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def one_of(name, value, choices):
    """Returns `value` if it is one of `choices`, else raises ValueError."""
    if value not in choices:
        raise ValueError(
            f"Argument `{name}` must be one of {tuple(choices)}. "
            f"Received: {name}={value!r}"
        )
    return value
