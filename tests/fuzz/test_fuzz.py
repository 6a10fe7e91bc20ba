"""Every public name refuses bad input early, with a message naming it.

The table lives beside this file, one module per folder (`table_*.py`),
in the vocabulary of `cases.py`. A public name missing from the table
fails `test_every_public_name_is_in_the_table`: a new part must say how it
is used and what it refuses.
"""

import importlib
import inspect
import pathlib
import re

import keras
import numpy as np
import pytest
from fuzz.cases import realize

import keras_dlparts

#: Every subpackage the package exports (`testing`, the contract, is not one).
SUBPACKAGES = tuple(n for n in keras_dlparts.__all__ if n != "__version__")


def public_callables():
    """'folder.Name' for every public class and function of the package."""
    found = set()
    for sub in SUBPACKAGES:
        module = importlib.import_module(f"keras_dlparts.{sub}")
        for name in dir(module):
            value = getattr(module, name)
            if (
                name.startswith("_")
                or inspect.ismodule(value)
                or not callable(value)
            ):
                continue
            found.add(f"{sub}.{name}")
    return found


def load_table():
    table = {}
    for path in sorted(pathlib.Path(__file__).parent.glob("table_*.py")):
        module = importlib.import_module(f"fuzz.{path.stem}")
        overlap = set(table) & set(module.TABLE)
        assert not overlap, f"{path.name} repeats {sorted(overlap)}"
        table.update(module.TABLE)
    return table


TABLE = load_table()
NAMES = sorted(TABLE)


def test_every_public_name_is_in_the_table():
    public = public_callables()
    missing = sorted(public - set(TABLE))
    stale = sorted(set(TABLE) - public)
    assert not missing, (
        f"add these public names to tests/fuzz/table_*.py: {missing}"
    )
    assert not stale, f"these table entries are not public names: {stale}"


def test_the_table_is_not_empty_of_cases():
    # Every entry tries at least one bad case, unless it says why not.
    empty = [
        n for n in NAMES if TABLE[n].case_count() == 0 and not TABLE[n].note
    ]
    assert not empty, f"entries with no bad case and no note: {empty}"


# ---------------------------------------------------------------- running


def _args(entry, **override):
    args = {k: realize(v) for k, v in entry.args.items()}
    args.update(override)
    return args


def _is_class(entry):
    return inspect.isclass(entry.make)


def _use(entry, args=None, inputs=None):
    """Builds (and for classes, calls) the entry; returns the result."""
    args = _args(entry) if args is None else args
    if not _is_class(entry):
        return entry.make(**args)
    obj = entry.make(**args)
    if not entry.inputs:
        return obj
    inputs = dict(entry.inputs) if inputs is None else inputs
    if entry.call is not None:
        return entry.call(obj, **inputs)
    return obj(*inputs.values())


def _with_tensors(entry, tensors):
    """(args, inputs) for `_use` with some tensor values replaced."""
    if entry.tensors:
        return _args(entry, **tensors), None
    return None, {**entry.inputs, **tensors}


def _own_message(message):
    """The error's own message, without what Keras appends to it.

    Keras adds "Arguments received by X.call(): • inputs=..." to any error
    raised inside a layer's `call`, which would name `inputs` even for a raw
    backend crash.
    """
    return message.split("Arguments received by")[0]


def _names_argument(message, names):
    message = _own_message(message)
    return any(
        re.search(rf"(?<![A-Za-z0-9_]){re.escape(n)}(?![A-Za-z0-9_])", message)
        for n in names
    )


def _refused(entry, names, args=None, inputs=None):
    """None if `_use` raises a clear error naming one of `names`, else why."""
    try:
        _use(entry, args, inputs)
    except (ValueError, TypeError) as error:
        if _names_argument(str(error), names):
            return None
        return (
            f"{type(error).__name__} does not name {names}: {str(error)[:300]}"
        )
    except Exception as error:  # noqa: BLE001 - the point is to report it
        return f"unclear {type(error).__name__}: {str(error)[:300]}"
    return "accepted"


def _all_finite(result):
    for leaf in keras.tree.flatten(result):
        if hasattr(leaf, "shape") and not isinstance(leaf, keras.Model):
            array = np.asarray(keras.ops.convert_to_numpy(leaf))
            if array.dtype.kind in "fc" and not np.all(np.isfinite(array)):
                return False
    return True


def _source(entry):
    return entry.args if entry.tensors else entry.inputs


def _tensor_cases(entry):
    """(label, names the message may use, replaced tensors, empty_ok)."""
    source = _source(entry)
    tensors = entry.tensor_names()
    for name in tensors:
        if name not in entry.rank_free:
            value = np.asarray(realize(source[name]))
            yield (
                f"{name} without its batch axis",
                (name,),
                {name: value[0]},
                False,
            )
    shared = [n for n in tensors if n not in entry.batch_free]
    if len(shared) > 1:
        first = np.asarray(realize(source[shared[0]]))
        yield (
            "mismatched batch sizes",
            tuple(shared),
            {shared[0]: first[:-1]},
            False,
        )
    if tensors:
        empty = {
            n: np.asarray(realize(source[n]))[:0] for n in shared or tensors
        }
        yield "empty batch", tuple(tensors), empty, True


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.slow
def test_valid_use_works(name):
    keras.utils.set_random_seed(0)
    result = _use(TABLE[name])
    assert _all_finite(result), f"{name}: the valid use gives non-finite values"


@pytest.mark.parametrize("name", NAMES)
def test_bad_arguments_are_refused_by_name(name):
    entry = TABLE[name]
    failures = []
    for argument, values in entry.bad.items():
        for value in values:
            why = _refused(
                entry, (argument,), args=_args(entry, **{argument: value})
            )
            if why:
                failures.append(f"{argument}={value!r}: {why}")
    assert not failures, f"{name}:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.slow
def test_bad_calls_are_refused_by_name(name):
    entry = TABLE[name]
    keras.utils.set_random_seed(0)
    failures = []
    for label, names, tensors, empty_ok in _tensor_cases(entry):
        args, inputs = _with_tensors(entry, tensors)
        if empty_ok:
            try:
                result = _use(entry, args, inputs)
            except (ValueError, TypeError) as error:
                if not _names_argument(str(error), names):
                    failures.append(
                        f"{label}: error does not name {names}: {error}"
                    )
            except Exception as error:  # noqa: BLE001
                failures.append(
                    f"{label}: unclear {type(error).__name__}: "
                    f"{str(error)[:300]}"
                )
            else:
                if not _all_finite(result):
                    failures.append(f"{label}: non-finite result")
            continue
        why = _refused(entry, names, args, inputs)
        if why:
            failures.append(f"{label}: {why}")
    for argument, tensors in entry.bad_calls:
        args, inputs = _with_tensors(entry, tensors)
        why = _refused(entry, (argument,), args, inputs)
        if why:
            failures.append(f"bad {argument}: {why}")
    assert not failures, f"{name}:\n  " + "\n  ".join(failures)


def table_size():
    """(public names, bad cases) covered by the table."""
    return len(TABLE), sum(entry.case_count() for entry in TABLE.values())
