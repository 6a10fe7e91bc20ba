"""The reparameterisation trick: a differentiable draw from a Gaussian."""

import keras
import ml_dtypes
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.ops.kl import gaussian_kl_divergence

#: Largest `log_var / 2` exponentiated: `exp(88) ~ 1.7e38` is finite in float32.
_MAX_HALF_LOG_VAR = 88.0


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

    Under mixed precision (a float16 or bfloat16 compute dtype) the sample
    is computed in float32 and cast at the end, so that a large variance
    does not overflow on the way (`exp(log_var / 2)` is already infinite
    in float16 for `log_var > 22.2`). Samples beyond the largest finite
    value of the output dtype (65504 in float16) are clipped to it, and
    `log_var / 2` is capped at 88 (so `exp` stays finite in float32): `z`
    and its gradients are always finite, the gradient being zero through
    a clipped sample, as for `keras.ops.clip`. Samples in range are
    unchanged.

    With `kl_weight > 0` the layer also adds, through `add_loss`, the term
    `kl_weight * mean_over_batch(KL(N(mean, exp(log_var)) || N(0, I)))`
    (see `keras_dlparts.ops.gaussian_kl_divergence`), in training and at
    inference alike, so a model using it trains as a VAE with a plain
    `compile()` / `fit()`. An empty batch adds a zero loss.

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
        self.kl_weight = float(
            _validation.non_negative_number("kl_weight", kl_weight)
        )
        self.seed = _validation.random_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, inputs_shape, log_var_shape=None):
        self._check_shapes(*self._split_shapes(inputs_shape, log_var_shape))
        self.built = True

    @staticmethod
    def _check_shapes(mean_shape, log_var_shape):
        # (batch, ..., latent_dim). Not left to gaussian_kl_divergence,
        # which runs only when kl_weight > 0 and accepts rank 1.
        mean_shape = _validation.min_rank("mean", tuple(mean_shape), 2)
        _validation.same_shape(
            "mean", mean_shape, "log_var", tuple(log_var_shape)
        )

    def call(self, inputs, log_var=None, training=None):
        mean, log_var = self._split(inputs, log_var)
        self._check_shapes(mean.shape, log_var.shape)
        mean = ops.cast(mean, self.compute_dtype)
        log_var = ops.cast(log_var, self.compute_dtype)
        if self.kl_weight > 0.0:
            kl = gaussian_kl_divergence(
                ops.cast(mean, "float32"), ops.cast(log_var, "float32")
            )
            count = ops.sum(ops.ones_like(kl))
            self.add_loss(
                self.kl_weight * ops.divide_no_nan(ops.sum(kl), count)
            )
        if not training:
            return mean
        return self._sample(mean, log_var)

    def _sample(self, mean, log_var):
        """`mean + exp(log_var / 2) * eps`, in float32 for 16-bit inputs."""
        dtype = keras.backend.standardize_dtype(self.compute_dtype)
        work = "float32" if dtype in ("float16", "bfloat16") else dtype
        eps = keras.random.normal(
            ops.shape(mean), dtype=work, seed=self.seed_generator
        )
        half_log_var = ops.minimum(
            0.5 * ops.cast(log_var, work), _MAX_HALF_LOG_VAR
        )
        z = ops.cast(mean, work) + ops.exp(half_log_var) * eps
        largest = float(ml_dtypes.finfo(dtype).max)
        return ops.cast(ops.clip(z, -largest, largest), dtype)

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
            "Argument `inputs` must be `[mean, log_var]` or `(mean, log_var)`, "
            f"two tensors. Received: inputs={inputs!r}"
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
            "Argument `inputs` must be `[mean, log_var]` or `(mean, log_var)`, "
            f"two tensors. Received: inputs shapes {inputs_shape!r}"
        )
