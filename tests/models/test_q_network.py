import numpy as np
import pytest

from keras_dlparts.models import build_q_network
from keras_dlparts.testing import check_model


def test_linear_q_network_is_a_q_table():
    model = build_q_network(num_states=5, num_actions=3)
    table = np.arange(15, dtype="float32").reshape(5, 3)
    bias = np.array([0.5, -1.0, 2.0], "float32")
    model.get_layer("action_values").set_weights([table, bias])
    np.testing.assert_allclose(
        model.predict(np.array([4, 0, 2]), verbose=0), table[[4, 0, 2]] + bias
    )


@pytest.mark.slow
def test_contract():
    states = np.arange(6, dtype="int32")
    targets = np.random.default_rng(0).normal(size=(6, 2)).astype("float32")
    check_model(
        lambda: build_q_network(6, 2, hidden_units=(8,)), states, targets
    )


def test_bad_config():
    with pytest.raises(
        ValueError, match="`num_states` must be a positive integer"
    ):
        build_q_network(0, 2)
    with pytest.raises(ValueError, match="`hidden_units`"):
        build_q_network(4, 2, hidden_units=(0,))
