import keras
import numpy as np
import pytest

from keras_dlparts._autodiff import value_and_gradients
from keras_dlparts.layers import Perceptron
from keras_dlparts.testing import check_layer


def _reference(layer, x):
    z = x @ layer.kernel.numpy() + layer.bias.numpy()
    return (z > 0).astype("float32")


@pytest.mark.slow
def test_contract_with_straight_through_gradients():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(160, 3)).astype("float32")
    # The same start on every backend, kernel 0.5 and bias 0, and inputs
    # away from the threshold (|x W| > 0.3): 16-bit outputs then match.
    x = x[np.abs(0.5 * x.sum(axis=1)) > 0.3][:64]
    teacher = np.array([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.3]], "float32")
    targets = (x @ teacher > 0).astype("float32")
    # 0/1 targets: the straight-through gradient of the squared error is
    # the perceptron rule, so the fit checks train the step outputs.
    check_layer(
        Perceptron,
        {"units": 2, "kernel_initializer": keras.initializers.Constant(0.5)},
        x,
        reference=_reference,
        targets=targets,
        learning_rate=0.1,
    )


def test_outputs_are_exactly_zero_or_one_in_float16():
    layer = Perceptron(3, dtype="mixed_float16")
    out = np.asarray(layer(np.random.default_rng(2).normal(size=(50, 4))))
    assert out.dtype == np.float16
    assert set(np.unique(out)) <= {0.0, 1.0}


def test_straight_through_gradient_is_the_perceptron_rule():
    layer = Perceptron(1, kernel_initializer="zeros")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
    a = np.array([[0], [0], [0], [1]], "float32")
    layer.build(x.shape)
    _, (grad_kernel, grad_bias) = value_and_gradients(
        lambda: (0.5 * keras.ops.sum((layer(x) - a) ** 2), None),
        [layer.kernel, layer.bias],
    )
    f = _reference(layer, x)
    np.testing.assert_allclose(-np.asarray(grad_kernel), x.T @ (a - f))
    np.testing.assert_allclose(-np.asarray(grad_bias), (a - f).sum(0))


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="`units` must be a positive integer"):
        Perceptron(0)
    with pytest.raises(TypeError, match="`units` must be a positive integer"):
        Perceptron("1")
    with pytest.raises(ValueError, match="`kernel_initializer`"):
        Perceptron(1, kernel_initializer="nope")
    with pytest.raises(ValueError, match="`bias_initializer`"):
        Perceptron(1, bias_initializer="nope")
    layer = Perceptron(1)
    layer(np.ones((2, 3), "float32"))
    with pytest.raises(
        ValueError, match="`inputs` must have size 3 along axis -1"
    ):
        layer(np.ones((2, 2), "float32"))
    with pytest.raises(ValueError, match="rank >= 2"):
        Perceptron(1).build((4,))


def test_config_serializes_initializers_and_loads_plain_strings():
    config = Perceptron(2, kernel_initializer="ones").get_config()
    assert config["kernel_initializer"] == keras.initializers.serialize(
        keras.initializers.Ones()
    )
    # Configs saved with the initializer as a plain string still load.
    layer = Perceptron.from_config({**config, "bias_initializer": "ones"})
    layer.build((None, 3))
    np.testing.assert_array_equal(layer.bias.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(layer.kernel.numpy(), np.ones((3, 2)))
