"""A two-level ladder variational autoencoder (Sonderby et al., 2016)."""

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
from keras_dlparts.models.vae import _RECONSTRUCTIONS
from keras_dlparts.models.vae import _per_sample_reconstruction
from keras_dlparts.ops.kl import gaussian_kl_divergence


def _precision_weighted(mean_hat, log_var_hat, mean_p, log_var_p):
    """The ladder's combination of two diagonal Gaussians (Sonderby eq. 18-19).

    `var = 1 / (1 / var_hat + 1 / var_p)` and
    `mean = (mean_hat / var_hat + mean_p / var_p) * var`, computed in
    float32 as a precision share `sigmoid(log_var_p - log_var_hat)` of the
    bottom-up mean and `log_var = -logaddexp(-log_var_hat, -log_var_p)`, so
    that no variance is exponentiated.

    Returns:
        `(mean, log_var)`, float32 tensors shaped like the inputs.
    """
    mean_hat, log_var_hat, mean_p, log_var_p = (
        ops.cast(t, "float32")
        for t in (mean_hat, log_var_hat, mean_p, log_var_p)
    )
    share = ops.sigmoid(log_var_p - log_var_hat)
    mean = share * mean_hat + (1.0 - share) * mean_p
    log_var = -ops.logaddexp(-log_var_hat, -log_var_p)
    return mean, log_var


def _gaussian_kl_between(mean_q, log_var_q, mean_p, log_var_p):
    """`KL(N(mean_q, exp(log_var_q)) || N(mean_p, exp(log_var_p)))`, per sample.

    `0.5 * sum(log_var_p - log_var_q + (var_q + (mean_q - mean_p)^2) / var_p
    - 1)` over the last axis, in float32; with `mean_p = 0, log_var_p = 0`
    it is `keras_dlparts.ops.gaussian_kl_divergence`.
    """
    mean_q, log_var_q, mean_p, log_var_p = (
        ops.cast(t, "float32") for t in (mean_q, log_var_q, mean_p, log_var_p)
    )
    terms = (
        log_var_p
        - log_var_q
        + (ops.exp(log_var_q) + ops.square(mean_q - mean_p))
        * ops.exp(-log_var_p)
        - 1.0
    )
    return 0.5 * ops.sum(terms, axis=-1)


def _outputs(name, model, count, what):
    """The symbolic outputs of `model`, refused unless there are `count`."""
    outputs = model.outputs
    if outputs is None:  # a subclassed network: known only when called
        return None
    if len(outputs) != count:
        raise ValueError(
            f"Argument `{name}` must output {what} ({count} tensors). "
            f"Received {len(outputs)} output(s)."
        )
    return [static_shape(t) for t in outputs]


def _agree(what, produced, expected):
    if not shapes_agree(produced, expected):
        raise ValueError(
            f"{what} must agree: one gives shape {produced}, the other "
            f"takes or gives {expected}."
        )


def _check_networks(encoder_1, encoder_2, prior_1, decoder):
    """Refuses networks with the wrong outputs or disagreeing shapes."""
    up_1 = _outputs(
        "encoder_1", encoder_1, 3, "[mean_hat_1, log_var_hat_1, features]"
    )
    up_2 = _outputs("encoder_2", encoder_2, 2, "[mean_2, log_var_2]")
    down = _outputs("prior_1", prior_1, 2, "[prior_mean_1, prior_log_var_1]")
    if up_1 is not None:
        _agree(
            "Arguments `encoder_1` (features) and `encoder_2` (input)",
            up_1[2],
            model_input_shape(encoder_2),
        )
        _agree(
            "Arguments `encoder_1` (mean_hat_1) and `decoder` (input)",
            up_1[0],
            model_input_shape(decoder),
        )
    if up_2 is not None:
        _agree(
            "Arguments `encoder_2` (mean_2) and `prior_1` (input)",
            up_2[0],
            model_input_shape(prior_1),
        )
    if down is not None:
        _agree(
            "Arguments `prior_1` (prior_mean_1) and `decoder` (input)",
            down[0],
            model_input_shape(decoder),
        )


class _NegativeElbo(keras.losses.Loss):
    """Per-sample `rec + beta * (kl_1 + kl_2)`, averaged over the batch.

    Private to `HierarchicalVAE`: a `keras.losses.Loss` gets the reduction
    Keras scales for `tf.distribute` replicas.
    """

    def __init__(self, kind, beta):
        super().__init__(name="negative_elbo")
        self.kind = kind
        self.beta = beta

    def call(self, y_true, y_pred):
        rec = _per_sample_reconstruction(
            self.kind, y_true, y_pred["reconstruction"]
        )
        return rec + self.beta * (y_pred["kl_1"] + y_pred["kl_2"])


@keras.saving.register_keras_serializable(package="keras_dlparts")
class HierarchicalVAE(SeedState, keras.Model):
    """A two-level ladder VAE (Sonderby et al., 2016) for `compile()`/`fit(x)`.

    Bottom-up, `encoder_1` maps `x` to a Gaussian estimate
    `(mean_hat_1, log_var_hat_1)` of the lower code and to features `d1`;
    `encoder_2` maps `d1` to `q(z2 | x) = N(mean_2, exp(log_var_2))`.
    Top-down, `z2` is drawn (reparameterised) and `prior_1` maps it to
    `p(z1 | z2) = N(prior_mean_1, exp(prior_log_var_1))`. The posterior of
    the lower level combines both estimates by precision (Sonderby et al.,
    eq. 18-19):

    ```
    var_1  = 1 / (1 / var_hat_1 + 1 / prior_var_1)
    mean_1 = (mean_hat_1 / var_hat_1 + prior_mean_1 / prior_var_1) * var_1
    ```

    `z1 ~ q(z1 | x, z2) = N(mean_1, var_1)` is drawn and `decoder` maps it
    back to `x`. Training minimises the negative ELBO, with one analytic KL
    term per level and the `beta` weight of `VAE`:

    ```
    loss = mean_batch(rec(x, decoder(z1))
                      + beta * KL(q(z1 | x, z2) || p(z1 | z2))
                      + beta * KL(q(z2 | x) || N(0, I)))
    ```

    with `rec` the binary cross-entropy (`"bce"`) or squared error
    (`"mse"`) summed over pixels. `fit` logs `loss`,
    `reconstruction_loss`, `kl_1` and `kl_2` (the beta-weighted terms;
    `loss` also counts the networks' regularisers). At inference
    (`training=False`) both codes are their means, so `model(x)` is
    deterministic.

    The model takes its four networks, as `VAE` takes two, so any
    architecture fits (dense, convolutional, subclassed); the example
    below and `examples/hierarchical_vae_digits.py` build dense ones.
    Weights files also hold the samplers' seed states.

    Args:
        encoder_1: a `keras.Model` from inputs to
            `[mean_hat_1, log_var_hat_1, features]`: the bottom-up estimate
            of `z1`, `(batch, latent_dim_1)` twice, and the features `d1`
            passed up to `encoder_2`.
        encoder_2: a `keras.Model` from `d1` to `[mean_2, log_var_2]`,
            `(batch, latent_dim_2)` each.
        prior_1: a `keras.Model` from `z2` codes to
            `[prior_mean_1, prior_log_var_1]`, `(batch, latent_dim_1)`
            each.
        decoder: a `keras.Model` from `z1` codes to reconstructions shaped
            like the inputs (ending in a sigmoid for `"bce"`).
        beta: non-negative float, the weight of both KL terms.
        reconstruction: `"bce"` or `"mse"`.
        seed: optional integer seed of the two samplers.
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Call arguments:
        inputs: a batch of inputs.
        training: Python boolean; sample the codes when `True`, use the
            means otherwise.

    Returns:
        A dict: `"reconstruction"` (the decoder's output) and the
        unweighted per-sample KL terms `"kl_1"` and `"kl_2"`, `(batch,)`
        float32 each.

    Examples:

        >>> import keras, numpy as np
        >>> x_in = keras.Input((4,))
        >>> d1 = keras.layers.Dense(8, activation="relu")(x_in)
        >>> encoder_1 = keras.Model(x_in, [keras.layers.Dense(2)(d1),
        ...                                keras.layers.Dense(2)(d1), d1])
        >>> d_in = keras.Input((8,))
        >>> encoder_2 = keras.Model(d_in, [keras.layers.Dense(1)(d_in),
        ...                                keras.layers.Dense(1)(d_in)])
        >>> z2 = keras.Input((1,))
        >>> prior_1 = keras.Model(z2, [keras.layers.Dense(2)(z2),
        ...                            keras.layers.Dense(2)(z2)])
        >>> z1 = keras.Input((2,))
        >>> decoder = keras.Model(
        ...     z1, keras.layers.Dense(4, activation="sigmoid")(z1))
        >>> hvae = HierarchicalVAE(encoder_1, encoder_2, prior_1, decoder,
        ...                        seed=0)
        >>> hvae.compile(optimizer="adam")
        >>> x = np.random.default_rng(0).random((8, 4)).astype("float32")
        >>> history = hvae.fit(x, epochs=1, verbose=0)
        >>> sorted(history.history)
        ['kl_1', 'kl_2', 'loss', 'reconstruction_loss']
        >>> tuple(hvae.generate(3, seed=1).shape)
        (3, 4)
    """

    def __init__(
        self,
        encoder_1,
        encoder_2,
        prior_1,
        decoder,
        beta=1.0,
        reconstruction="bce",
        seed=None,
        **kwargs,
    ):
        keras_object("encoder_1", encoder_1, keras.Model)
        keras_object("encoder_2", encoder_2, keras.Model)
        keras_object("prior_1", prior_1, keras.Model)
        keras_object("decoder", decoder, keras.Model)
        non_negative_number("beta", beta)
        one_of("reconstruction", reconstruction, _RECONSTRUCTIONS)
        random_seed("seed", seed)
        _check_networks(encoder_1, encoder_2, prior_1, decoder)
        super().__init__(**kwargs)
        self.encoder_1 = encoder_1
        self.encoder_2 = encoder_2
        self.prior_1 = prior_1
        self.decoder = decoder
        self.beta = float(beta)
        self.reconstruction = reconstruction
        self.seed = seed
        self.latent_shape_2 = tuple(prior_1.inputs[0].shape[1:])
        # Distinct streams per level, so equal-sized codes are independent.
        self.sampler_2 = ReparameterizationSampler(seed=seed, name="sampler_2")
        self.sampler_1 = ReparameterizationSampler(
            seed=None if seed is None else seed + 1, name="sampler_1"
        )
        self._negative_elbo = _NegativeElbo(reconstruction, self.beta)
        self.reconstruction_tracker = keras.metrics.Mean(
            name="reconstruction_loss"
        )
        self.kl_1_tracker = keras.metrics.Mean(name="kl_1")
        self.kl_2_tracker = keras.metrics.Mean(name="kl_2")
        # The samplers have no weights: built when the networks are.
        self.built = all(
            net.built for net in (encoder_1, encoder_2, prior_1, decoder)
        )

    def _posteriors(self, inputs, training):
        """Both levels' posteriors, `p(z1 | z2)` and the code `z1`."""
        fits_input("inputs", inputs, self.encoder_1)
        mean_hat_1, log_var_hat_1, features = self.encoder_1(
            inputs, training=training
        )
        mean_2, log_var_2 = self.encoder_2(features, training=training)
        z2 = self.sampler_2([mean_2, log_var_2], training=training)
        prior_mean_1, prior_log_var_1 = self.prior_1(z2, training=training)
        mean_1, log_var_1 = _precision_weighted(
            mean_hat_1, log_var_hat_1, prior_mean_1, prior_log_var_1
        )
        z1 = self.sampler_1([mean_1, log_var_1], training=training)
        return (
            (mean_1, log_var_1),
            (mean_2, log_var_2),
            (
                prior_mean_1,
                prior_log_var_1,
            ),
            z1,
        )

    def call(self, inputs, training=None):
        (mean_1, log_var_1), (mean_2, log_var_2), prior, z1 = self._posteriors(
            inputs, training
        )
        return {
            "reconstruction": self.decoder(z1, training=training),
            "kl_1": _gaussian_kl_between(mean_1, log_var_1, *prior),
            "kl_2": gaussian_kl_divergence(
                ops.cast(mean_2, "float32"), ops.cast(log_var_2, "float32")
            ),
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        rec = _per_sample_reconstruction(
            self.reconstruction, x, y_pred["reconstruction"]
        )
        self.reconstruction_tracker.update_state(ops.mean(rec))
        self.kl_1_tracker.update_state(self.beta * ops.mean(y_pred["kl_1"]))
        self.kl_2_tracker.update_state(self.beta * ops.mean(y_pred["kl_2"]))
        total = self._negative_elbo(x, y_pred)
        if self.losses:  # the networks' regularisers, scaled by Keras
            total = total + super().compute_loss(
                x, None, y_pred, None, training=training
            )
        return total

    def encode(self, x):
        """The posteriors at inference (`z2` at its mean), bottom to top.

        Returns:
            `((mean_1, log_var_1), (mean_2, log_var_2))`: `q(z1 | x, z2)`
            (the precision-weighted combination) and `q(z2 | x)`.
        """
        level_1, level_2, _, _ = self._posteriors(x, training=False)
        return level_1, level_2

    def decode(self, z1):
        """Decodes lower-level codes `z1` (inference mode).

        Returns:
            A NumPy array, the decoder's output for `z1`.
        """
        return ops.convert_to_numpy(self.decoder(z1, training=False))

    def generate(self, n, seed=None):
        """Ancestral samples: `z2 ~ N(0, I)`, `z1 ~ p(z1 | z2)`, decode `z1`.

        Args:
            n: positive int, the number of samples.
            seed: optional int (or `SeedGenerator`); equal seeds give equal
                samples.

        Returns:
            A NumPy array of shape `(n,) + decoder.output_shape[1:]`.
        """
        n = positive_int("n", n)
        if not isinstance(seed, keras.random.SeedGenerator):
            seed = keras.random.SeedGenerator(random_seed("seed", seed))
        z2 = keras.random.normal((n,) + self.latent_shape_2, seed=seed)
        mean, log_var = self.prior_1(z2, training=False)
        mean = ops.cast(mean, "float32")
        scale = ops.exp(0.5 * ops.cast(log_var, "float32"))
        z1 = mean + scale * keras.random.normal(ops.shape(mean), seed=seed)
        return self.decode(z1)

    def get_config(self):
        config = super().get_config()
        for key in ("encoder_1", "encoder_2", "prior_1", "decoder"):
            config[key] = keras.saving.serialize_keras_object(
                getattr(self, key)
            )
        config.update(
            {
                "beta": self.beta,
                "reconstruction": self.reconstruction,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("encoder_1", "encoder_2", "prior_1", "decoder"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)
