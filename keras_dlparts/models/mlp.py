"""Multilayer perceptron builder."""

import keras

from keras_dlparts import _validation as args


def _as_shape(input_shape):
    """`input_shape` (an int or a tuple of them) as a checked tuple."""
    return args.positive_ints("input_shape", input_shape)


def build_mlp(
    input_shape,
    hidden_units=(64,),
    num_outputs=1,
    activation="relu",
    output_activation=None,
    dropout=0.0,
    l2=0.0,
    batch_norm=False,
    kernel_initializer="glorot_uniform",
    name="mlp",
):
    """Builds a multilayer perceptron (fully connected network).

    `x -> [Dense(units) -> (BatchNorm) -> activation -> (Dropout)] * n ->
    Dense(num_outputs, output_activation)`; inputs of rank > 1 are
    flattened first. With one hidden layer of enough units it approximates
    any continuous function on a compact set (universal approximation) and,
    unlike a perceptron, fits XOR.

    Args:
        input_shape: the input dimension (an int) or shape (a tuple),
            without the batch axis.
        hidden_units: sizes of the hidden layers (may be empty).
        num_outputs: size of the output layer.
        activation: activation of the hidden layers.
        output_activation: activation of the output layer (`None`: linear).
        dropout: dropout rate after each hidden layer, in [0, 1).
        l2: L2 weight penalty on every kernel, >= 0.
        batch_norm: whether to normalise each hidden layer's pre-activation.
        kernel_initializer: initializer of every kernel.
        name: name of the model.

    Returns:
        An uncompiled functional `keras.Model`.

    Examples:

        >>> model = build_mlp(2, hidden_units=(8, 8), num_outputs=1,
        ...                   output_activation="sigmoid")
        >>> model.output_shape, model.count_params()
        ((None, 1), 105)
    """
    shape = _as_shape(input_shape)
    hidden_units = args.positive_ints_or_empty("hidden_units", hidden_units)
    args.positive_int("num_outputs", num_outputs)
    args.keras_lookup("activation", activation, "activations")
    args.keras_lookup("output_activation", output_activation, "activations")
    args.rate("dropout", dropout)
    args.non_negative_number("l2", l2)
    args.boolean("batch_norm", batch_norm)
    args.keras_lookup("kernel_initializer", kernel_initializer, "initializers")
    regularizer = keras.regularizers.L2(l2) if l2 else None
    inputs = keras.Input(shape=shape, name="inputs")
    x = keras.layers.Flatten()(inputs) if len(shape) > 1 else inputs
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(
            units,
            use_bias=not batch_norm,
            kernel_initializer=kernel_initializer,
            kernel_regularizer=regularizer,
            name=f"hidden_{i}",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"batch_norm_{i}")(x)
        x = keras.layers.Activation(activation, name=f"activation_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    outputs = keras.layers.Dense(
        num_outputs,
        activation=output_activation,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=regularizer,
        name="outputs",
    )(x)
    return keras.Model(inputs, outputs, name=name)
