"""Plain convolutional classifiers: LeNet-5 and VGG."""

import keras

from keras_dlparts import _validation as args

#: (filters, convolutions) per block for the standard VGG depths.
VGG_DEPTHS = {
    11: ((64, 1), (128, 1), (256, 2), (512, 2), (512, 2)),
    13: ((64, 2), (128, 2), (256, 2), (512, 2), (512, 2)),
    16: ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)),
    19: ((64, 2), (128, 2), (256, 4), (512, 4), (512, 4)),
}


def build_lenet5(
    image_shape=(32, 32, 1),
    num_classes=10,
    activation="tanh",
    classifier_activation="softmax",
    name="lenet5",
):
    """Builds LeNet-5 (LeCun et al., 1998).

    conv5x5(6) - avgpool2 - conv5x5(16) - avgpool2 - dense(120) - dense(84)
    - dense(num_classes); 61,706 parameters for 32x32x1 inputs and ten
    classes. Inputs of at least 16x16 work (28x28 digits too).

    Args:
        image_shape: `(height, width, channels)`.
        num_classes: positive integer, the classifier's outputs.
        activation: activation of the hidden layers (`tanh` as in 1998).
        classifier_activation: activation of the output (`None` for logits).
        name: model name.

    Returns:
        An uncompiled `keras.Model`.

    Examples:

        >>> from keras_dlparts.models import build_lenet5
        >>> build_lenet5().count_params()
        61706
    """
    image_shape = args.image_shape(image_shape)
    args.image_sides("image_shape", image_shape, minimum=16, why=" (LeNet-5)")
    args.positive_int("num_classes", num_classes)
    args.keras_lookup("activation", activation, "activations")
    args.keras_lookup(
        "classifier_activation", classifier_activation, "activations"
    )
    inputs = keras.Input(image_shape, name="image")
    x = keras.layers.Conv2D(6, 5, activation=activation, name="c1")(inputs)
    x = keras.layers.AveragePooling2D(2, name="s2")(x)
    x = keras.layers.Conv2D(16, 5, activation=activation, name="c3")(x)
    x = keras.layers.AveragePooling2D(2, name="s4")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(120, activation=activation, name="c5")(x)
    x = keras.layers.Dense(84, activation=activation, name="f6")(x)
    outputs = keras.layers.Dense(
        num_classes, activation=classifier_activation, name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=name)


def build_vgg(
    depth=16,
    image_shape=(224, 224, 3),
    num_classes=1000,
    blocks=None,
    dense_units=4096,
    dropout=0.0,
    batch_norm=False,
    classifier_activation="softmax",
    name=None,
):
    """Builds a VGG network (Simonyan & Zisserman, 2015).

    Blocks of 3x3 "same" convolutions with ReLU, each block closed by a
    2x2 max pooling, then flatten - dense - dense - dense classifier. With
    `depth=16`, the defaults and ImageNet shapes this is the architecture of
    `keras.applications.VGG16` (138,357,544 parameters).

    Args:
        depth: 11, 13, 16 or 19; ignored where `blocks` is given.
        image_shape: `(height, width, channels)`, at least `2**len(blocks)`
            on each side.
        num_classes: positive integer, the classifier's outputs.
        blocks: optional sequence of `(filters, convolutions)` pairs.
        dense_units: positive integer, units of the two hidden dense layers.
        dropout: float in [0, 1), dropout after each hidden dense layer.
        batch_norm: boolean, batch normalisation after each convolution.
        classifier_activation: activation of the output (`None` for logits).
        name: optional model name (default `f"vgg{depth}"`).

    Returns:
        An uncompiled `keras.Model`.

    Examples:

        >>> from keras_dlparts.models import build_vgg
        >>> model = build_vgg(image_shape=(8, 8, 3), num_classes=2,
        ...                   blocks=((4, 1), (8, 2)), dense_units=16)
        >>> model.output_shape
        (None, 2)
    """
    blocks = _vgg_blocks(depth, blocks)
    image_shape = args.image_shape(image_shape)
    args.image_sides(
        "image_shape",
        image_shape,
        minimum=2 ** len(blocks),
        why=f" for {len(blocks)} pooling blocks",
    )
    args.positive_int("num_classes", num_classes)
    args.positive_int("dense_units", dense_units)
    dropout = args.rate("dropout", dropout)
    args.boolean("batch_norm", batch_norm)
    args.keras_lookup(
        "classifier_activation", classifier_activation, "activations"
    )

    inputs = keras.Input(image_shape, name="image")
    x = inputs
    for b, (filters, count) in enumerate(blocks):
        for c in range(count):
            prefix = f"block{b + 1}_conv{c + 1}"
            x = keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                activation=None if batch_norm else "relu",
                name=prefix,
            )(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(name=f"{prefix}_bn")(x)
                x = keras.layers.Activation("relu", name=f"{prefix}_relu")(x)
        x = keras.layers.MaxPooling2D(2, name=f"block{b + 1}_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    for i in (1, 2):
        x = keras.layers.Dense(dense_units, activation="relu", name=f"fc{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
    outputs = keras.layers.Dense(
        num_classes, activation=classifier_activation, name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=name or f"vgg{depth}")


def _vgg_blocks(depth, blocks):
    """The checked `(filters, convolutions)` pairs of a VGG."""
    if blocks is None:
        args.positive_int("depth", depth)
        return VGG_DEPTHS[args.one_of("depth", depth, tuple(VGG_DEPTHS))]
    pairs = "a non-empty sequence of (filters, convolutions) pairs"
    blocks = args.sequence("blocks", blocks, what=pairs)
    if not blocks:
        raise ValueError(
            f"Argument `blocks` must be {pairs}. Received: blocks=()"
        )
    for index, block in enumerate(blocks):
        pair = "a pair (filters, convolutions)"
        filters, count = args.sequence(f"blocks[{index}]", block, (2,), pair)
        args.positive_int(f"blocks[{index}] filters", filters)
        args.positive_int(f"blocks[{index}] convolutions", count)
    return tuple(tuple(b) for b in blocks)
