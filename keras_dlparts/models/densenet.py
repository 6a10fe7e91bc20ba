"""DenseNet (Huang et al., 2017) built from `layers.DenseBlock`."""

import keras

from keras_dlparts import _validation as args
from keras_dlparts.layers.dense_block import DenseBlock
from keras_dlparts.layers.dense_block import TransitionLayer
from keras_dlparts.models._stem import imagenet_stem

#: Layers per dense block for the standard depths.
DENSENET_DEPTHS = {
    121: (6, 12, 24, 16),
    169: (6, 12, 32, 32),
    201: (6, 12, 48, 32),
}


def build_densenet(
    depth=121,
    image_shape=(224, 224, 3),
    num_classes=1000,
    blocks=None,
    growth_rate=32,
    compression=0.5,
    bottleneck=True,
    stem_filters=None,
    dropout=0.0,
    classifier_activation="softmax",
    name=None,
):
    """Builds a DenseNet-BC classifier.

    Stem conv7x7/2 (`stem_filters`, default `2 * growth_rate`) - BN - ReLU -
    maxpool3x3/2, then dense blocks separated by transition layers
    (`compression` of the channels kept, size halved), then BN - ReLU -
    global average pooling - dense classifier. With `depth=121`, ImageNet
    shapes and the defaults the model has exactly the parameters of
    `keras.applications.DenseNet121(weights=None)` (8,062,504).

    Args:
        depth: 121, 169 or 201; ignored where `blocks` is given.
        image_shape: `(height, width, channels)`.
        num_classes: positive integer, the classifier's outputs.
        blocks: optional sequence of layers per dense block (custom nets).
        growth_rate: positive integer, channels each dense layer adds.
        compression: float in (0, 1], channels kept by each transition.
        bottleneck: boolean, 1x1 bottleneck convolutions in dense layers.
        stem_filters: optional positive integer, filters of the stem.
        dropout: float in [0, 1), dropout inside the dense layers.
        classifier_activation: activation of the output (`None` for logits).
        name: optional model name (default `f"densenet{depth}"`).

    Returns:
        An uncompiled `keras.Model` from images to class scores.

    Examples:

        >>> from keras_dlparts.models import build_densenet
        >>> model = build_densenet(image_shape=(16, 16, 3), num_classes=2,
        ...                        blocks=(2, 2), growth_rate=4)
        >>> model.output_shape
        (None, 2)
    """
    if blocks is None:
        args.positive_int("depth", depth)
        blocks = DENSENET_DEPTHS[
            args.one_of("depth", depth, tuple(DENSENET_DEPTHS))
        ]
    blocks = args.positive_ints("blocks", blocks)
    image_shape = args.image_shape(image_shape)
    # The stem divides the size by 4 (rounding up), each transition by 2.
    needed = 4 * (2 ** (len(blocks) - 1) - 1) + 1
    args.image_sides(
        "image_shape",
        image_shape,
        minimum=needed,
        why=f" for {len(blocks)} dense blocks (`blocks`={blocks})",
    )
    args.positive_int("num_classes", num_classes)
    args.positive_int("growth_rate", growth_rate)
    args.number(
        "compression", compression, low=0.0, high=1.0, include_low=False
    )
    args.boolean("bottleneck", bottleneck)
    if stem_filters is None:
        stem_filters = 2 * growth_rate
    args.positive_int("stem_filters", stem_filters)
    args.rate("dropout", dropout)
    args.keras_lookup(
        "classifier_activation", classifier_activation, "activations"
    )

    inputs = keras.Input(image_shape, name="image")
    x = imagenet_stem(inputs, stem_filters, use_bias=False)
    for index, num_layers in enumerate(blocks):
        x = DenseBlock(
            num_layers,
            growth_rate,
            bottleneck=bottleneck,
            dropout=dropout,
            name=f"dense_block{index + 1}",
        )(x)
        if index < len(blocks) - 1:
            x = TransitionLayer(compression, name=f"transition{index + 1}")(x)
    x = keras.layers.BatchNormalization(epsilon=1.001e-5, name="final_bn")(x)
    x = keras.layers.Activation("relu", name="final_relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(
        num_classes, activation=classifier_activation, name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=name or f"densenet{depth}")
