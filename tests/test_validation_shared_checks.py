"""The checks of `_validation` used by the callbacks, data and tuning parts.

Each check returns the checked value or raises TypeError (wrong type) or
ValueError (wrong value) with a message naming the argument.
"""

import pathlib

import numpy as np
import pytest

from keras_dlparts import _validation


def test_string():
    assert _validation.string("tag", "a") == "a"
    assert _validation.string("tag", None, allow_none=True) is None
    assert _validation.string("text", "", allow_empty=True) == ""
    with pytest.raises(TypeError, match="`tag` must be a string. "):
        _validation.string("tag", 3)
    with pytest.raises(TypeError, match="`tag` must be a string or None"):
        _validation.string("tag", 3, allow_none=True)
    with pytest.raises(ValueError, match="`tag` must be a non-empty string"):
        _validation.string("tag", "")


def test_path():
    assert _validation.path("log_dir", pathlib.Path("a")) == "a"
    assert _validation.path("log_dir", None, allow_none=True) is None
    with pytest.raises(TypeError, match="`log_dir` must be a path"):
        _validation.path("log_dir", None)
    with pytest.raises(TypeError, match="`log_dir` must be a path"):
        _validation.path("log_dir", 3, allow_none=True)
    with pytest.raises(ValueError, match="`log_dir` must be a non-empty"):
        _validation.path("log_dir", "")


def test_ordered_strict():
    _validation.ordered("begin_step", 1, "end_step", 2, strict=True)
    with pytest.raises(
        ValueError,
        match="`end_step` must be greater than `begin_step`. "
        "Received: begin_step=2, end_step=2",
    ):
        _validation.ordered("begin_step", 2, "end_step", 2, strict=True)


def test_sequence_and_interval():
    assert _validation.sequence("pair", [1, 2], (2,)) == (1, 2)
    with pytest.raises(TypeError, match="`pair` must be a list or tuple"):
        _validation.sequence("pair", "ab")
    with pytest.raises(ValueError, match="`pair`.*of length 3"):
        _validation.sequence("pair", (1, 2, 3), (2,))
    assert _validation.interval("value_range", [-1, 1.0]) == (-1, 1.0)
    with pytest.raises(ValueError, match=r"`value_range\[1\]` must be a fin"):
        _validation.interval("value_range", (0.0, float("nan")))
    with pytest.raises(ValueError, match=r"`value_range\[1\]` must be great"):
        _validation.interval("value_range", (1.0, 0.0))
    with pytest.raises(TypeError, match=r"`value_range\[0\]` must be a num"):
        _validation.interval("value_range", ("a", 1.0))


def test_class_labels():
    labels = _validation.class_labels("labels", [2.0, 0, 1], num_classes=3)
    assert labels.dtype == np.int64 and labels.tolist() == [2, 0, 1]
    cases = [
        (None, {}, TypeError),
        ("7", {}, TypeError),
        ([True], {}, TypeError),
        ([[1, 2]], {}, ValueError),  # rank 2
        ([1, 2], {"length": 3}, ValueError),
        ([0.5], {}, ValueError),
        ([float("nan")], {}, ValueError),
        ([-1], {}, ValueError),
        ([3], {"num_classes": 3}, ValueError),
    ]
    for value, kwargs, error in cases:
        with pytest.raises(error, match="`labels`"):
            _validation.class_labels("labels", value, **kwargs)
