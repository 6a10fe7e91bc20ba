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

from keras_dlparts import _validation

_PLAIN = (int, float, str, bool)
_SAMPLINGS = ("linear", "log", "reverse_log")


class _Range:
    """A range checked when it is made (naming its argument) and again,
    naming its key, when a search space is validated."""

    def validate(self):
        raise NotImplementedError

    def check(self, key, name="search_space"):
        """`validate`, with errors naming the search space and the key."""
        try:
            self.validate()
        except (TypeError, ValueError) as error:
            raise type(error)(
                f"Argument `{name}`, key {key!r}: {error}"
            ) from None


class Int(_Range):
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
        self.validate()

    def validate(self):
        _validation.integer("min_value", self.min_value)
        _validation.integer("max_value", self.max_value)
        if self.step is not None:
            _validation.positive_int("step", self.step)
        _check_bounds(self, _validation.integer)

    def register(self, hp, key):
        return hp.Int(
            key,
            self.min_value,
            self.max_value,
            step=self.step,
            sampling=self.sampling,
            default=self.default,
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

    def validate(self):
        _validation.number("min_value", self.min_value)
        _validation.number("max_value", self.max_value)
        if self.step is not None:
            _validation.positive_number("step", self.step)
        _check_bounds(self, _validation.number)

    def register(self, hp, key):
        return hp.Float(
            key,
            self.min_value,
            self.max_value,
            step=self.step,
            sampling=self.sampling,
            default=self.default,
        )

    def __repr__(self):
        return "Float" + super().__repr__()[3:]


def _check_bounds(spec, kind):
    """The checks `Int` and `Float` share; `kind` checks one value."""
    _validation.ordered(
        "min_value", spec.min_value, "max_value", spec.max_value, strict=True
    )
    _validation.one_of("sampling", spec.sampling, _SAMPLINGS)
    if spec.sampling != "linear" and not spec.min_value > 0:
        # Only log scales need it: a domain rule, with its reason.
        raise ValueError(
            f"Argument `min_value` must be > 0 for sampling={spec.sampling!r}. "
            f"Received: min_value={spec.min_value!r}"
        )
    if spec.default is not None:
        _validation.number(
            "default",
            kind("default", spec.default),
            low=spec.min_value,
            high=spec.max_value,
        )


class Choice(_Range):
    """One of a list of values, mapped to `hp.Choice`.

    Args:
        values: a non-empty list or tuple of distinct values of any kind.
        default: optional starting value (default the first).
    """

    def __init__(self, values, default=None):
        self.values = (
            list(values) if isinstance(values, (list, tuple)) else values
        )
        self.default = default
        self.validate()

    def _encoded(self):
        """True where the tuner must see `repr` strings of the values."""
        kinds = {type(v) for v in self.values}
        return len(kinds) != 1 or not kinds <= set(_PLAIN)

    def validate(self):
        _validation.sequence(
            "values", self.values, what="a list or tuple of values"
        )
        labels = [repr(v) for v in self.values]
        if not labels or len(set(labels)) != len(labels):
            raise ValueError(
                "Argument `values` must be a non-empty list of distinct "
                f"values. Received: values={self.values!r}"
            )
        for i, value in enumerate(self.values):
            if isinstance(value, float):
                _validation.number(f"values[{i}]", value)
        if self.default is not None:
            _validation.one_of("default", self.default, self.values)

    def register(self, hp, key):
        if not self._encoded():
            return hp.Choice(key, self.values, default=self.default)
        labels = [repr(v) for v in self.values]
        default = None if self.default is None else repr(self.default)
        label = hp.Choice(key, labels, default=default)
        return self.values[labels.index(label)]

    def __repr__(self):
        return f"Choice({self.values!r})"


class Boolean(_Range):
    """`True` or `False`, mapped to `hp.Boolean`."""

    def __init__(self, default=False):
        self.default = default
        self.validate()

    def validate(self):
        _validation.boolean("default", self.default)

    def register(self, hp, key):
        return hp.Boolean(key, default=self.default)

    def __repr__(self):
        return f"Boolean(default={self.default!r})"


RANGES = (Int, Float, Choice, Boolean)


def validate_search_space(search_space, name="search_space"):
    """Checks a search space; errors name the bad key.

    Wrong types (not a dict, a key that is not a string, an `Int` bound
    that is not an integer) raise `TypeError`, wrong values `ValueError`.

    Args:
        search_space: a dictionary from string names to ranges (`Int`,
            `Float`, `Choice`, `Boolean`) or fixed values.
        name: the argument's name, for the messages.

    Returns:
        The search space as a new `dict`.

    Examples:

        >>> validate_search_space({"units": 8, "rate": float("nan")})
        Traceback (most recent call last):
        ...
        ValueError: Argument `search_space['rate']` must be a finite number...
    """
    _validation.string("name", name)
    search_space = _validation.mapping(name, search_space)
    _validation.names(f"{name}.keys()", list(search_space))
    for key, spec in search_space.items():
        if isinstance(spec, RANGES):
            spec.check(key, name)
        elif isinstance(spec, float):  # a fixed value
            _validation.number(f"{name}[{key!r}]", spec)
    return search_space


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
        >>> space = {"units": Int(8, 32, step=8), "rate": 0.5}
        >>> space["sizes"] = Choice([(4,), (4, 4)])
        >>> sample(hp, space)
        {'units': 8, 'rate': 0.5, 'sizes': (4,)}
        >>> sorted(hp.values)
        ['rate', 'sizes', 'units']
    """
    import keras_tuner

    _validation.keras_object("hp", hp, keras_tuner.HyperParameters)
    values = {}
    for key, spec in validate_search_space(search_space).items():
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
    merged = _validation.mapping("defaults", defaults)
    overrides = _validation.mapping("overrides", overrides, allow_none=True)
    for key, spec in overrides.items():
        if spec is None:
            merged.pop(key, None)
        else:
            merged[key] = spec
    return merged
