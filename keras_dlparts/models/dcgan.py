"""DCGAN generator and discriminator builders (Radford et al., 2016)."""

import math

import keras

from keras_dlparts import _validation as args
from keras_dlparts.layers.minibatch_std import MinibatchStdDev


def _check_common(image_shape, filters, num_classes):
    """Checks the arguments both halves share; returns them and the scale."""
    image_shape = args.image_shape(image_shape, "image_shape")
    filters = args.positive_ints("filters", filters)
    factor = 2 ** len(filters)
    args.image_sides(
        "image_shape",
        image_shape,
        multiple=factor,
        why=f" (2 ** len(filters) with filters={filters})",
    )
    if num_classes is not None:
        args.positive_int("num_classes", num_classes, minimum=2)
    return image_shape, filters, factor


def build_dcgan_generator(
    latent_dim,
    image_shape=(8, 8, 1),
    filters=(64, 32),
    num_classes=None,
    output_activation="sigmoid",
    name="generator",
):
    """Builds a DCGAN generator: Dense, then transposed convolutions.

    `z (latent_dim)` -> `Dense` to a `(h / 2^k, w / 2^k, filters[0])` map
    -> BatchNorm + ReLU, then for each entry of `filters` a stride-2
    `Conv2DTranspose(5x5)` + BatchNorm + ReLU (each doubles the size), then
    a 3x3 `Conv2D` to the image channels with `output_activation`
    (`"sigmoid"` for images in [0, 1]). With `num_classes`, the model takes
    `[z, labels]` and concatenates a learned label embedding of size
    `latent_dim` to `z` (conditional GAN).

    Args:
        latent_dim: positive int, size of the codes.
        image_shape: `(height, width, channels)`, both sides divisible by
            `2 ** len(filters)`; `(8, 8, 1)` for scikit-learn's digits.
        filters: filters of the upsampling blocks, from coarse to fine.
        num_classes: `None` or int >= 2, the number of label classes.
        output_activation: activation of the images.
        name: the model's name.

    Returns:
        A `keras.Model` from `z` (or `[z, labels]`) to images.

    Examples:

        >>> g = build_dcgan_generator(16, (8, 8, 1), filters=(8, 4))
        >>> g.output_shape
        (None, 8, 8, 1)
    """
    args.positive_int("latent_dim", latent_dim)
    image_shape, filters, factor = _check_common(
        image_shape, filters, num_classes
    )
    args.keras_lookup("output_activation", output_activation, "activations")
    height, width = image_shape[0] // factor, image_shape[1] // factor
    z = keras.Input((latent_dim,), name="z")
    inputs, h = z, z
    if num_classes is not None:
        labels = keras.Input((), dtype="int32", name="labels")
        embedding = keras.layers.Embedding(num_classes, latent_dim)(labels)
        h = keras.layers.Concatenate()([z, embedding])
        inputs = [z, labels]
    h = keras.layers.Dense(height * width * filters[0], use_bias=False)(h)
    h = keras.layers.Reshape((height, width, filters[0]))(h)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU()(h)
    for f in filters:
        h = keras.layers.Conv2DTranspose(
            f, 5, strides=2, padding="same", use_bias=False
        )(h)
        h = keras.layers.BatchNormalization()(h)
        h = keras.layers.ReLU()(h)
    h = keras.layers.Conv2D(image_shape[-1], 3, padding="same")(h)
    images = keras.layers.Activation(output_activation, dtype="float32")(h)
    return keras.Model(inputs, images, name=name)


def build_dcgan_discriminator(
    image_shape=(8, 8, 1),
    filters=(32, 64),
    num_classes=None,
    dropout=0.3,
    spectral_norm=False,
    minibatch_std=None,
    name="discriminator",
):
    """Builds a DCGAN discriminator: strided convolutions to one logit.

    For each entry of `filters` a stride-2 `Conv2D(5x5)` + `LeakyReLU(0.2)`
    + `Dropout`, then Flatten and `Dense(1)` giving a logit (no sigmoid:
    the GAN losses take logits). With `num_classes`, the model takes
    `[images, labels]` and appends a learned per-pixel label map as an extra
    channel.

    Two standard remedies against mode collapse are options:
    `spectral_norm=True` wraps every `Conv2D` and the `Dense` in
    `keras.layers.SpectralNormalization` (Miyato et al., 2018: each
    weight divided by its largest singular value, one power iteration
    per training step), and `minibatch_std=g` appends a
    `layers.MinibatchStdDev(g)` channel (Karras et al., 2018) after the
    last block, before `Flatten`.

    Args:
        image_shape: `(height, width, channels)`, both sides divisible by
            `2 ** len(filters)`.
        filters: filters of the downsampling blocks.
        num_classes: `None` or int >= 2, the number of label classes.
        dropout: float in [0, 1), dropout after each block.
        spectral_norm: bool, spectral normalisation of the weights.
        minibatch_std: `None` or the positive int group size of a
            minibatch standard deviation channel.
        name: the model's name.

    Returns:
        A `keras.Model` from images (or `[images, labels]`) to logits
        `(batch, 1)`, computed in float32.

    Examples:

        >>> d = build_dcgan_discriminator((8, 8, 1), filters=(8, 16))
        >>> d.output_shape
        (None, 1)
    """
    image_shape, filters, _ = _check_common(image_shape, filters, num_classes)
    args.rate("dropout", dropout)
    args.boolean("spectral_norm", spectral_norm)
    if minibatch_std is not None:
        args.positive_int("minibatch_std", minibatch_std)

    def weighted(layer, **kwargs):
        if spectral_norm:
            return keras.layers.SpectralNormalization(layer, **kwargs)
        return layer

    images = keras.Input(image_shape, name="images")
    inputs, h = images, images
    if num_classes is not None:
        labels = keras.Input((), dtype="int32", name="labels")
        pixels = math.prod(image_shape[:2])
        label_map = keras.layers.Embedding(num_classes, pixels)(labels)
        label_map = keras.layers.Reshape(image_shape[:2] + (1,))(label_map)
        h = keras.layers.Concatenate()([images, label_map])
        inputs = [images, labels]
    for f in filters:
        h = weighted(keras.layers.Conv2D(f, 5, strides=2, padding="same"))(h)
        h = keras.layers.LeakyReLU(0.2)(h)
        if dropout:
            h = keras.layers.Dropout(dropout)(h)
    if minibatch_std is not None:
        h = MinibatchStdDev(minibatch_std)(h)
    h = keras.layers.Flatten()(h)
    logits = weighted(keras.layers.Dense(1, dtype="float32"), dtype="float32")(
        h
    )
    return keras.Model(inputs, logits, name=name)
