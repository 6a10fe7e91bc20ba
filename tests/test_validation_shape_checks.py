"""The checks of `_validation` used by the layers, ops, losses and metrics.

Each check returns the checked value or raises TypeError (wrong type) or
ValueError (wrong value) with a message naming the argument; a static
dimension that is unknown (`None`) is never refused unless it must be
known.
"""

import numpy as np
import pytest

from keras_dlparts import _validation


def test_ordered():
    assert _validation.ordered("low", 0, "high", 0.5) == (0, 0.5)
    assert _validation.ordered("low", 1, "high", 1) == (1, 1)
    with pytest.raises(ValueError, match=r"`low` must not exceed `high`.*=2"):
        _validation.ordered("low", 2, "high", 1)
    with pytest.raises(ValueError, match="`high` must be a finite number"):
        _validation.ordered("low", 0, "high", float("inf"))
    with pytest.raises(TypeError, match="`low` must be a number"):
        _validation.ordered("low", "0", "high", 1)


def test_multiple_of():
    assert _validation.multiple_of("frame_length", 8, 4) == 8
    assert _validation.multiple_of("depth", np.int64(6), 2) == 6
    with pytest.raises(ValueError, match=r"`depth` must be a positive even"):
        _validation.multiple_of("depth", 5, 2)
    with pytest.raises(ValueError, match=r"multiple of 4 \(why\).*=6"):
        _validation.multiple_of("frame_length", 6, 4, " (why)")
    with pytest.raises(ValueError, match="`frame_length` must be a positive"):
        _validation.multiple_of("frame_length", 0, 4)
    with pytest.raises(TypeError, match="`frame_length`"):
        _validation.multiple_of("frame_length", 8.0, 4)


def test_axis_size():
    assert _validation.axis_size("inputs", (None, 3), -1) == 3
    assert _validation.axis_size("inputs", np.zeros((2, 5)), 1, 5) == 5
    with pytest.raises(ValueError, match=r"known size along axis -1.*None"):
        _validation.axis_size("inputs", (2, None), -1)
    with pytest.raises(ValueError, match=r"along axis 2.*\(2, 3\)"):
        _validation.axis_size("inputs", (2, 3), 2)
    with pytest.raises(
        ValueError, match=r"`inputs` must have size 4 along axis -1 \(why\)"
    ):
        _validation.axis_size("inputs", (2, 3), -1, expected=4, why=" (why)")


def test_same_axis_size():
    _validation.same_axis_size(("x", (2, 3)), ("y", (4, 3)))
    _validation.same_axis_size(("x", (2, None)), ("y", (4, 3)))
    _validation.same_axis_size(("a", (2, 3)), ("b", (5,)), axis=-2)
    with pytest.raises(
        ValueError,
        match=r"`x` and `y` must have the same size along axis -1.*"
        r"x.shape=\(2, 3\), y.shape=\(4, 2\)",
    ):
        _validation.same_axis_size(("x", (2, 3)), ("y", (4, 2)))


def test_batch_vector():
    for shape in ((3,), (3, 1), (None, 1), (None, None)):
        assert _validation.batch_vector("y_true", shape) == shape
    for shape in ((3, 2), (3, 1, 1), ()):
        with pytest.raises(
            ValueError, match=r"`y_true` must have shape \(batch,\) or"
        ):
            _validation.batch_vector("y_true", shape)


def test_axis_index():
    assert _validation.axis_index("axis", -1, 3) == 2
    assert _validation.axis_index("axis", 0, 1) == 0
    with pytest.raises(ValueError, match=r"rank-2 input, in \[-2, 2\).*=2"):
        _validation.axis_index("axis", 2, 2)
    with pytest.raises(ValueError, match="`axis`"):
        _validation.axis_index("axis", -3, 2)
    with pytest.raises(TypeError, match="`axis` must be an integer"):
        _validation.axis_index("axis", 1.0, 2)


def test_check_layout():
    image = ("batch", "height", "width", "channels")
    assert _validation.check_layout("inputs", (1, 2, 2, 3), image)
    ids = ("batch", "length")
    scores = ("batch", "length", "vocabulary")
    _validation.check_layout("y_pred", np.zeros((2, 3, 4)), ids, scores)
    with pytest.raises(
        ValueError,
        match=r"`inputs` must have shape \(batch, height, width, channels\), "
        r"rank 4. Received: inputs.shape=\(2, 2\) \(rank 2\)",
    ):
        _validation.check_layout("inputs", (2, 2), image)
    with pytest.raises(ValueError, match=r"or \(batch, length, vocabulary\)"):
        _validation.check_layout("y_pred", (2,), ids, scores)
