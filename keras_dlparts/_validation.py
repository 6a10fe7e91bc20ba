"""Argument checks shared by every part.

Each check returns the checked value, or raises an error that names the
argument, says what was expected and shows what came:

- `TypeError` when the value has the wrong type (a string for a number,
  `None` for a model, a bare string for a list of names);
- `ValueError` when the type is right but the value is not (zero, negative,
  NaN, infinite, an unknown choice, a wrong rank or batch size).

Numbers must be finite: NaN and infinity are refused everywhere, because
they turn into NaN weights or runs that never stop far from the mistake.
The shape checks read static shapes only; a dimension unknown when the
graph is built (`None`) is never refused.
"""

import math

__all__ = [
    "shapes_agree",
    "axis_index",
    "axis_size",
    "batch_size",
    "batch_vector",
    "boolean",
    "broadcast_compatible",
    "broadcastable_mask",
    "check_layout",
    "check_rank",
    "class_labels",
    "concrete_value",
    "data_batch",
    "finite_array",
    "fits_input",
    "fraction",
    "function",
    "image_shape",
    "image_sides",
    "initializer",
    "integer",
    "interval",
    "keras_lookup",
    "keras_object",
    "mapping",
    "min_rank",
    "model_input_shape",
    "multiple_of",
    "names",
    "non_negative_number",
    "number",
    "one_of",
    "optional_string",
    "ordered",
    "path",
    "positive_int",
    "positive_ints",
    "positive_ints_or_empty",
    "positive_number",
    "random_seed",
    "rate",
    "same_axis_size",
    "same_batch_size",
    "same_shape",
    "sequence",
    "static_shape",
    "string",
    "strings",
    "values_in",
    "state_list",
]


def _is_real(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require_real(name, value):
    # NumPy scalars (np.float32(0.5), np.int64(3)) count as numbers.
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if not _is_real(value):
        raise TypeError(
            f"Argument `{name}` must be a number. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def number(
    name, value, *, low=None, high=None, include_low=True, include_high=True
):
    """Returns `value` if it is a finite real number within the bounds.

    Args:
        name: the argument's name, for the message.
        value: the value to check.
        low, high: optional bounds.
        include_low, include_high: whether each bound itself is allowed.
    """
    value = _require_real(name, value)
    too_low = low is not None and (value < low if include_low else value <= low)
    too_high = high is not None and (
        value > high if include_high else value >= high
    )
    if not math.isfinite(value) or too_low or too_high:
        what = "a finite number"
        if low is not None or high is not None:
            left = (
                "(-inf"
                if low is None
                else f"{'[' if include_low else '('}{low}"
            )
            right = (
                "inf)"
                if high is None
                else f"{high}{']' if include_high else ')'}"
            )
            what += f" in {left}, {right}"
        raise ValueError(
            f"Argument `{name}` must be {what}. Received: {name}={value!r}"
        )
    return value


def positive_number(name, value):
    """Returns `value` if it is a finite number > 0."""
    value = _require_real(name, value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(
            f"Argument `{name}` must be a positive finite number. "
            f"Received: {name}={value!r}"
        )
    return value


def non_negative_number(name, value):
    """Returns `value` if it is a finite number >= 0."""
    value = _require_real(name, value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(
            f"Argument `{name}` must be a finite number >= 0. "
            f"Received: {name}={value!r}"
        )
    return value


def positive_int(name, value, minimum=1):
    """Returns `value` if it is an integer >= `minimum` (default: positive)."""
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"Argument `{name}` must be {what}. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    if value < minimum:
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
        error = ValueError if isinstance(value, (list, tuple)) else TypeError
        raise error(
            f"Argument `{name}` must be {what}positive integers. "
            f"Received: {name}={value!r}"
        )
    return tuple(value)


def rate(name, value):
    """Returns `value` as a float if it is in [0, 1) (a dropout-like rate)."""
    value = _require_real(name, value)
    if not 0.0 <= value < 1.0:
        raise ValueError(
            f"Argument `{name}` must be a float in [0, 1). "
            f"Received: {name}={value!r}"
        )
    return float(value)


def fraction(name, value):
    """Returns `value` as a float if it is in [0, 1]."""
    value = _require_real(name, value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(
            f"Argument `{name}` must be a float in [0, 1]. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def image_shape(value, name="image_shape"):
    """Returns `value` as (height, width, channels), else raises."""
    return positive_ints(name, value, length=3)


def one_of(name, value, choices):
    """Returns `value` if it is one of `choices`, else raises ValueError."""
    try:
        known = value in choices
    except TypeError:  # unhashable values
        known = False
    if not known:
        raise ValueError(
            f"Argument `{name}` must be one of {tuple(choices)}. "
            f"Received: {name}={value!r}"
        )
    return value


def boolean(name, value):
    """Returns `value` if it is a bool (NumPy bools count), else TypeError."""
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if not isinstance(value, bool):
        raise TypeError(
            f"Argument `{name}` must be True or False. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def names(name, value, allow_none=False):
    """Returns `value` as a tuple of non-empty strings (`None` if allowed).

    A bare string is refused (it would be read as a list of letters).
    """
    if value is None and allow_none:
        return None
    value = strings(name, value)
    if not all(value):
        raise ValueError(
            f"Argument `{name}` must hold non-empty strings. "
            f"Received: {name}={value!r}"
        )
    return tuple(value)


def keras_object(name, value, kind):
    """Returns `value` if it is an instance of `kind` (e.g. `keras.Model`).

    Args:
        name: the argument's name, for the message.
        value: the value to check.
        kind: a class or tuple of classes.
    """
    if not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        expected = " or ".join(
            f"{k.__module__.split('.')[0]}.{k.__name__}" for k in kinds
        )
        raise TypeError(
            f"Argument `{name}` must be a {expected}. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def static_shape(value):
    """The static shape of a tensor, array or nested list, as a tuple.

    Unknown dimensions are `None`; `None` is returned for scalars given as
    Python numbers and for objects without a shape.
    """
    shape = getattr(value, "shape", None)
    if shape is None:
        if isinstance(value, (list, tuple)):
            import numpy as np

            try:
                return np.shape(value)
            except ValueError:
                return None
        return None
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:  # a TensorShape of unknown rank
        return None


def check_rank(name, value, ranks):
    """Raises ValueError if the static rank of `value` is not in `ranks`.

    Args:
        name: the argument's name.
        value: a tensor, array or shape tuple.
        ranks: an int or a collection of allowed ranks.
    """
    shape = value if isinstance(value, tuple) else static_shape(value)
    ranks = (ranks,) if isinstance(ranks, int) else tuple(ranks)
    if shape is not None and len(shape) not in ranks:
        expected = f"rank {ranks[0]}" if len(ranks) == 1 else f"rank in {ranks}"
        raise ValueError(
            f"Argument `{name}` must have {expected}. "
            f"Received: {name}.shape={shape} (rank {len(shape)})"
        )
    return value


def batch_size(value):
    """The static leading dimension of `value`, or None when unknown."""
    shape = value if isinstance(value, tuple) else static_shape(value)
    return shape[0] if shape else None


def same_batch_size(*named_values):
    """Raises ValueError unless every (name, tensor) pair has one batch size.

    Example: `same_batch_size(("y_true", y_true), ("y_pred", y_pred))`.
    Unknown batch sizes are skipped.
    """
    sizes = [(n, batch_size(v)) for n, v in named_values]
    known = [(n, s) for n, s in sizes if s is not None]
    if len({s for _, s in known}) > 1:
        listed = ", ".join(f"{n} has {s}" for n, s in known)
        names_ = " and ".join(f"`{n}`" for n, _ in known)
        raise ValueError(
            f"Arguments {names_} must have the same batch size (first "
            f"dimension). Received: {listed}"
        )


def same_shape(name_a, a, name_b, b):
    """Raises ValueError unless `a` and `b` have compatible static shapes."""
    shape_a = a if isinstance(a, tuple) else static_shape(a)
    shape_b = b if isinstance(b, tuple) else static_shape(b)
    if shape_a is None or shape_b is None:
        return
    compatible = len(shape_a) == len(shape_b) and all(
        x is None or y is None or x == y for x, y in zip(shape_a, shape_b)
    )
    if not compatible:
        raise ValueError(
            f"Arguments `{name_a}` and `{name_b}` must have the same shape. "
            f"Received: {name_a}.shape={shape_a}, {name_b}.shape={shape_b}"
        )


def random_seed(name, value):
    """Returns `value` if it is `None` or an integer >= 0 (a random seed)."""
    if value is None:
        return None
    return positive_int(name, value, minimum=0)


def initializer(name, value):
    """Returns `keras.initializers.get(value)`, or raises naming `name`."""
    return keras_lookup(name, value, "initializers")


def model_input_shape(model, index=0):
    """The static shape of a model's `index`-th input, or None if unknown."""
    inputs = getattr(model, "inputs", None)
    try:
        return static_shape(inputs[index]) if inputs else None
    except (IndexError, TypeError, AttributeError):
        return None


def fits_input(name, value, model, index=0):
    """Raises ValueError unless `value` fits the model's `index`-th input.

    Compares the static rank and the known non-batch dimensions; a model
    whose inputs are unknown (a subclassed model, a layer) accepts anything.
    """
    expected = model_input_shape(model, index)
    shape = static_shape(value)
    if not shapes_agree(shape, expected):
        raise ValueError(
            f"Input `{name}` must have shape {expected} (`None`: any size), "
            f"as the input of {model.name!r}. Received: {name}.shape={shape}"
        )
    return value


def strings(name, value):
    """Returns `value` (any iterable of strings) as a list of strings.

    Unlike `names`, empty strings pass (a blank line of a corpus); a bare
    string is refused (it would be read as a list of letters).
    """
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError(
            f"Argument `{name}` must be a list of strings. "
            f"Received: {name}={value!r}"
            + (
                f" (did you mean [{value!r}]?)"
                if isinstance(value, str)
                else ""
            )
        )
    value = list(value)
    for item in value:
        if not isinstance(item, str):
            raise TypeError(
                f"Argument `{name}` must hold strings only. Received an item "
                f"{item!r} of type {type(item).__name__}"
            )
    return value


def _numbers_only(value):
    """True for a number or a non-empty nested list of numbers."""
    if isinstance(value, (list, tuple)):
        return bool(value) and all(_numbers_only(v) for v in value)
    return _is_real(value)


def _data_leaves(value):
    """The arrays in a structure of inputs; a nested list of numbers is one."""
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _data_leaves(v)]
    if isinstance(value, (list, tuple)) and not _numbers_only(value):
        return [leaf for v in value for leaf in _data_leaves(v)]
    return [value]


def data_batch(name, value):
    """Returns `value` if it is a non-empty batch of model inputs.

    `value` is an array or tensor (a nested list of numbers counts as
    one), or a list, tuple or dict of them (the inputs of a multi-input
    model), each with a batch axis; their known batch sizes must agree.
    `None`, strings and scalars raise TypeError; rank 0, an empty batch or
    mismatched batch sizes raise ValueError.
    """
    leaves = _data_leaves(value)
    shapes = [
        None if isinstance(v, (str, bytes)) else static_shape(v) for v in leaves
    ]
    if not leaves or any(s is None for s in shapes):
        raise TypeError(
            f"Argument `{name}` must be an array, or a list or dict of arrays, "
            "with a batch axis. "
            f"Received: {name} of type {type(value).__name__}"
        )
    if any(len(s) == 0 or s[0] == 0 for s in shapes):
        raise ValueError(
            f"Argument `{name}` must have a batch axis (the first) holding at "
            f"least one example. Received shapes: {shapes}"
        )
    if len({s[0] for s in shapes if s[0] is not None}) > 1:
        raise ValueError(
            f"The arrays of `{name}` must have the same batch size (first "
            f"dimension). Received shapes: {shapes}"
        )
    return value


def integer(name, value):
    """Returns `value` if it is an integer (NumPy integers count; bools not)."""
    if hasattr(value, "item") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"Argument `{name}` must be an integer. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def mapping(name, value, allow_none=False):
    """Returns `value` as a new dict; `None` gives `{}` when `allow_none`."""
    if value is None and allow_none:
        return {}
    if not isinstance(value, dict):
        raise TypeError(
            f"Argument `{name}` must be a dict"
            + (" or None" if allow_none else "")
            + f". Received: {name}={value!r} of type {type(value).__name__}"
        )
    return dict(value)


def function(name, value, allow_none=False):
    """Returns `value` if it is callable (or `None` when `allow_none`)."""
    if (value is None and allow_none) or callable(value):
        return value
    raise TypeError(
        f"Argument `{name}` must be callable"
        + (" or None" if allow_none else "")
        + f". Received: {name}={value!r} of type {type(value).__name__}"
    )


def optional_string(name, value):
    """Returns `value` if it is `None` or a string (a name)."""
    if value is not None and not isinstance(value, str):
        raise TypeError(
            f"Argument `{name}` must be a string or None. "
            f"Received: {name}={value!r} of type {type(value).__name__}"
        )
    return value


def min_rank(name, value, minimum):
    """Raises ValueError if the static rank of `value` is below `minimum`."""
    shape = value if isinstance(value, tuple) else static_shape(value)
    if shape is not None and len(shape) < minimum:
        raise ValueError(
            f"Argument `{name}` must have rank >= {minimum}. "
            f"Received: {name}.shape={shape} (rank {len(shape)})"
        )
    return value


def broadcast_compatible(*named_values):
    """Raises ValueError unless the (name, tensor or shape) pairs broadcast.

    Shapes are aligned on their last axis, as in NumPy; a dimension that is
    unknown (`None`) or 1 fits any other.
    """
    shapes = [
        (n, v if isinstance(v, tuple) else static_shape(v))
        for n, v in named_values
    ]
    shapes = [(n, s) for n, s in shapes if s is not None]
    for axis in range(1, max((len(s) for _, s in shapes), default=0) + 1):
        sizes = {s[-axis] for _, s in shapes if len(s) >= axis} - {None, 1}
        if len(sizes) > 1:
            listed = ", ".join(f"{n}.shape={s}" for n, s in shapes)
            names_ = " and ".join(f"`{n}`" for n, _ in shapes)
            raise ValueError(
                f"Arguments {names_} must have shapes that broadcast together "
                f"(each axis, counted from the last, of equal size or 1). "
                f"Received: {listed}"
            )


def concrete_value(value):
    """`value` as a NumPy array when its value is known now, else `None`.

    NumPy arrays, Python numbers and lists, and eager tensors (TensorFlow
    eager tensors, JAX arrays) are known. Symbolic values (a TensorFlow
    graph tensor inside `tf.function`, a JAX tracer inside `jax.jit` or
    `jax.grad`, a `KerasTensor`) are not, and are never read: checks of
    values apply to eager calls only and cannot break compilation.
    """
    import numpy as np

    if isinstance(value, (np.ndarray, np.generic, int, float, list, tuple)):
        try:
            return np.asarray(value)
        except (TypeError, ValueError):
            return None
    import keras

    if not keras.ops.is_tensor(value):
        return None
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return None if tf.is_symbolic_tensor(value) else value.numpy()
    if backend == "jax":
        import jax

        return None if isinstance(value, jax.core.Tracer) else np.asarray(value)
    return None


def values_in(name, value, allowed, what=None):
    """Raises ValueError if a known value of `value` is not in `allowed`.

    Only values known now are read (see `concrete_value`); symbolic tensors
    pass unchecked, so the caller documents the rule for compiled calls.

    Args:
        name: the argument's name, for the message.
        value: an array, list or tensor.
        allowed: the allowed values (e.g. `(0, 1)` for binary labels).
        what: optional words for the message (e.g. "labels 0 or 1").
    """
    import numpy as np

    array = concrete_value(value)
    if array is None or array.size == 0:
        return value
    bad = ~np.isin(array, np.asarray(allowed))
    if np.any(bad):
        found = np.unique(array[bad])[:5].tolist()
        raise ValueError(
            f"Argument `{name}` must hold "
            f"{what or f'values in {tuple(allowed)}'}. "
            f"Received values not allowed: {found}"
        )
    return value


def keras_lookup(name, value, kind):
    """Returns `keras.<kind>.get(value)`, or raises ValueError naming `name`.

    `kind` is one of "activations", "constraints", "initializers" and
    "regularizers"; `None` keeps Keras's meaning (no regularizer or
    constraint, the linear activation).
    """
    import keras

    try:
        return getattr(keras, kind).get(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"Argument `{name}` must be one of Keras's {kind} (a name, a "
            f"config or an instance). Received: {name}={value!r}"
        ) from error


def broadcastable_mask(name, value, shape):
    """Raises ValueError unless `value` broadcasts to `shape` (NumPy rules).

    The mask may have fewer axes than `shape` (they align from the last);
    each of its static dimensions must be unknown, 1, or the one in `shape`
    (`None` in `shape`: any size).
    """
    got = value if isinstance(value, tuple) else static_shape(value)
    if got is None:
        return value
    aligned = zip(reversed(got), reversed(tuple(shape)))
    fits = len(got) <= len(shape) and all(
        g is None or e is None or g in (1, e) for g, e in aligned
    )
    if not fits:
        raise ValueError(
            f"Argument `{name}` must have shape {tuple(shape)}, or one that "
            f"broadcasts to it (`None`: any size; axes of size 1 and missing "
            f"leading axes broadcast). "
            f"Received: {name}.shape={got}"
        )
    return value


def positive_ints_or_empty(name, value):
    """Returns `value` as a tuple of positive integers; `()` and `[]` pass.

    For sizes where none at all is a valid choice (`hidden_units=()`).
    """
    if isinstance(value, (list, tuple)) and not value:
        return ()
    return positive_ints(name, value)


def finite_array(name, value, shape=None):
    """Returns `value` as a float32 NumPy array of finite numbers.

    Args:
        name: the argument's name, for the message.
        value: an array or nested list of numbers.
        shape: optional expected shape (a tuple).
    """
    import numpy as np

    try:
        array = np.asarray(value, dtype="float32")
    except (TypeError, ValueError):
        raise TypeError(
            f"Argument `{name}` must be an array of numbers. "
            f"Received: {name}={value!r}"
        ) from None
    if shape is not None and array.shape != tuple(shape):
        raise ValueError(
            f"Argument `{name}` must have shape {tuple(shape)}. "
            f"Received: {name}.shape={array.shape}"
        )
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"Argument `{name}` must hold finite numbers (no NaN or inf). "
            f"Received: {name}={value!r}"
        )
    return array


def ordered(name_low, low, name_high, high, strict=False):
    """Returns `(low, high)` if both are finite numbers and `low <= high`.

    With `strict=True`, `low < high` (`begin_step < end_step`).
    """
    low = number(name_low, low)
    high = number(name_high, high)
    if strict and not low < high:
        raise ValueError(
            f"Argument `{name_high}` must be greater than `{name_low}`. "
            f"Received: {name_low}={low!r}, {name_high}={high!r}"
        )
    if low > high:
        raise ValueError(
            f"Argument `{name_low}` must not exceed `{name_high}`. "
            f"Received: {name_low}={low!r}, {name_high}={high!r}"
        )
    return low, high


def multiple_of(name, value, factor, why=""):
    """Returns `value` if it is a positive integer multiple of `factor`.

    `why` ends the requirement in the message, e.g. " (sin and cos
    columns come in pairs)".
    """
    value = positive_int(name, value)
    if value % factor:
        what = (
            "a positive even integer"
            if factor == 2
            else f"a positive multiple of {factor}"
        ) + why
        raise ValueError(
            f"Argument `{name}` must be {what}. Received: {name}={value!r}"
        )
    return value


def axis_size(name, value, axis, expected=None, why=""):
    """Returns the static size of `value` along `axis`, which must be known.

    Raises ValueError if the static rank has no `axis`, the size there is
    unknown (`None`), or, with `expected`, differs from it. `why` ends the
    requirement in the message, e.g. " (the layer's features)".
    """
    shape = value if isinstance(value, tuple) else static_shape(value)
    size = None
    if shape is not None and -len(shape) <= axis < len(shape):
        size = shape[axis]
    if size is None or (expected is not None and size != expected):
        what = "a known size" if expected is None else f"size {expected}"
        raise ValueError(
            f"Argument `{name}` must have {what} along axis {axis}{why}. "
            f"Received: {name}.shape={shape}"
        )
    return size


def same_axis_size(*named_values, axis=-1):
    """Raises ValueError unless the (name, tensor) pairs agree along `axis`.

    Unknown sizes (and ranks too small for `axis`) are skipped.
    """
    shapes = [
        (n, v if isinstance(v, tuple) else static_shape(v))
        for n, v in named_values
    ]
    known = [
        (n, s)
        for n, s in shapes
        if s is not None and -len(s) <= axis < len(s) and s[axis] is not None
    ]
    if len({s[axis] for _, s in known}) > 1:
        listed = ", ".join(f"{n}.shape={s}" for n, s in known)
        names_ = " and ".join(f"`{n}`" for n, _ in known)
        raise ValueError(
            f"Arguments {names_} must have the same size along axis {axis}. "
            f"Received: {listed}"
        )


def batch_vector(name, value):
    """Raises ValueError unless `value` is shaped `(batch,)` or `(batch, 1)`.

    One value per example (labels, distances, timesteps); unknown sizes
    pass.
    """
    shape = value if isinstance(value, tuple) else static_shape(value)
    if shape is not None and (
        len(shape) not in (1, 2)
        or (len(shape) == 2 and shape[1] not in (1, None))
    ):
        raise ValueError(
            f"Argument `{name}` must have shape (batch,) or (batch, 1), one "
            f"value per example. Received: {name}.shape={shape}"
        )
    return value


def axis_index(name, value, rank):
    """Returns `value` as an axis in `[0, rank)`; it may count from the end.

    A non-integer raises TypeError; an axis outside `[-rank, rank)` raises
    ValueError.
    """
    value = integer(name, value)
    if not -rank <= value < rank:
        raise ValueError(
            f"Argument `{name}` must be an axis of a rank-{rank} input, in "
            f"[{-rank}, {rank}). Received: {name}={value!r}"
        )
    return value % rank


def string(name, value, allow_none=False, allow_empty=False):
    """Returns `value` if it is a string, non-empty unless `allow_empty`.

    `None` passes when `allow_none` (an optional name or tag).
    """
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        raise TypeError(
            f"Argument `{name}` must be a string"
            + (" or None" if allow_none else "")
            + f". Received: {name}={value!r} of type {type(value).__name__}"
        )
    if not value and not allow_empty:
        raise ValueError(
            f"Argument `{name}` must be a non-empty string. "
            f"Received: {name}={value!r}"
        )
    return value


def path(name, value, allow_none=False):
    """Returns `value` (a string or `os.PathLike`) as a non-empty path string.

    `None` passes when `allow_none` (an optional directory or file).
    """
    import os

    if value is None and allow_none:
        return None
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(
            f"Argument `{name}` must be a path (a string or os.PathLike)"
            + (" or None" if allow_none else "")
            + f". Received: {name}={value!r} of type {type(value).__name__}"
        )
    text = os.fspath(value)
    if not isinstance(text, str) or not text:
        raise ValueError(
            f"Argument `{name}` must be a non-empty path string. "
            f"Received: {name}={value!r}"
        )
    return text


def sequence(name, value, lengths=None, what="a list or tuple"):
    """Returns `value` as a tuple if it is a list or tuple.

    Args:
        name: the argument's name, for the message.
        value: the value to check.
        lengths: optional allowed lengths.
        what: the expected value in words, e.g. "a pair (low, high)".
    """
    if not isinstance(value, (list, tuple)):
        raise TypeError(
            f"Argument `{name}` must be {what}. "
            f"Received: {name} of type {type(value).__name__}"
        )
    if lengths is not None and len(value) not in tuple(lengths):
        raise ValueError(
            f"Argument `{name}` must be {what}. "
            f"Received: {name}, a {type(value).__name__} of length {len(value)}"
        )
    return tuple(value)


def interval(name, value):
    """Returns `value` as `(low, high)`, two finite numbers with low < high."""
    low, high = sequence(name, value, (2,), "a pair (low, high) of numbers")
    low = number(f"{name}[0]", low)
    high = number(f"{name}[1]", high)
    ordered(f"{name}[0]", low, f"{name}[1]", high, strict=True)
    return (low, high)


def class_labels(name, value, length=None, num_classes=None):
    """Returns `value` as a 1-D int64 NumPy array of class labels >= 0.

    Floats holding whole numbers count (`3.0`); `length` is the required
    number of labels and `num_classes` bounds them (`label < num_classes`).
    Wrong types (`None`, strings, booleans) raise TypeError; a wrong rank,
    length or value (`2.5`, `-1`) ValueError.
    """
    import numpy as np

    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(
            f"Argument `{name}` must be a list or 1-D array of integer class "
            f"labels. Received: {name}={value!r}"
        )
    try:
        array = np.asarray(value)
    except ValueError:  # ragged nested lists
        raise ValueError(
            f"Argument `{name}` must be a 1-D array of class labels. "
            f"Received: {name}={value!r}"
        ) from None
    if array.dtype.kind not in "iuf":
        raise TypeError(
            f"Argument `{name}` must hold integer class labels. "
            f"Received: {name} of dtype {array.dtype}"
        )
    check_rank(name, array, 1)
    if length is not None and len(array) != length:
        raise ValueError(
            f"Argument `{name}` must hold {length} labels. "
            f"Received: {name}.shape={array.shape}"
        )
    high = "" if num_classes is None else f" and < {num_classes}"
    bad = ~np.isfinite(array) | (array != np.round(array)) | (array < 0)
    if num_classes is not None:
        bad |= array >= num_classes
    if np.any(bad):
        raise ValueError(
            f"Argument `{name}` must hold whole numbers >= 0{high}. "
            f"Received values not allowed: {np.unique(array[bad])[:5].tolist()}"
        )
    return array.astype("int64")


def check_layout(name, value, *layouts):
    """Raises ValueError unless the static rank of `value` fits a layout.

    Each layout names the axes, e.g. `("batch", "height", "width",
    "channels")`, and the message shows them; unknown ranks pass.
    """
    shape = value if isinstance(value, tuple) else static_shape(value)
    if shape is not None and len(shape) not in {len(x) for x in layouts}:
        expected = " or ".join(f"({', '.join(x)})" for x in layouts)
        ranks = " or ".join(str(len(x)) for x in layouts)
        raise ValueError(
            f"Argument `{name}` must have shape {expected}, rank {ranks}. "
            f"Received: {name}.shape={shape} (rank {len(shape)})"
        )
    return value


def image_sides(name, value, minimum=1, multiple=1, why=""):
    """Returns `value`, an image shape, if its height and width fit.

    Both sides must be at least `minimum` and multiples of `multiple` (what
    pooling, strided convolutions and upsampling need); `why` ends the
    requirement in the message, e.g. " for 3 pooling blocks".
    """
    height, width = value[0], value[1]
    if min(height, width) < minimum or height % multiple or width % multiple:
        needs = [f"at least {minimum}"] if minimum > 1 else []
        needs += [f"divisible by {multiple}"] if multiple > 1 else []
        raise ValueError(
            f"Argument `{name}` must have a height and width "
            f"{' and '.join(needs)}{why}. Received: {name}={tuple(value)!r}"
        )
    return value


def state_list(name, value, sizes, inputs=None):
    """Returns `value` if it is a list of `(batch, size)` tensors, one a size.

    The recurrent states of a cell: `len(sizes)` tensors of rank 2 whose
    last dimensions are `sizes`, with the batch size of `inputs` (a
    `(name, tensor)` pair) when given.
    """
    if not isinstance(value, (list, tuple)) or len(value) != len(sizes):
        count = len(value) if isinstance(value, (list, tuple)) else None
        raise ValueError(
            f"Argument `{name}` must be a list of {len(sizes)} tensors. "
            f"Received: {name} of type {type(value).__name__}"
            + (f" and length {count}" if count is not None else "")
        )
    named = [] if inputs is None else [inputs]
    for index, (state, size) in enumerate(zip(value, sizes)):
        item = f"{name}[{index}]"
        check_rank(item, state, 2)
        got = static_shape(state)
        if got is not None and got[-1] is not None and got[-1] != size:
            raise ValueError(
                f"Argument `{item}` must have shape (batch, {size}). "
                f"Received: {item}.shape={got}"
            )
        named.append((item, state))
    same_batch_size(*named)
    return value


def shapes_agree(shape, expected):
    """False only when two static shapes differ (the batch axis aside).

    They differ in rank or in a non-batch dimension known in both; `None`
    (an unknown shape, or an unknown size) agrees with anything.
    """
    if shape is None or expected is None:
        return True
    return len(shape) == len(expected) and all(
        s is None or e is None or s == e
        for s, e in zip(shape[1:], expected[1:])
    )
