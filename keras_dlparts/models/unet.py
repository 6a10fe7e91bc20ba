"""U-Net (Ronneberger et al., 2015) for dense, per-pixel prediction."""

import keras

from keras_dlparts import _validation as args

_UPSAMPLING = ("transpose", "resize")


def _double_conv(x, filters, batch_norm, prefix):
    for i in (1, 2):
        x = keras.layers.Conv2D(
            filters,
            3,
            padding="same",
            use_bias=not batch_norm,
            name=f"{prefix}_conv{i}",
        )(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"{prefix}_bn{i}")(x)
        x = keras.layers.Activation("relu", name=f"{prefix}_relu{i}")(x)
    return x


def build_unet(
    image_shape=(128, 128, 1),
    num_classes=1,
    filters=(64, 128, 256, 512),
    bottleneck_filters=None,
    batch_norm=True,
    upsampling="transpose",
    dropout=0.0,
    output_activation="auto",
    name="unet",
):
    """Builds a U-Net: an encoder-decoder whose decoder sees encoder features.

    Each encoder level is two 3x3 "same" convolutions (with ReLU, optionally
    batch normalisation) followed by 2x2 max pooling; the bottleneck is two
    convolutions with `bottleneck_filters` (default twice the last level).
    Each decoder level upsamples by 2 (a 2x2 stride-2 transposed
    convolution, or with `upsampling="resize"` bilinear resizing followed
    by a 3x3 convolution, which avoids checkerboard artefacts),
    concatenates the encoder features of the same size (the skip
    connection) and applies two convolutions. A 1x1 convolution gives
    `num_classes` maps of the input's height and width.

    Args:
        image_shape: `(height, width, channels)`; height and width must be
            multiples of `2**len(filters)`.
        num_classes: positive integer, output channels.
        filters: sequence of positive integers, filters per encoder level.
        bottleneck_filters: optional positive integer.
        batch_norm: boolean, batch normalisation after each convolution.
        upsampling: "transpose" or "resize".
        dropout: float in [0, 1), dropout before the bottleneck.
        output_activation: activation of the output; "auto" is sigmoid for
            one class and softmax otherwise; `None` gives logits.
        name: model name.

    Returns:
        An uncompiled `keras.Model` mapping `(batch, h, w, c)` images to
        `(batch, h, w, num_classes)` maps.

    Examples:

        >>> from keras_dlparts.models import build_unet
        >>> build_unet((16, 16, 1), filters=(4, 8)).output_shape
        (None, 16, 16, 1)
    """
    image_shape = args.image_shape(image_shape)
    filters = args.positive_ints("filters", filters)
    args.positive_int("num_classes", num_classes)
    if bottleneck_filters is None:
        bottleneck_filters = 2 * filters[-1]
    args.positive_int("bottleneck_filters", bottleneck_filters)
    args.boolean("batch_norm", batch_norm)
    args.one_of("upsampling", upsampling, _UPSAMPLING)
    dropout = args.rate("dropout", dropout)
    if output_activation != "auto":
        args.keras_lookup("output_activation", output_activation, "activations")
    args.image_sides(
        "image_shape",
        image_shape,
        multiple=2 ** len(filters),
        why=f" (2 ** len(filters) with filters={filters})",
    )
    if output_activation == "auto":
        output_activation = "sigmoid" if num_classes == 1 else "softmax"

    inputs = keras.Input(image_shape, name="image")
    x = inputs
    skips = []
    for level, level_filters in enumerate(filters, start=1):
        x = _double_conv(x, level_filters, batch_norm, f"encoder{level}")
        skips.append(x)
        x = keras.layers.MaxPooling2D(2, name=f"encoder{level}_pool")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="bottleneck_dropout")(x)
    x = _double_conv(x, bottleneck_filters, batch_norm, "bottleneck")
    for level in range(len(filters), 0, -1):
        level_filters = filters[level - 1]
        prefix = f"decoder{level}"
        if upsampling == "transpose":
            x = keras.layers.Conv2DTranspose(
                level_filters, 2, strides=2, name=f"{prefix}_up"
            )(x)
        else:
            x = keras.layers.UpSampling2D(
                2, interpolation="bilinear", name=f"{prefix}_resize"
            )(x)
            x = keras.layers.Conv2D(
                level_filters, 3, padding="same", name=f"{prefix}_up"
            )(x)
        x = keras.layers.Concatenate(name=f"{prefix}_concat")(
            [skips[level - 1], x]
        )
        x = _double_conv(x, level_filters, batch_norm, prefix)
    outputs = keras.layers.Conv2D(
        num_classes, 1, activation=output_activation, name="segmentation"
    )(x)
    return keras.Model(inputs, outputs, name=name)
