"""The reparameterisation trick: a differentiable draw from a diagonal Gaussian."""

import keras
from keras import ops

from keras_dlparts.ops.kl import gaussian_kl_divergence


@keras.saving.register_keras_serializable(package="keras_dlparts")
class ReparameterizationSampler(keras.layers.Layer):
    """Draws `z ~ N(mean, exp(log_var))` so that gradients reach both inputs.

    The reparameterisation trick of variational autoencoders: instead of
    sampling `z` directly, draw `eps ~ N(0, I)` and compute

    `z = mean + exp(log_var / 2) * eps`,

    which is differentiable in `mean` and `log_var`. The noise comes from a
    `keras.random.SeedGenerator`, so a seeded layer repeats its draws.
    Outside training the layer returns `mean` (the most likely code), like
    `keras.layers.GaussianNoise` is the identity at inference.

    With `kl_weight > 0` the layer also adds, through `add_loss`, the term
    `kl_weight * mean_over_batch(KL(N(mean, exp(log_var)) || N(0, I)))`
    (see `keras_dlparts.ops.gaussian_kl_divergence`), in training and at
    inference alike, so a model using it trains as a VAE with a plain
    `compile()` / `fit()`.

    Args:
        kl_weight: non-negative float, the weight of the KL term added
            through `add_loss`; `0.0` (default) adds nothing.
        seed: optional integer seed of the noise.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: `[mean, log_var]` (a list or tuple), or `mean` with
            `log_var` given as the second argument. Both are float tensors
            of the same shape `(batch, ..., latent_dim)`.
        log_var: the log-variance when `inputs` is the mean alone.
        training: Python boolean; sample only when `True`.

    Returns:
        A tensor shaped like `mean`: the sample `z` in training, `mean`
        otherwise.

    Examples:

        >>> import numpy as np
        >>> sampler = ReparameterizationSampler(kl_weight=1.0, seed=0)
        >>> mean = np.zeros((2, 3), "float32")
        >>> log_var = np.full((2, 3), -100.0, "float32")
        >>> z = sampler([mean + 1.0, log_var], training=True)
        >>> np.round(np.asarray(z), 3).tolist()
        [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
        >>> _ = sampler([mean, np.zeros((2, 3), "float32")])
        >>> [float(loss) for loss in sampler.losses]
        [0.0]
    """

    def __init__(self, kl_weight=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if (
            isinstance(kl_weight, bool)
            or not isinstance(kl_weight, (int, float))
            or not kl_weight >= 0.0
        ):
            raise ValueError(
                "Argument `kl_weight` must be a non-negative float. "
                f"Received: kl_weight={kl_weight!r}"
            )
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, int)
        ):
            raise ValueError(
                "Argument `seed` must be an integer or None. "
                f"Received: seed={seed!r}"
            )
        self.kl_weight = float(kl_weight)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, inputs_shape, log_var_shape=None):
        mean_shape, log_var_shape = self._split_shapes(
            inputs_shape, log_var_shape
        )
        if len(mean_shape) < 2:
            raise ValueError(
                "Input `mean` must have rank >= 2 (batch, ..., latent_dim). "
                f"Received: mean.shape={tuple(mean_shape)}"
            )
        if tuple(mean_shape[1:]) != tuple(log_var_shape[1:]):
            raise ValueError(
                "Inputs `mean` and `log_var` must have the same shape. "
                f"Received: mean.shape={tuple(mean_shape)}, "
                f"log_var.shape={tuple(log_var_shape)}"
            )
        self.built = True

    def call(self, inputs, log_var=None, training=None):
        mean, log_var = self._split(inputs, log_var)
        mean = ops.cast(mean, self.compute_dtype)
        log_var = ops.cast(log_var, self.compute_dtype)
        if self.kl_weight > 0.0:
            kl = gaussian_kl_divergence(
                ops.cast(mean, "float32"), ops.cast(log_var, "float32")
            )
            self.add_loss(self.kl_weight * ops.mean(kl))
        if not training:
            return mean
        eps = keras.random.normal(
            ops.shape(mean), dtype=self.compute_dtype, seed=self.seed_generator
        )
        return mean + ops.exp(0.5 * log_var) * eps

    def compute_output_shape(self, inputs_shape, log_var_shape=None):
        mean_shape, _ = self._split_shapes(inputs_shape, log_var_shape)
        return tuple(mean_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"kl_weight": self.kl_weight, "seed": self.seed})
        return config

    @staticmethod
    def _split(inputs, log_var):
        if log_var is not None:
            return inputs, log_var
        if isinstance(inputs, (list, tuple)) and len(inputs) == 2:
            return inputs[0], inputs[1]
        raise ValueError(
            "ReparameterizationSampler expects `[mean, log_var]` or "
            "`(mean, log_var)` as two tensors. Received: "
            f"inputs={inputs!r}"
        )

    @staticmethod
    def _split_shapes(inputs_shape, log_var_shape):
        if log_var_shape is not None:
            return tuple(inputs_shape), tuple(log_var_shape)
        if (
            isinstance(inputs_shape, (list, tuple))
            and len(inputs_shape) == 2
            and all(isinstance(s, (list, tuple)) for s in inputs_shape)
        ):
            return tuple(inputs_shape[0]), tuple(inputs_shape[1])
        raise ValueError(
            "ReparameterizationSampler expects the shapes of `[mean, "
            f"log_var]`. Received: {inputs_shape!r}"
        )
