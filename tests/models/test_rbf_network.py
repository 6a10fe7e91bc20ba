import keras
import numpy as np
import pytest

from keras_dlparts.models import build_rbf_network
from keras_dlparts.testing import check_model

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
XOR_Y = np.array([[0], [1], [1], [0]], "float32")


@pytest.mark.slow
def test_contract():
    x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(16, 2)).astype("float32")
    check_model(lambda: build_rbf_network(3, 5, num_outputs=2, gamma=0.5), x, y)


def test_output_is_a_linear_readout_of_the_kernel():
    model = build_rbf_network(2, 4, centers=XOR_X, gamma=1.5)
    w, b = model.get_layer("outputs").get_weights()
    squared = ((XOR_X[:, None] - XOR_X[None]) ** 2).sum(-1)
    np.testing.assert_allclose(
        np.asarray(model(XOR_X)), np.exp(-1.5 * squared) @ w + b, atol=1e-5
    )


def test_fits_xor_exactly_with_centres_at_the_corners():
    keras.utils.set_random_seed(0)
    model = build_rbf_network(
        2,
        4,
        centers=XOR_X,
        gamma=1.0,
        output_activation="sigmoid",
        trainable_centers=False,
    )
    model.compile(keras.optimizers.Adam(0.1), "binary_crossentropy")
    # 100 full-batch steps, as one epoch of the data repeated.
    model.fit(
        np.tile(XOR_X, (100, 1)),
        np.tile(XOR_Y, (100, 1)),
        epochs=1,
        batch_size=4,
        shuffle=False,
        verbose=0,
    )
    predicted = (np.asarray(model(XOR_X)) > 0.5).astype("float32")
    np.testing.assert_array_equal(predicted, XOR_Y)
    np.testing.assert_array_equal(model.get_layer("rbf").centers.numpy(), XOR_X)


@pytest.mark.slow
def test_adapt_puts_the_centres_on_the_corners():
    model = build_rbf_network(2, 4)
    model.get_layer("rbf").adapt(XOR_X, seed=0)
    found = sorted(model.get_layer("rbf").centers.numpy().tolist())
    assert found == sorted(XOR_X.tolist())


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"`centers` must have shape \(4, 2\)"):
        build_rbf_network(2, 4, centers=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="must be one-dimensional"):
        build_rbf_network((2, 2), 4)
    with pytest.raises(
        ValueError, match="`num_centers` must be a positive integer"
    ):
        build_rbf_network(2, 0)
