"""The training keys of a search space: optimizers and default ranges."""

import keras
import pytest

from keras_dlparts.tuning import OPTIMIZERS
from keras_dlparts.tuning import TRAINING_KEYS
from keras_dlparts.tuning import Choice
from keras_dlparts.tuning import make_optimizer
from keras_dlparts.tuning import training_search_space
from keras_dlparts.tuning import validate_search_space


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_optimizer_name_makes_that_keras_optimizer(name):
    optimizer = make_optimizer({"optimizer": name, "learning_rate": 0.05})
    expected = type(keras.optimizers.get(name))
    assert type(optimizer) is expected
    assert float(optimizer.learning_rate) == pytest.approx(0.05)


def test_default_training_space_holds_only_training_keys():
    space = training_search_space()
    validate_search_space(space)
    assert set(space) <= set(TRAINING_KEYS)
    assert isinstance(space["optimizer"], Choice)
    assert set(space["optimizer"].values) <= set(OPTIMIZERS)


def test_make_optimizer_refuses_keys_outside_the_training_keys():
    with pytest.raises(ValueError, match="`training`.*units"):
        make_optimizer({"optimizer": "adam", "units": 8})
