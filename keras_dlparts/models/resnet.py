"""ResNet-18/34/50 (He et al., 2016) built from `layers.ResidualBlock`."""

import keras

from keras_dlparts import _validation as args
from keras_dlparts.layers.residual import _KINDS
from keras_dlparts.layers.residual import ResidualBlock
from keras_dlparts.models._stem import imagenet_stem

#: Blocks per stage and block kind for the standard depths.
RESNET_DEPTHS = {
    18: ((2, 2, 2, 2), "basic"),
    34: ((3, 4, 6, 3), "basic"),
    50: ((3, 4, 6, 3), "bottleneck"),
}


def build_resnet(
    depth=50,
    image_shape=(224, 224, 3),
    num_classes=1000,
    width=64,
    blocks_per_stage=None,
    kind=None,
    classifier_activation="softmax",
    use_bias=True,
    name=None,
):
    """Builds a ResNet v1 classifier.

    The stem is conv7x7/2 (64 filters) - BN - ReLU - maxpool3x3/2, as in
    `keras.applications.ResNet50`; then one stage per entry of the block
    counts, stage `s` having `width * 2**s` filters and stride 2 from the
    second stage on; then global average pooling and a dense classifier.
    With `depth=50`, ImageNet shapes and the defaults, the model has exactly
    the parameters of `keras.applications.ResNet50(weights=None)`
    (25,636,712), the convolutions having biases as there.

    Args:
        depth: 18, 34 or 50; ignored where `blocks_per_stage` and `kind`
            are both given.
        image_shape: `(height, width, channels)`.
        num_classes: positive integer, the classifier's outputs.
        width: positive integer, filters of the stem and the first stage.
        blocks_per_stage: optional sequence of positive integers overriding
            the depth's stage sizes (e.g. `(1, 1)` for a tiny model).
        kind: optional "basic" or "bottleneck" overriding the depth's block.
        classifier_activation: activation of the output (`None` for logits).
        use_bias: boolean, whether the convolutions have biases.
        name: optional model name (default `f"resnet{depth}"`).

    Returns:
        An uncompiled `keras.Model` from images to class scores.

    Examples:

        >>> from keras_dlparts.models import build_resnet
        >>> model = build_resnet(18, image_shape=(16, 16, 3), num_classes=2,
        ...                      width=4, blocks_per_stage=(1, 1))
        >>> model.output_shape
        (None, 2)
    """
    if blocks_per_stage is None or kind is None:
        args.positive_int("depth", depth)
        default_blocks, default_kind = RESNET_DEPTHS[
            args.one_of("depth", depth, tuple(RESNET_DEPTHS))
        ]
        if blocks_per_stage is None:
            blocks_per_stage = default_blocks
        if kind is None:
            kind = default_kind
    blocks = args.positive_ints("blocks_per_stage", blocks_per_stage)
    args.one_of("kind", kind, _KINDS)
    image_shape = args.image_shape(image_shape)
    args.positive_int("num_classes", num_classes)
    args.positive_int("width", width)
    args.keras_lookup(
        "classifier_activation", classifier_activation, "activations"
    )
    args.boolean("use_bias", use_bias)

    inputs = keras.Input(image_shape, name="image")
    x = imagenet_stem(inputs, width, use_bias=use_bias)
    for stage, count in enumerate(blocks):
        for block in range(count):
            x = ResidualBlock(
                width * 2**stage,
                kind=kind,
                strides=2 if stage > 0 and block == 0 else 1,
                use_bias=use_bias,
                name=f"stage{stage + 1}_block{block + 1}",
            )(x)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(
        num_classes, activation=classifier_activation, name="predictions"
    )(x)
    return keras.Model(inputs, outputs, name=name or f"resnet{depth}")
