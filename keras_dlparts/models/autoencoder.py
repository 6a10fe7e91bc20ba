"""Dense and convolutional (denoising) autoencoders."""

import math

import keras

from keras_dlparts import _validation as args

_KINDS = ("dense", "conv")
_UPSAMPLING = ("transpose", "resize")


def _check_arguments(
    input_shape,
    latent_dim,
    kind,
    upsampling,
    denoising,
    hidden_units,
    filters,
    activation,
    output_activation,
    batch_norm_momentum,
):
    """Checks every argument, naming it; returns the shape and sizes."""
    input_shape = args.positive_ints("input_shape", input_shape)
    args.positive_int("latent_dim", latent_dim)
    args.one_of("kind", kind, _KINDS)
    args.one_of("upsampling", upsampling, _UPSAMPLING)
    # Keras's GaussianNoise takes a standard deviation in [0, 1].
    args.fraction("denoising", denoising)
    hidden_units = args.positive_ints("hidden_units", hidden_units)
    filters = args.positive_ints("filters", filters)
    args.keras_lookup("activation", activation, "activations")
    args.keras_lookup("output_activation", output_activation, "activations")
    args.fraction("batch_norm_momentum", batch_norm_momentum)
    if kind == "conv":
        args.sequence(
            "input_shape",
            input_shape,
            (3,),
            "(height, width, channels) for kind='conv'",
        )
        args.image_sides(
            "input_shape",
            input_shape,
            multiple=2 ** len(filters),
            why=f" (2 ** len(filters) with filters={filters})",
        )
    return input_shape, hidden_units, filters


def _dense_halves(input_shape, latent_dim, hidden_units, activation):
    encoder = keras.Sequential(name="encoder")
    encoder.add(keras.Input(input_shape))
    encoder.add(keras.layers.Flatten())
    for units in hidden_units:
        encoder.add(keras.layers.Dense(units, activation=activation))
    encoder.add(keras.layers.Dense(latent_dim, name="code"))
    decoder = keras.Sequential(name="decoder")
    decoder.add(keras.Input((latent_dim,)))
    for units in reversed(hidden_units):
        decoder.add(keras.layers.Dense(units, activation=activation))
    return (
        encoder,
        decoder,
        [
            keras.layers.Dense(math.prod(input_shape)),
            keras.layers.Reshape(input_shape),
        ],
    )


def _conv_halves(input_shape, latent_dim, filters, upsampling, momentum):
    height, width, channels = input_shape
    factor = 2 ** len(filters)
    encoder = keras.Sequential(name="encoder")
    encoder.add(keras.Input(input_shape))
    for f in filters:
        encoder.add(keras.layers.Conv2D(f, 3, strides=2, padding="same"))
        encoder.add(keras.layers.LeakyReLU(0.2))
        encoder.add(keras.layers.BatchNormalization(momentum=momentum))
    encoder.add(keras.layers.Flatten())
    encoder.add(keras.layers.Dense(latent_dim, name="code"))
    decoder = keras.Sequential(name="decoder")
    decoder.add(keras.Input((latent_dim,)))
    decoder.add(
        keras.layers.Dense(height // factor * width // factor * filters[-1])
    )
    decoder.add(
        keras.layers.Reshape((height // factor, width // factor, filters[-1]))
    )
    for f in reversed(filters):
        if upsampling == "transpose":
            decoder.add(
                keras.layers.Conv2DTranspose(f, 3, strides=2, padding="same")
            )
        else:
            decoder.add(keras.layers.UpSampling2D(2, interpolation="nearest"))
            decoder.add(keras.layers.Conv2D(f, 3, padding="same"))
        decoder.add(keras.layers.LeakyReLU(0.2))
        decoder.add(keras.layers.BatchNormalization(momentum=momentum))
    return encoder, decoder, [keras.layers.Conv2D(channels, 3, padding="same")]


def build_autoencoder(
    input_shape,
    latent_dim,
    kind="dense",
    upsampling="transpose",
    denoising=0.0,
    hidden_units=(128,),
    filters=(32, 64),
    activation="relu",
    output_activation="sigmoid",
    batch_norm_momentum=0.9,
    name="autoencoder",
):
    """Builds a dense or convolutional autoencoder, optionally denoising.

    The model maps `x` to a reconstruction `x_hat = decoder(encoder(x))`
    through a `latent_dim` bottleneck; train it with
    `fit(x, x, loss="mse")` (or `"binary_crossentropy"` for inputs in
    [0, 1]). Its two halves are nested models named `"encoder"` (input to
    code) and `"decoder"` (code to reconstruction), reachable with
    `model.get_layer("encoder")`.

    - `kind="dense"`: Flatten, `Dense(hidden_units...)`, `Dense(latent_dim)`
      and the mirror image back.
    - `kind="conv"`: for each entry of `filters`, a stride-2 `Conv2D` +
      `LeakyReLU` + `BatchNormalization` block, then `Dense(latent_dim)`.
      The decoder mirrors it with `Conv2DTranspose` (`upsampling=
      "transpose"`) or with nearest-neighbour `UpSampling2D` + `Conv2D`
      (`upsampling="resize"`, which avoids the checkerboard artefacts of
      strided transposed convolutions), then a 3x3 `Conv2D` to the input
      channels.
    - `denoising=s > 0` puts `GaussianNoise(s)` on the input: in training
      the model sees `x + N(0, s^2)` and learns to restore `x` (a denoising
      autoencoder); at inference the noise is off.

    Args:
        input_shape: shape of one sample, e.g. `(64,)` or `(8, 8, 1)`.
        latent_dim: positive int, size of the code.
        kind: `"dense"` or `"conv"`.
        upsampling: `"transpose"` or `"resize"` (conv decoder only).
        denoising: float in [0, 1], the input noise's standard deviation
            (0: no noise).
        hidden_units: dense hidden layer sizes of the encoder (mirrored in
            the decoder), used by `kind="dense"` (checked always).
        filters: conv filters per downsampling block, used by
            `kind="conv"` (checked always); height and width must be
            divisible by `2 ** len(filters)`.
        activation: activation of the dense hidden layers.
        output_activation: activation of the reconstruction (`"sigmoid"`
            for inputs in [0, 1], `None` for unbounded inputs).
        batch_norm_momentum: momentum in [0, 1] of the conv blocks' moving
            statistics (0.9 suits small data sets).
        name: the model's name.

    Returns:
        An uncompiled `keras.Model` from inputs to reconstructions.

    Examples:

        >>> model = build_autoencoder((8, 8, 1), latent_dim=4, kind="conv",
        ...                           filters=(8,), upsampling="resize")
        >>> model.output_shape
        (None, 8, 8, 1)
        >>> model.get_layer("encoder").output_shape
        (None, 4)
    """
    input_shape, hidden_units, filters = _check_arguments(
        input_shape,
        latent_dim,
        kind,
        upsampling,
        denoising,
        hidden_units,
        filters,
        activation,
        output_activation,
        batch_norm_momentum,
    )
    if kind == "dense":
        encoder, decoder, head = _dense_halves(
            input_shape, latent_dim, hidden_units, activation
        )
    else:
        encoder, decoder, head = _conv_halves(
            input_shape, latent_dim, filters, upsampling, batch_norm_momentum
        )
    for layer in head:
        decoder.add(layer)
    decoder.add(keras.layers.Activation(output_activation, dtype="float32"))
    inputs = keras.Input(input_shape, name="inputs")
    x = inputs
    if denoising > 0.0:
        x = keras.layers.GaussianNoise(float(denoising), name="input_noise")(x)
    outputs = decoder(encoder(x))
    return keras.Model(inputs, outputs, name=name)
