"""A small declarative range spec that maps onto KerasTuner hyperparameters.

A search space is a plain dictionary from a name to a range:

```
{
    "learning_rate": Float(1e-4, 1e-2, sampling="log"),   # hp.Float
    "width": Int(16, 128, step=16),                       # hp.Int
    "optimizer": Choice(["adam", "sgd", "rmsprop"]),      # hp.Choice
    "batch_norm": Boolean(),                              # hp.Boolean
    "hidden_units": Choice([(32,), (64, 32)]),            # any values
    "dropout": 0.1,                                       # a fixed value
}
```

A plain value (anything that is not one of the range classes) is a fixed
value, registered with `hp.Fixed` where KerasTuner can hold it, so it shows
up in the trial's summary. `Choice` takes any values: where they are not all
`int`, `float`, `str` or `bool` of one type (tuples of layer sizes, say),
the tuner sees their `repr` strings and `sample` maps the choice back.
Framework-free (plain Python and keras-tuner).
"""

import math

_PLAIN = (int, float, str, bool)


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class Int:
    """An integer range `[min_value, max_value]`, mapped to `hp.Int`.

    Args:
        min_value: the smallest value.
        max_value: the largest value, included.
        step: optional distance between the values.
        sampling: `"linear"`, `"log"` or `"reverse_log"`.
        default: optional starting value (default `min_value`).
    """

    def __init__(
        self, min_value, max_value, step=None, sampling="linear", default=None
    ):
        self.min_value = min_value
        self.max_value = max_value
        self.step = step
        self.sampling = sampling
        self.default = default

    def check(self, key):
        ints = (self.min_value, self.max_value) + (
            () if self.step is None else (self.step,)
        )
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in ints):
            raise ValueError(
                f"Search space key {key!r}: Int bounds and step must be "
                f"integers. Received: {self!r}"
            )
        _check_bounds(key, self)

    def register(self, hp, key):
        return hp.Int(
            key, self.min_value, self.max_value, step=self.step,
            sampling=self.sampling, default=self.default,
        )

    def __repr__(self):
        return (
            f"Int({self.min_value!r}, {self.max_value!r}, step={self.step!r}, "
            f"sampling={self.sampling!r})"
        )


class Float(Int):
    """A real range `[min_value, max_value]`, mapped to `hp.Float`.

    Use `sampling="log"` for scale parameters such as the learning rate or
    the L2 strength (both bounds then > 0).
    """

    def check(self, key):
        if not all(_number(v) for v in (self.min_value, self.max_value)) or (
            self.step is not None and not _number(self.step)
        ):
            raise ValueError(
                f"Search space key {key!r}: Float bounds and step must be "
                f"numbers. Received: {self!r}"
            )
        _check_bounds(key, self)

    def register(self, hp, key):
        return hp.Float(
            key, self.min_value, self.max_value, step=self.step,
            sampling=self.sampling, default=self.default,
        )

    def __repr__(self):
        return "Float" + super().__repr__()[3:]


def _check_bounds(key, spec):
    if not spec.min_value < spec.max_value:
        raise ValueError(
            f"Search space key {key!r}: min_value must be smaller than "
            f"max_value. Received: {spec!r}"
        )
    if spec.step is not None and not spec.step > 0:
        raise ValueError(
            f"Search space key {key!r}: step must be positive. Received: {spec!r}"
        )
    if spec.sampling not in ("linear", "log", "reverse_log"):
        raise ValueError(
            f"Search space key {key!r}: sampling must be 'linear', 'log' or "
            f"'reverse_log'. Received: sampling={spec.sampling!r}"
        )
    if spec.sampling != "linear" and not spec.min_value > 0:
        raise ValueError(
            f"Search space key {key!r}: {spec.sampling} sampling needs "
            f"min_value > 0. Received: {spec!r}"
        )


class Choice:
    """One of a list of values, mapped to `hp.Choice`.

    Args:
        values: a non-empty sequence of distinct values of any kind.
        default: optional starting value (default the first).
    """

    def __init__(self, values, default=None):
        self.values = list(values) if isinstance(values, (list, tuple)) else values
        self.default = default

    def _encoded(self):
        """True where the tuner must see `repr` strings of the values."""
        kinds = {type(v) for v in self.values}
        return len(kinds) != 1 or not kinds <= set(_PLAIN)

    def check(self, key):
        if not isinstance(self.values, list) or not self.values:
            raise ValueError(
                f"Search space key {key!r}: Choice needs a non-empty list of "
                f"values. Received: {self.values!r}"
            )
        labels = [repr(v) for v in self.values]
        if len(set(labels)) != len(labels):
            raise ValueError(
                f"Search space key {key!r}: Choice values must be distinct. "
                f"Received: {self.values!r}"
            )
        if self.default is not None and self.default not in self.values:
            raise ValueError(
                f"Search space key {key!r}: Choice default must be one of the "
                f"values. Received: default={self.default!r}"
            )

    def register(self, hp, key):
        if not self._encoded():
            return hp.Choice(key, self.values, default=self.default)
        labels = [repr(v) for v in self.values]
        default = None if self.default is None else repr(self.default)
        label = hp.Choice(key, labels, default=default)
        return self.values[labels.index(label)]

    def __repr__(self):
        return f"Choice({self.values!r})"


class Boolean:
    """`True` or `False`, mapped to `hp.Boolean`."""

    def __init__(self, default=False):
        self.default = default

    def check(self, key):
        if not isinstance(self.default, bool):
            raise ValueError(
                f"Search space key {key!r}: Boolean default must be a bool. "
                f"Received: default={self.default!r}"
            )

    def register(self, hp, key):
        return hp.Boolean(key, default=self.default)

    def __repr__(self):
        return f"Boolean(default={self.default!r})"


RANGES = (Int, Float, Choice, Boolean)


def validate_search_space(search_space, name="search_space"):
    """Checks a search space, raising `ValueError` that names the bad key.

    Args:
        search_space: a dictionary from string names to ranges (`Int`,
            `Float`, `Choice`, `Boolean`) or fixed values.
        name: the argument's name, for the messages.

    Returns:
        The search space as a new `dict`.

    Examples:

        >>> validate_search_space({"units": Int(8, 4)})
        Traceback (most recent call last):
        ...
        ValueError: Search space key 'units': min_value must be smaller than ...
    """
    if not isinstance(search_space, dict):
        raise ValueError(
            f"Argument `{name}` must be a dict of ranges. "
            f"Received: {name}={search_space!r}"
        )
    for key, spec in search_space.items():
        if not isinstance(key, str) or not key:
            raise ValueError(
                f"Argument `{name}` keys must be non-empty strings. "
                f"Received key: {key!r}"
            )
        if isinstance(spec, RANGES):
            spec.check(key)
        elif isinstance(spec, float) and not math.isfinite(spec):
            raise ValueError(
                f"Search space key {key!r}: a fixed value must be finite. "
                f"Received: {spec!r}"
            )
    return dict(search_space)


def sample(hp, search_space):
    """Registers every range with `hp` and returns the current values.

    Args:
        hp: a `keras_tuner.HyperParameters`.
        search_space: a dictionary checked by `validate_search_space`.

    Returns:
        A dictionary from each key to its value for this trial.

    Examples:

        >>> import keras_tuner
        >>> hp = keras_tuner.HyperParameters()
        >>> sample(hp, {"units": Int(8, 32, step=8), "sizes": Choice([(4,), (4, 4)]),
        ...             "rate": 0.5})
        {'units': 8, 'sizes': (4,), 'rate': 0.5}
        >>> sorted(hp.values)
        ['rate', 'sizes', 'units']
    """
    values = {}
    for key, spec in search_space.items():
        if isinstance(spec, RANGES):
            values[key] = spec.register(hp, key)
        elif isinstance(spec, _PLAIN):
            values[key] = hp.Fixed(key, spec)
        else:
            values[key] = spec
    return values


def merge_search_space(defaults, overrides=None):
    """`defaults` updated by `overrides`; an override of `None` drops the key.

    Examples:

        >>> merge_search_space({"a": Int(1, 3), "b": 0.5}, {"a": 2, "b": None})
        {'a': 2}
    """
    if overrides is not None and not isinstance(overrides, dict):
        raise ValueError(
            "Argument `search_space` must be a dict of ranges. "
            f"Received: search_space={overrides!r}"
        )
    merged = dict(defaults)
    for key, spec in (overrides or {}).items():
        if spec is None:
            merged.pop(key, None)
        else:
            merged[key] = spec
    return merged
