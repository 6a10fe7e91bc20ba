"""The variational autoencoder (Kingma & Welling, 2014)."""

import keras
from keras import ops

from keras_dlparts._validation import fits_input
from keras_dlparts._validation import keras_object
from keras_dlparts._validation import model_input_shape
from keras_dlparts._validation import non_negative_number
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import shapes_agree
from keras_dlparts._validation import static_shape
from keras_dlparts.layers.sampler import ReparameterizationSampler
from keras_dlparts.models._resume import SeedState

_RECONSTRUCTIONS = ("bce", "mse")


def _per_sample_reconstruction(kind, target, output):
    """Reconstruction error summed over every non-batch axis, in float32."""
    target = ops.cast(target, "float32")
    output = ops.cast(output, "float32")
    if kind == "bce":
        error = ops.binary_crossentropy(target, output)
    else:
        error = ops.square(target - output)
    return ops.sum(ops.reshape(error, (ops.shape(error)[0], -1)), axis=-1)


def _check_networks(encoder, decoder):
    """Refuses an encoder without two outputs, or codes the decoder refuses."""
    outputs = encoder.outputs
    if outputs is None:  # a subclassed encoder: known only when called
        return
    if len(outputs) != 2:
        raise ValueError(
            "Argument `encoder` must output [mean, log_var] (two "
            f"tensors). Received {len(outputs)} output(s)."
        )
    codes, expected = static_shape(outputs[0]), model_input_shape(decoder)
    if not shapes_agree(codes, expected):
        raise ValueError(
            "Arguments `encoder` and `decoder` must agree on the code shape: "
            f"the encoder's mean has shape {codes}, the decoder takes "
            f"{expected}."
        )


class _ReconstructionLoss(keras.losses.Loss):
    """Per-sample summed reconstruction error, averaged over the batch.

    Private to `VAE`: going through `keras.losses.Loss` gives the
    reduction Keras scales for `tf.distribute` replicas.
    """

    def __init__(self, kind):
        super().__init__(name=f"{kind}_reconstruction")
        self.kind = kind

    def call(self, y_true, y_pred):
        return _per_sample_reconstruction(self.kind, y_true, y_pred)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class VAE(SeedState, keras.Model):
    """A variational autoencoder that trains with `compile()` and `fit(x)`.

    The encoder maps `x` to the mean and log-variance of a diagonal
    Gaussian `q(z | x)`; a `ReparameterizationSampler` draws
    `z = mean + exp(log_var / 2) * eps`; the decoder maps `z` back to `x`.
    Training minimises the negative evidence lower bound, with a `beta`
    weight on the KL term (beta-VAE, Higgins et al., 2017):

    ```
    loss = mean_batch(sum_pixels(rec(x, decoder(z))))
         + beta * mean_batch(KL(N(mean, exp(log_var)) || N(0, I)))
    ```

    where `rec` is the binary cross-entropy (`"bce"`, for data in [0, 1]
    and a sigmoid decoder) or the squared error (`"mse"`). `fit` reports
    `loss`, `reconstruction_loss` and `kl_loss` (the beta-weighted term),
    so `loss = reconstruction_loss + kl_loss` plus any regularisers of the
    encoder and decoder. The default `train_step` does the work, so loss
    scaling under `mixed_float16` and `tf.distribute` are Keras's own.

    At inference (`training=False`) the model reconstructs from the mean
    code, so `model(x)` is deterministic.

    Built at construction when its networks are (functional, or
    `Sequential` with a `keras.Input`), so `keras.callbacks.BackupAndRestore`
    can resume its training; with networks of unknown input shape, call
    the model on a batch first. Weights files (`.keras`,
    `save_weights`, backups) also hold its random seed states, so a
    resumed run draws the same numbers as an uninterrupted one.

    Args:
        encoder: a `keras.Model` from inputs to `[mean, log_var]`, two
            tensors `(batch, latent_dim)`.
        decoder: a `keras.Model` from `(batch, latent_dim)` codes to
            reconstructions shaped like the inputs (ending in a sigmoid for
            `"bce"`).
        beta: non-negative float, the weight of the KL term.
        reconstruction: `"bce"` or `"mse"`.
        seed: optional integer seed of the sampler.
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Call arguments:
        inputs: a batch of inputs.
        training: Python boolean; sample `z` when `True`, use the mean
            otherwise.

    Returns:
        The reconstructions.

    Examples:

        >>> import keras, numpy as np
        >>> inputs = keras.Input((4,))
        >>> encoder = keras.Model(inputs, [keras.layers.Dense(2)(inputs),
        ...                                keras.layers.Dense(2)(inputs)])
        >>> codes = keras.Input((2,))
        >>> decoder = keras.Model(
        ...     codes, keras.layers.Dense(4, activation="sigmoid")(codes))
        >>> vae = VAE(encoder, decoder, beta=1.0, seed=0)
        >>> vae.compile(optimizer="adam")
        >>> x = np.random.default_rng(0).random((8, 4)).astype("float32")
        >>> history = vae.fit(x, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['kl_loss', 'loss', 'reconstruction_loss']
        >>> tuple(vae.generate(3, seed=1).shape)
        (3, 4)
    """

    def __init__(
        self,
        encoder,
        decoder,
        beta=1.0,
        reconstruction="bce",
        seed=None,
        **kwargs,
    ):
        keras_object("encoder", encoder, keras.Model)
        keras_object("decoder", decoder, keras.Model)
        non_negative_number("beta", beta)
        one_of("reconstruction", reconstruction, _RECONSTRUCTIONS)
        random_seed("seed", seed)
        _check_networks(encoder, decoder)
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.beta = float(beta)
        self.reconstruction = reconstruction
        self.seed = seed
        self.latent_shape = tuple(decoder.inputs[0].shape[1:])
        self.sampler = ReparameterizationSampler(
            kl_weight=self.beta, seed=seed, name="sampler"
        )
        self._reconstruction_loss = _ReconstructionLoss(reconstruction)
        self.reconstruction_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_tracker = keras.metrics.Mean(name="kl_loss")
        # The sampler has no weights: built when both networks are.
        self.built = encoder.built and decoder.built

    def call(self, inputs, training=None):
        fits_input("inputs", inputs, self.encoder)
        mean, log_var = self.encoder(inputs, training=training)
        z = self.sampler([mean, log_var], training=training)
        return self.decoder(z, training=training)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        per_sample = _per_sample_reconstruction(self.reconstruction, x, y_pred)
        # The sampler's own `add_loss` term. On JAX, Keras hands the
        # losses of the whole call back as `self.losses` only, so there
        # `kl_loss` also counts the encoder's and decoder's regularisers.
        kl_terms = self.sampler.losses or (self.losses if self.beta else [])
        kl = sum(kl_terms) if kl_terms else 0.0
        self.reconstruction_tracker.update_state(ops.mean(per_sample))
        self.kl_tracker.update_state(kl)
        total = self._reconstruction_loss(x, y_pred)
        if self.losses:  # the KL term and any regularisers, scaled by Keras
            total = total + super().compute_loss(
                x, None, y_pred, None, training=training
            )
        return total

    def encode(self, x):
        """Returns `(mean, log_var)` of `q(z | x)`."""
        mean, log_var = self.encoder(x, training=False)
        return mean, log_var

    def decode(self, z):
        """Decodes codes `z` (inference mode).

        Returns:
            A NumPy array, the decoder's output for `z`.
        """
        return ops.convert_to_numpy(self.decoder(z, training=False))

    def generate(self, n, seed=None):
        """Decodes `n` codes drawn from the prior `N(0, I)`.

        Args:
            n: positive int, the number of samples.
            seed: optional int (or `SeedGenerator`); equal seeds give equal
                samples.

        Returns:
            A NumPy array of shape `(n,) + decoder.output_shape[1:]`.
        """
        n = positive_int("n", n)
        z = keras.random.normal((n,) + self.latent_shape, seed=seed)
        return self.decode(z)

    def interpolate(self, a, b, steps=8):
        """Decodes `steps` codes on the line between the codes of `a` and `b`.

        Args:
            a, b: two inputs, each one sample (no batch axis) or a batch of
                one.
            steps: int >= 2, the number of points, endpoints included.

        Returns:
            A NumPy array of `steps` decoded samples, from `a`'s code to
            `b`'s.
        """
        steps = positive_int("steps", steps, minimum=2)
        pair = ops.concatenate(
            [self._as_batch_of_one(a), self._as_batch_of_one(b)], axis=0
        )
        codes, _ = self.encode(pair)
        weights = ops.reshape(
            ops.linspace(0.0, 1.0, steps),
            (steps,) + (1,) * len(self.latent_shape),
        )
        weights = ops.cast(weights, codes.dtype)
        line = (1.0 - weights) * codes[:1] + weights * codes[1:]
        return self.decode(line)

    def _as_batch_of_one(self, sample):
        sample = ops.convert_to_tensor(sample, dtype="float32")
        rank = len(self.encoder.inputs[0].shape)
        if len(sample.shape) == rank - 1:
            sample = ops.expand_dims(sample, 0)
        if len(sample.shape) != rank or sample.shape[0] != 1:
            raise ValueError(
                "`interpolate` expects one sample, without or with a batch "
                f"axis of 1. Received shape {tuple(sample.shape)}"
            )
        return sample

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder),
                "beta": self.beta,
                "reconstruction": self.reconstruction,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
