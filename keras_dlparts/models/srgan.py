"""SRGAN (Ledig et al., 2017): super-resolution with a content loss and a GAN.

`SRGAN` trains a generator from low- to high-resolution images against a
discriminator, with `GAN`'s two-optimizer step (its `compile`, losses and
optimizer pair); `build_srgan_generator` (SRResNet) and
`build_srgan_discriminator` build the paper's two networks, small or large.
"""

import math

import keras

from keras_dlparts import _validation as args
from keras_dlparts.layers.pixel_shuffle import PixelShuffle
from keras_dlparts.models._resume import known_output_shape
from keras_dlparts.models.gan import GAN
from keras_dlparts.ops.image_quality import psnr_values

#: The content losses named by a string, and their `keras.losses` classes.
_CONTENT_LOSSES = {
    "mean_squared_error": keras.losses.MeanSquaredError,
    "mse": keras.losses.MeanSquaredError,
    "mean_absolute_error": keras.losses.MeanAbsoluteError,
    "mae": keras.losses.MeanAbsoluteError,
}


def _content_loss(value):
    """A loss object from a name, a config or a callable `(hr, sr)`."""
    if isinstance(value, str):
        args.one_of("content_loss", value, tuple(_CONTENT_LOSSES))
        return _CONTENT_LOSSES[value]()
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    return args.function("content_loss", value)


def _check_networks_agree(generator, discriminator):
    """Refuses a discriminator that cannot take the generator's images."""
    produced = known_output_shape(generator)
    expected = args.model_input_shape(discriminator)
    if not args.shapes_agree(produced, expected):
        raise ValueError(
            "Argument `discriminator` must take the generator's images: its "
            f"input is {expected}, the generator's output {produced}."
        )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class SRGAN(GAN):
    """SRGAN: an upscaler trained with a content loss and a discriminator.

    Ledig et al. (2017). `fit(low_res, high_res)` takes two gradient steps
    per batch, as `GAN` does, with `G(low_res)` as the fake images:

    1. discriminator: minimise `d_loss(D(high_res), D(G(low_res)))` over
       D's weights (`d_optimizer`);
    2. generator: minimise
       `content_loss(high_res, G(low_res)) + adversarial_weight *
       g_loss(D(high_res), D(G(low_res)))` over G's weights
       (`g_optimizer`).

    `compile(d_optimizer, g_optimizer, d_loss, g_loss)` is `GAN.compile`:
    the default losses are the paper's (the discriminator's cross-entropy
    and the generator's `-log D(G(x))`). The content loss is the pixel MSE
    (`"mean_squared_error"`), the absolute error, or a
    `keras_dlparts.losses.PerceptualLoss` on a frozen feature model
    (VGG19's `block5_conv4` in the paper). `fit` and `evaluate` log
    `g_loss` (the generator's objective), `content_loss`,
    `adversarial_loss` (the unweighted `g_loss` term), `d_loss` and `psnr`
    (the mean PSNR of `G(low_res)` against `high_res`, `ops.psnr` with
    `max_val`).

    The paper's recipe has two stages. First train the generator alone on
    the content loss (SRResNet): compile and fit the generator as a plain
    Keras model, `generator.compile("adam", "mse")`,
    `generator.fit(low_res, high_res)`. Then wrap it in an `SRGAN` and fit
    that to add the adversarial loss. With `adversarial_weight=0` the
    generator's updates are those of the content loss alone (the
    discriminator still trains and reports `d_loss`).

    Calling the model upscales: `model(low_res)` (and `predict`) returns
    `G(low_res)`. It draws no codes, so it has no `generate`.

    Args:
        generator: a `keras.Model` from low- to high-resolution images
            (e.g. `build_srgan_generator`).
        discriminator: a `keras.Model` from high-resolution images to
            logits `(batch, 1)` (e.g. `build_srgan_discriminator`).
        content_loss: `"mean_squared_error"` (`"mse"`),
            `"mean_absolute_error"` (`"mae"`), a `keras.losses.Loss` such
            as `PerceptualLoss`, or a callable `(high_res, sr) -> scalar`
            batch mean.
        adversarial_weight: number >= 0, the adversarial term's weight
            (1e-3 in the paper).
        max_val: positive number, the images' dynamic range for the logged
            PSNR (1.0 for images in [0, 1]).
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: a batch of low-resolution images.
        training: Python boolean, passed to the generator.

    Returns:
        The super-resolved images `G(inputs)`.

    Examples:

        >>> import keras, numpy as np
        >>> from keras_dlparts.layers import PixelShuffle
        >>> g = keras.Sequential([keras.Input((4, 4, 1)),
        ...                       keras.layers.Conv2D(4, 3, padding="same"),
        ...                       PixelShuffle(2)])  # or build_srgan_generator
        >>> d = keras.Sequential([keras.Input((8, 8, 1)),
        ...                       keras.layers.Flatten(),
        ...                       keras.layers.Dense(1)])
        >>> srgan = SRGAN(g, d, content_loss="mse", adversarial_weight=1e-3)
        >>> srgan.compile(d_optimizer="adam", g_optimizer="adam")
        >>> rng = np.random.default_rng(0)
        >>> high = rng.random((8, 8, 8, 1)).astype("float32")
        >>> low = high.reshape(8, 4, 2, 4, 2, 1).mean(axis=(2, 4))
        >>> sorted(srgan.fit(low, high, epochs=1, verbose=0).history)
        ['adversarial_loss', 'content_loss', 'd_loss', 'g_loss', 'psnr']
        >>> tuple(srgan.predict(low, verbose=0).shape)
        (8, 8, 8, 1)
    """

    def __init__(
        self,
        generator,
        discriminator,
        content_loss="mean_squared_error",
        adversarial_weight=1e-3,
        max_val=1.0,
        **kwargs,
    ):
        args.keras_object("generator", generator, keras.Model)
        args.keras_object("discriminator", discriminator, keras.Model)
        _check_networks_agree(generator, discriminator)
        loss = _content_loss(content_loss)
        args.non_negative_number("adversarial_weight", adversarial_weight)
        args.positive_number("max_val", max_val)
        # GAN's constructor takes the codes' size and seed; SRGAN has none.
        super(GAN, self).__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.content_loss = loss
        self._content_loss_config = (
            content_loss
            if isinstance(content_loss, str)
            else keras.saving.serialize_keras_object(loss)
        )
        self.adversarial_weight = float(adversarial_weight)
        self.max_val = float(max_val)
        self.trackers = [
            keras.metrics.Mean(name=name)
            for name in (
                "g_loss",
                "content_loss",
                "adversarial_loss",
                "d_loss",
                "psnr",
            )
        ]
        self.built = generator.built and discriminator.built

    # -- GAN's hooks: the low-resolution images condition the generator ----

    def _split_batch(self, data):
        low, high, _ = keras.utils.unpack_x_y_sample_weight(data)
        if high is None:
            low, high = args.sequence(
                "x",
                low,
                (2,),
                "(low_res, high_res) when no targets come: call "
                "`fit(low_res, high_res)`",
            )
        args.fits_input("low_res", low, self.generator)
        args.fits_input("high_res", high, self.discriminator)
        args.same_batch_size(("low_res", low), ("high_res", high))
        return high, low

    def _codes(self, batch_size):
        return None

    def _generate(self, z, condition, training):
        return self.generator(condition, training=training)

    def _discriminate(self, samples, condition, training):
        return self.discriminator(samples, training=training)

    def _generator_objective(self, real, fake, real_logits, fake_logits, net):
        content_objective, content = self._objective_and_loss(
            self.content_loss, self.content_loss(real, fake), net
        )
        adversarial_objective, adversarial = self._objective_and_loss(
            self.g_loss_fn, self.g_loss_fn(real_logits, fake_logits), None
        )
        weight = self.adversarial_weight
        logs = {
            "g_loss": content + weight * adversarial,
            "content_loss": content,
            "adversarial_loss": adversarial,
            "psnr": psnr_values(
                real, fake, self.max_val, names=("high_res", "sr")
            ),
        }
        return content_objective + weight * adversarial_objective, logs

    # -- Keras API -----------------------------------------------------------

    def call(self, inputs, training=None):
        # An empty batch is refused: TensorFlow's eager convolutions
        # return wrong shapes for one.
        args.data_batch("inputs", inputs)
        args.fits_input("inputs", inputs, self.generator)
        return self.generator(inputs, training=training)

    @property
    def metrics(self):
        return list(self.trackers)

    def generate(self, *unused, **unused_kwargs):
        """Not available: SRGAN upscales given images, it draws no codes."""
        raise TypeError(
            "SRGAN has no `generate`: it upscales given images. Call "
            "`model(low_res)` or `model.predict(low_res)`."
        )

    def get_config(self):
        config = super(GAN, self).get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(
                    self.generator
                ),
                "discriminator": keras.saving.serialize_keras_object(
                    self.discriminator
                ),
                "content_loss": self._content_loss_config,
                "adversarial_weight": self.adversarial_weight,
                "max_val": self.max_val,
            }
        )
        return config


def _power_of_two(name, value):
    """Returns `value` if it is a power of two >= 2."""
    args.positive_int(name, value, minimum=2)
    if value & (value - 1):
        raise ValueError(
            f"Argument `{name}` must be a power of two (2, 4, 8, ...): each "
            f"PixelShuffle stage doubles the size. Received: {name}={value!r}"
        )
    return value


def _prelu():
    # Per-channel slopes, shared over space, starting at 0.25 (the paper's
    # PReLU, as PyTorch initialises it).
    return keras.layers.PReLU(
        alpha_initializer=keras.initializers.Constant(0.25),
        shared_axes=[1, 2],
    )


def build_srgan_generator(
    scale=4,
    channels=3,
    filters=64,
    num_residual_blocks=16,
    output_activation="sigmoid",
    name="srgan_generator",
):
    """Builds the SRGAN generator (SRResNet, Ledig et al., 2017).

    Fully convolutional, channels last, any input size:

    - `Conv2D(filters, 9)` + PReLU;
    - `num_residual_blocks` blocks `x + BN(Conv3(PReLU(BN(Conv3(x)))))`;
    - `Conv2D(filters, 3)` + BN, added to the first convolution's output
      (the global skip);
    - per factor 2 of `scale`: `Conv2D(4 filters, 3)`, `PixelShuffle(2)`,
      PReLU;
    - `Conv2D(channels, 9)` with `output_activation` (`"sigmoid"` for
      images in [0, 1], `"tanh"` for [-1, 1] as in the paper, `None` for
      unbounded outputs), in float32.

    Args:
        scale: the upscaling factor, a power of two (4 in the paper).
        channels: positive int, the images' channels.
        filters: positive int, the width of the network (64).
        num_residual_blocks: positive int (16 in the paper).
        output_activation: activation of the images.
        name: the model's name.

    Returns:
        A `keras.Model` from `(batch, h, w, channels)` to
        `(batch, h * scale, w * scale, channels)`.

    Examples:

        >>> g = build_srgan_generator(2, channels=1, filters=4,
        ...                           num_residual_blocks=1)
        >>> g.compute_output_shape((None, 4, 4, 1))
        (None, 8, 8, 1)
    """
    _power_of_two("scale", scale)
    args.positive_int("channels", channels)
    args.positive_int("filters", filters)
    args.positive_int("num_residual_blocks", num_residual_blocks)
    args.keras_lookup("output_activation", output_activation, "activations")
    low = keras.Input((None, None, channels), name="low_res")
    head = _prelu()(keras.layers.Conv2D(filters, 9, padding="same")(low))
    h = head
    for _ in range(num_residual_blocks):
        r = keras.layers.Conv2D(filters, 3, padding="same")(h)
        r = _prelu()(keras.layers.BatchNormalization()(r))
        r = keras.layers.Conv2D(filters, 3, padding="same")(r)
        h = keras.layers.Add()([h, keras.layers.BatchNormalization()(r)])
    h = keras.layers.Conv2D(filters, 3, padding="same")(h)
    h = keras.layers.Add()([head, keras.layers.BatchNormalization()(h)])
    for _ in range(int(math.log2(scale))):
        h = keras.layers.Conv2D(4 * filters, 3, padding="same")(h)
        h = _prelu()(PixelShuffle(2, data_format="channels_last")(h))
    h = keras.layers.Conv2D(channels, 9, padding="same")(h)
    sr = keras.layers.Activation(output_activation, dtype="float32")(h)
    return keras.Model(low, sr, name=name)


def build_srgan_discriminator(
    image_shape=(96, 96, 3),
    filters=(64, 128, 256, 512),
    dense_units=1024,
    name="srgan_discriminator",
):
    """Builds the SRGAN discriminator: strided convolutions to one logit.

    For each entry `f` of `filters`, `Conv2D(f, 3)` then `Conv2D(f, 3,
    strides=2)`, each followed by BN (except the very first convolution)
    and `LeakyReLU(0.2)`; then `Dense(dense_units)` + `LeakyReLU(0.2)` and
    `Dense(1)`, a logit (the GAN losses take logits), in float32. The
    defaults are the paper's network for 96x96 RGB crops.

    Args:
        image_shape: `(height, width, channels)` of the high-resolution
            images, both sides divisible by `2 ** len(filters)`.
        filters: positive ints, the filters of the blocks.
        dense_units: positive int, the hidden dense layer's width.
        name: the model's name.

    Returns:
        A `keras.Model` from images to logits `(batch, 1)`.

    Examples:

        >>> d = build_srgan_discriminator((8, 8, 1), filters=(4, 8),
        ...                               dense_units=8)
        >>> d.output_shape
        (None, 1)
    """
    image_shape = args.image_shape(image_shape, "image_shape")
    filters = args.positive_ints("filters", filters)
    args.image_sides(
        "image_shape",
        image_shape,
        multiple=2 ** len(filters),
        why=f" (2 ** len(filters) with filters={filters})",
    )
    args.positive_int("dense_units", dense_units)
    images = keras.Input(image_shape, name="high_res")
    h = images
    for i, f in enumerate(filters):
        for strides in (1, 2):
            h = keras.layers.Conv2D(f, 3, strides=strides, padding="same")(h)
            if i or strides == 2:
                h = keras.layers.BatchNormalization()(h)
            h = keras.layers.LeakyReLU(0.2)(h)
    h = keras.layers.Flatten()(h)
    h = keras.layers.LeakyReLU(0.2)(keras.layers.Dense(dense_units)(h))
    logits = keras.layers.Dense(1, dtype="float32")(h)
    return keras.Model(images, logits, name=name)
