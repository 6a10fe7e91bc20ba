"""The vocabulary of the fuzz table: one `Entry` per public name.

An `Entry` says how to use a public callable correctly (`args`, and for
classes the `inputs` of a call) and which bad values each argument must
refuse (`bad`). `test_fuzz.py` then tries, for every entry:

- the valid use, which must work (so a bad case cannot pass by accident);
- each bad argument value, alone: a `ValueError` or `TypeError` whose message
  names the argument;
- each tensor input at a wrong rank (the batch axis dropped: one example
  passed without its batch), with mismatched batch sizes when there are
  several inputs, and with an empty batch. Wrong ranks and mismatched
  batches must raise an error naming an input; an empty batch may either
  raise one or give finite outputs (as Keras's own layers and losses do);
- each case in `bad_calls`: inputs with a specific mistake and the argument
  the message must name.
"""

import dataclasses
import math
from typing import Any
from typing import Callable

import numpy as np

NAN, INF = math.nan, math.inf

#: Bad values for an argument that takes a positive integer.
POSITIVE_INT = (0, -1, 1.5, True, "x", None)
#: Bad values for an integer argument that may be zero.
NON_NEGATIVE_INT = (-1, 1.5, "x", None)
#: Bad values for a positive finite number.
POSITIVE_NUMBER = (0, -1.0, NAN, INF, "x", None)
#: Bad values for a finite number that may be zero.
NON_NEGATIVE_NUMBER = (-1.0, NAN, INF, "x", None)
#: Bad values for any finite number.
FINITE_NUMBER = (NAN, INF, -INF, "x", None)
#: Bad values for a rate in [0, 1) (dropout and the like).
RATE = (-0.1, 1.0, 1.5, NAN, "x", None)
#: Bad values for a fraction in [0, 1].
FRACTION = (-0.1, 1.5, NAN, "x", None)
#: Bad values for an argument choosing among named options.
CHOICE = ("no-such-choice", "", 3, None)
#: Bad values for a True/False argument.
BOOLEAN = ("yes", 2, None)
#: Bad values for a positive integer shape such as (28, 28, 1).
SHAPE = ((0, 4, 1), (-1, 4, 1), (4, 4), "x", None, 5.5)
#: Bad values for an argument holding a Keras model or layer.
MODEL = (None, "x", 3)
#: Bad values for a list of names.
NAMES = ("dense", [3], None)
#: Bad values for an optional random seed (None means "unseeded").
SEED = ("x", 1.5, -1)
#: Bad values for an initializer (None is Keras's default initializer).
INITIALIZER = ("no-such-choice", 3)
#: Bad values for an activation (None is Keras's linear activation).
ACTIVATION = ("no-such-choice", "", 3)
#: Bad values for an optional regularizer or constraint.
OPTIONAL_KERAS = ("no-such-choice", 3)
#: Bad values for an optional positive integer (None is valid).
OPTIONAL_POSITIVE_INT = tuple(v for v in POSITIVE_INT if v is not None)
#: Bad values for a (rows, cols) grid of at least two units.
MAP_SHAPE = ((1, 1), (0, 3), (-1, 3), (2,), (2, 3, 1), (2, 1.5), "x", None, 2.5)


@dataclasses.dataclass
class Fresh:
    """An argument made anew for every case (a model, an optimizer)."""

    make: Callable[[], Any]


def fresh(make):
    return Fresh(make)


def realize(value):
    return value.make() if isinstance(value, Fresh) else value


@dataclasses.dataclass
class Entry:
    """How to use one public callable, and how not to.

    Attributes:
        make: the public class or function.
        args: keyword arguments that work (`Fresh` values are made per case).
        bad: argument name -> bad values; each must be refused alone.
        inputs: for classes, the keyword inputs of a working call of the
            built object (NumPy arrays); passed positionally in this order
            unless `call` says otherwise.
        call: `call(obj, **inputs)` for objects not called as `obj(*inputs)`
            (a metric's `update_state`, a model's `predict`).
        tensors: for functions, the names in `args` that are tensors (they
            get the rank, batch and empty-batch cases).
        rank_free: tensor names whose rank may legitimately vary.
        batch_free: tensor names whose first axis is not a batch shared with
            the others (`centers` of an RBF kernel).
        bad_calls: extra (argument named in the message, {input: value}) cases;
            the values replace the working inputs (or `args` for functions).
        note: why a check does not apply, when one is skipped.
    """

    make: Callable
    args: dict = dataclasses.field(default_factory=dict)
    bad: dict = dataclasses.field(default_factory=dict)
    inputs: dict = dataclasses.field(default_factory=dict)
    call: Callable = None
    tensors: tuple = ()
    rank_free: tuple = ()
    batch_free: tuple = ()
    bad_calls: list = dataclasses.field(default_factory=list)
    note: str = ""

    def case_count(self):
        """How many bad cases this entry tries."""
        tensors = self.tensor_names()
        shared_batch = [n for n in tensors if n not in self.batch_free]
        return (
            sum(len(v) for v in self.bad.values())
            + len([n for n in tensors if n not in self.rank_free])
            + (1 if len(shared_batch) > 1 else 0)
            + (1 if tensors else 0)
            + len(self.bad_calls)
        )

    def tensor_names(self):
        names = self.tensors or tuple(self.inputs)
        source = self.args if self.tensors else self.inputs
        return tuple(n for n in names if np.ndim(source[n]) >= 1)
