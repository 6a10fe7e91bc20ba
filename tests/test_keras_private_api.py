"""The private parts of Keras we still rely on, each with a clear message.

Each has no public equivalent (see the module that uses it). When a new
Keras changes one, this test names it and the part of ours that breaks.
"""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import LSTMCell
from keras_dlparts.layers import MultiHeadAttention


def _lstm_dropout_mixin():
    """layers/lstm.py: `keras.layers.RNN` draws one dropout mask per
    sequence only for cells deriving from Keras's DropoutRNNCell."""
    mixin = next(
        (
            base
            for base in keras.layers.LSTMCell.__mro__
            if base.__name__ == "DropoutRNNCell"
        ),
        None,
    )
    assert mixin is not None, (
        "keras.layers.LSTMCell no longer derives from DropoutRNNCell: "
        "keras_dlparts.layers.LSTMCell cannot get per-sequence dropout masks"
    )
    assert isinstance(LSTMCell(2), mixin)
    for name in (
        "get_dropout_mask",
        "get_recurrent_dropout_mask",
        "reset_dropout_mask",
        "reset_recurrent_dropout_mask",
    ):
        assert callable(getattr(mixin, name, None)), (
            f"Keras's DropoutRNNCell lost `{name}`, which "
            "keras_dlparts.layers.LSTMCell calls"
        )
    # The RNN resets the masks between batches: two calls differ.
    rnn = keras.layers.RNN(LSTMCell(3, dropout=0.5, seed=1))
    x = np.ones((1, 4, 2), "float32")
    first, second = (
        keras.ops.convert_to_numpy(rnn(x, training=True)) for _ in range(2)
    )
    assert not np.allclose(first, second), (
        "keras.layers.RNN no longer resets a DropoutRNNCell's masks"
    )


def _mha_sublayers():
    """layers/attention.py: Keras's MultiHeadAttention keeps the gate
    projection (`use_gate=True`) and the dropout on the weights in private
    attributes `_gate_dense` and `_dropout_layer`, built by its `build`."""
    layer = MultiHeadAttention(2, 3, use_gate=True, dropout=0.5)
    layer.build((1, 4, 6), (1, 5, 6))
    gate = getattr(layer, "_gate_dense", None)
    assert isinstance(gate, keras.layers.EinsumDense), (
        "Keras's MultiHeadAttention no longer has the EinsumDense "
        "`_gate_dense`; keras_dlparts.layers.MultiHeadAttention(use_gate=True)"
        " reads it"
    )
    dropout = getattr(layer, "_dropout_layer", None)
    assert isinstance(dropout, keras.layers.Dropout), (
        "Keras's MultiHeadAttention no longer has the Dropout "
        "`_dropout_layer`; keras_dlparts.layers.MultiHeadAttention(dropout>0)"
        " reads it"
    )
    assert dropout.rate == 0.5


def _functional_nodes():
    """callbacks/attention_maps.py: a layer called in a Functional model
    records the call in `_inbound_nodes`, whose `arguments` give the
    symbolic tensors (`keras_tensors`) and rebuild the call (`fill_in`)."""
    x = keras.Input((4, 6))
    layer = keras.layers.MultiHeadAttention(2, 3)
    layer(x, x, use_causal_mask=True)
    nodes = getattr(layer, "_inbound_nodes", None)
    assert nodes, (
        "Keras layers no longer record their calls in `_inbound_nodes`; "
        "AttentionMapLogger reads it"
    )
    arguments = getattr(nodes[0], "arguments", None)
    tensors = getattr(arguments, "keras_tensors", None)
    assert tensors is not None and hasattr(arguments, "fill_in"), (
        "A Keras Node's `arguments` lost `keras_tensors` or `fill_in`; "
        "AttentionMapLogger replays the call with them"
    )
    values = {id(t): np.ones((1, 4, 6), "float32") for t in tensors}
    args, kwargs = arguments.fill_in(values)
    assert len(args) == 2 and kwargs.get("use_causal_mask") is True


@pytest.mark.parametrize(
    "check", [_lstm_dropout_mixin, _mha_sublayers, _functional_nodes]
)
def test_keras_private_api_we_rely_on(check):
    check()
