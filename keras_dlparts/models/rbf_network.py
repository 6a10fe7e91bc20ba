"""Radial basis function network builder."""

import keras

from keras_dlparts import _validation as args
from keras_dlparts.layers.rbf import RBF
from keras_dlparts.models.mlp import _as_shape


def build_rbf_network(
    input_shape,
    num_centers,
    num_outputs=1,
    gamma=1.0,
    centers=None,
    output_activation=None,
    trainable_centers=True,
    trainable_gamma=True,
    name="rbf_network",
):
    """Builds an RBF network: Gaussian hidden units and a linear read-out.

    `y = g(sum_j a_j exp(-gamma_j |x - c_j|^2) + a_0)` with
    `keras_dlparts.layers.RBF` as the hidden layer (named `"rbf"`) and a
    `Dense` output with activation `g`. The centres are either given
    (`centers`), placed afterwards by k-means with
    `model.get_layer("rbf").adapt(x)`, or left to their initializer. With
    the centres at the four corners of the unit square it solves XOR,
    which no single perceptron can.

    Args:
        input_shape: the input dimension (an int) or `(features,)`.
        num_centers: number of hidden RBF units, a positive integer.
        num_outputs: size of the output layer.
        gamma: initial width of every unit, a positive number.
        centers: `None` or an array shaped `(num_centers, features)`.
        output_activation: activation of the output layer (`None`: linear).
        trainable_centers: whether `fit` moves the centres (and widths).
        trainable_gamma: whether `fit` changes the widths.
        name: name of the model.

    Returns:
        An uncompiled functional `keras.Model`.

    Examples:

        >>> corners = [[0, 0], [0, 1], [1, 0], [1, 1]]
        >>> model = build_rbf_network(2, 4, centers=corners,
        ...                           output_activation="sigmoid")
        >>> model.get_layer("rbf").centers.numpy().tolist() == corners
        True
    """
    shape = _as_shape(input_shape)
    args.sequence("input_shape", shape, (1,), "one-dimensional (features,)")
    args.positive_int("num_centers", num_centers)
    args.positive_int("num_outputs", num_outputs)
    args.positive_number("gamma", gamma)
    if centers is not None:
        centers = args.finite_array("centers", centers, (num_centers, shape[0]))
    args.keras_lookup("output_activation", output_activation, "activations")
    args.boolean("trainable_centers", trainable_centers)
    args.boolean("trainable_gamma", trainable_gamma)
    inputs = keras.Input(shape=shape, name="inputs")
    rbf = RBF(
        num_centers, gamma=gamma, trainable_gamma=trainable_gamma, name="rbf"
    )
    hidden = rbf(inputs)
    rbf.trainable = trainable_centers
    outputs = keras.layers.Dense(
        num_outputs, activation=output_activation, name="outputs"
    )(hidden)
    model = keras.Model(inputs, outputs, name=name)
    if centers is not None:
        rbf.centers.assign(centers)
    return model
