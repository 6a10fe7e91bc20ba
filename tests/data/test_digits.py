"""load_digits and digit_captions: arguments checked by name, labels 0 to 9."""

import numpy as np
import pytest

from keras_dlparts.data import DIGIT_NAMES
from keras_dlparts.data import digit_captions
from keras_dlparts.data import load_digits


def test_captions_name_each_digit():
    captions = digit_captions(np.array([7, 0, 9]), templates=("digit {}",))
    assert captions == ["digit seven", "digit zero", "digit nine"]
    assert digit_captions([], templates=("digit {}",)) == []
    assert digit_captions([3.0], templates=("{}",)) == [DIGIT_NAMES[3]]


@pytest.mark.parametrize(
    "labels, error",
    [
        ([-1], ValueError),  # was "nine": Python's negative indexing
        ([10], ValueError),
        ([2.5], ValueError),
        ([[1, 2]], ValueError),
        ("7", TypeError),
        (None, TypeError),
        ([True], TypeError),
    ],
)
def test_captions_refuse_labels_outside_the_digits(labels, error):
    with pytest.raises(error, match="`labels`"):
        digit_captions(labels)


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"templates": "digit {}"}, TypeError, "templates"),
        ({"templates": ()}, ValueError, "templates"),
        ({"templates": ("no slot",)}, ValueError, "templates"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": "x"}, TypeError, "seed"),
    ],
)
def test_captions_bad_arguments(kwargs, error, argument):
    with pytest.raises(error, match=f"`{argument}`"):
        digit_captions([1], **kwargs)


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"test_fraction": 0.0}, ValueError, "test_fraction"),
        ({"test_fraction": 1.0}, ValueError, "test_fraction"),
        ({"test_fraction": float("nan")}, ValueError, "test_fraction"),
        ({"test_fraction": "x"}, TypeError, "test_fraction"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"as_images": 1}, TypeError, "as_images"),
    ],
)
def test_load_digits_bad_arguments(kwargs, error, argument):
    with pytest.raises(error, match=f"`{argument}`"):
        load_digits(**kwargs)
