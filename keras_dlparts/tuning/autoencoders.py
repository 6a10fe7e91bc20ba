"""Ready hypermodels for the autoencoder builder and the VAE.

Like the classifier hypermodels (see `keras_dlparts.tuning.classifiers`),
`search_space=` updates the default ranges key by key. Use
`objective="val_loss"` (or `"loss"`) in the tuner: these models have no
accuracy.
"""

import math

import keras

from keras_dlparts import _validation
from keras_dlparts.models import VAE
from keras_dlparts.models import build_autoencoder
from keras_dlparts.tuning.hypermodel import BuilderHyperModel
from keras_dlparts.tuning.hypermodel import checked_options
from keras_dlparts.tuning.search_space import Choice
from keras_dlparts.tuning.search_space import Float
from keras_dlparts.tuning.search_space import Int
from keras_dlparts.tuning.search_space import merge_search_space


def _reconstruction_training():
    return {
        "optimizer": Choice(["adam", "rmsprop"]),
        "learning_rate": Float(1e-4, 1e-2, sampling="log", default=1e-3),
        "batch_size": Choice([16, 32, 64]),
    }


def _layer_sizes(key):
    def transform(values):
        width, depth = values.pop("width"), values.pop("depth")
        if key == "filters":
            values[key] = tuple(width * 2**i for i in range(depth))
        else:
            values[key] = tuple(max(1, width // 2**i) for i in range(depth))
        return values

    return transform


class AutoencoderHyperModel(BuilderHyperModel):
    """Hypermodel of `build_autoencoder`, trained with `fit(x, x)`.

    Searches `latent_dim`, `depth` and `width` (dense: `hidden_units=
    (width, width / 2, ...)`; conv: `filters=(width, 2 width, ...)`) and the
    input noise `denoising`, plus optimizer, learning rate and batch size.
    Compiles with the mean squared error.

    Args:
        input_shape: shape of one sample.
        kind: `"dense"` or `"conv"` (sides divisible by 4 for two blocks).
        search_space: optional updates of the default ranges.
        fixed: optional further `build_autoencoder` arguments.
        compile: optional further `compile()` arguments.
        name: optional name of the hypermodel.

    Examples:

        >>> import keras_tuner
        >>> space = {"latent_dim": 4}
        >>> hypermodel = AutoencoderHyperModel((64,), search_space=space)
        >>> model = hypermodel.build(keras_tuner.HyperParameters())
        >>> model.get_layer("encoder").output_shape
        (None, 4)
    """

    def __init__(
        self,
        input_shape,
        kind="dense",
        search_space=None,
        fixed=None,
        compile=None,
        name=None,
    ):
        # Checked now, not when a trial first builds the model.
        kind = _validation.one_of("kind", kind, ("dense", "conv"))
        if kind == "conv":
            _validation.image_shape(input_shape, name="input_shape")
        else:
            _validation.positive_ints("input_shape", input_shape)
        search_space, fixed, compile = checked_options(
            search_space, fixed, compile
        )
        defaults = {
            **_reconstruction_training(),
            "latent_dim": Int(2, 32, sampling="log"),
            "depth": Int(1, 2),
            "width": Choice([16, 32, 64] if kind == "conv" else [32, 64, 128]),
            "denoising": Choice([0.0, 0.1, 0.2]),
        }
        super().__init__(
            build_autoencoder,
            merge_search_space(defaults, search_space),
            fixed={"input_shape": input_shape, "kind": kind, **fixed},
            compile={"loss": "mse", **compile},
            transform=_layer_sizes(
                "filters" if kind == "conv" else "hidden_units"
            ),
            name=name,
        )


def build_dense_vae(
    input_shape,
    latent_dim=2,
    hidden_units=(64,),
    beta=1.0,
    reconstruction="bce",
    seed=None,
):
    """A `VAE` with dense encoder and decoder halves of `hidden_units`.

    The encoder is `Flatten -> Dense(hidden_units...) -> [mean, log_var]`,
    the decoder its mirror image ending in a sigmoid reshaped to
    `input_shape` (inputs in [0, 1] for `reconstruction="bce"`).

    Args:
        input_shape: shape of one sample (positive integers).
        latent_dim: positive integer, the size of the code.
        hidden_units: positive integers, the hidden layer sizes of the
            encoder (reversed in the decoder); `()` for none.
        beta, reconstruction, seed: as in `keras_dlparts.models.VAE`.

    Returns:
        An uncompiled `VAE`.
    """
    input_shape = _validation.positive_ints("input_shape", input_shape)
    latent_dim = _validation.positive_int("latent_dim", latent_dim)
    hidden_units = _validation.positive_ints_or_empty(
        "hidden_units", hidden_units
    )
    inputs = keras.Input(input_shape, name="inputs")
    h = keras.layers.Flatten()(inputs)
    for units in hidden_units:
        h = keras.layers.Dense(units, activation="relu")(h)
    mean = keras.layers.Dense(latent_dim, name="mean")(h)
    log_var = keras.layers.Dense(latent_dim, name="log_var")(h)
    encoder = keras.Model(inputs, [mean, log_var], name="encoder")
    codes = keras.Input((latent_dim,), name="codes")
    h = codes
    for units in reversed(tuple(hidden_units)):
        h = keras.layers.Dense(units, activation="relu")(h)
    h = keras.layers.Dense(math.prod(input_shape), activation="sigmoid")(h)
    decoder = keras.Model(
        codes, keras.layers.Reshape(input_shape)(h), name="decoder"
    )
    return VAE(
        encoder, decoder, beta=beta, reconstruction=reconstruction, seed=seed
    )


class VAEHyperModel(BuilderHyperModel):
    """Hypermodel of a dense `keras_dlparts.models.VAE` (see `build_dense_vae`).

    Searches `latent_dim`, `depth` and `width` of the halves
    (`hidden_units=(width, width / 2, ...)`) and the KL weight `beta`,
    plus optimizer, learning rate and batch size. The VAE brings its own
    loss (negative ELBO), so `compile()` gets only the optimizer.

    Args:
        input_shape: shape of one sample.
        search_space: optional updates of the default ranges.
        fixed: optional further `build_dense_vae` arguments
            (`reconstruction`, `seed`).
        compile: optional further `compile()` arguments.
        name: optional name of the hypermodel.

    Examples:

        >>> import keras_tuner
        >>> hypermodel = VAEHyperModel((8, 8, 1), search_space={"beta": 0.5})
        >>> vae = hypermodel.build(keras_tuner.HyperParameters())
        >>> vae.beta, vae.latent_shape
        (0.5, (2,))
    """

    def __init__(
        self,
        input_shape,
        search_space=None,
        fixed=None,
        compile=None,
        name=None,
    ):
        # Checked now, not when a trial first builds the model.
        _validation.positive_ints("input_shape", input_shape)
        search_space, fixed, compile = checked_options(
            search_space, fixed, compile
        )
        defaults = {
            **_reconstruction_training(),
            "latent_dim": Int(2, 16, sampling="log"),
            "depth": Int(1, 2),
            "width": Choice([32, 64, 128]),
            "beta": Float(0.25, 4.0, sampling="log", default=1.0),
        }
        super().__init__(
            build_dense_vae,
            merge_search_space(defaults, search_space),
            fixed={"input_shape": input_shape, **fixed},
            compile=compile,
            transform=_layer_sizes("hidden_units"),
            name=name,
        )
