import keras
import numpy as np
import pytest

from keras_dlparts.models import build_mlp
from keras_dlparts.testing import check_model

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
XOR_Y = np.array([[0], [1], [1], [0]], "float32")


@pytest.mark.slow
def test_contract():
    x = np.random.default_rng(0).normal(size=(16, 2, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(16, 2)).astype("float32")
    check_model(
        lambda: build_mlp(
            (2, 3),
            hidden_units=(8, 8),
            num_outputs=2,
            dropout=0.1,
            l2=1e-4,
            batch_norm=True,
        ),
        x,
        y,
    )


def test_layers_and_parameters_follow_the_arguments():
    model = build_mlp(
        3,
        hidden_units=(5, 4),
        num_outputs=2,
        activation="tanh",
        output_activation="softmax",
    )
    assert model.count_params() == (3 * 5 + 5) + (5 * 4 + 4) + (4 * 2 + 2)
    x = np.random.default_rng(0).normal(size=(6, 3)).astype("float32")
    w0, b0, w1, b1, w2, b2 = model.get_weights()
    logits = np.tanh(np.tanh(x @ w0 + b0) @ w1 + b1) @ w2 + b2
    expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(model(x)), expected, atol=1e-5)


def test_fits_xor_exactly():
    keras.utils.set_random_seed(0)
    model = build_mlp(
        2, hidden_units=(8,), activation="tanh", output_activation="sigmoid"
    )
    model.compile(
        keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"]
    )
    # 300 full-batch steps, as one epoch of the data repeated.
    model.fit(
        np.tile(XOR_X, (300, 1)),
        np.tile(XOR_Y, (300, 1)),
        epochs=1,
        batch_size=4,
        shuffle=False,
        verbose=0,
    )
    predicted = (np.asarray(model(XOR_X)) > 0.5).astype("float32")
    np.testing.assert_array_equal(predicted, XOR_Y)


def test_bad_arguments():
    with pytest.raises(ValueError, match="`input_shape` must be .*positive"):
        build_mlp(0)
    with pytest.raises(ValueError, match="`hidden_units` must be .*positive"):
        build_mlp(2, hidden_units=(4, 0))
    with pytest.raises(ValueError, match="`num_outputs` must be a positive"):
        build_mlp(2, num_outputs=0)
    with pytest.raises(ValueError, match=r"`dropout` must be .*\[0, 1\)"):
        build_mlp(2, dropout=1.0)
    with pytest.raises(ValueError, match="`l2` must be .*>= 0"):
        build_mlp(2, l2=-1.0)
