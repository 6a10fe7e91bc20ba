"""The variance schedule of a denoising diffusion model (DDPM).

A `NoiseSchedule` is not a layer: it holds no weights, only constant tables
computed once from plain config values, so it is registered as a
serializable object and saved inside the config of the model that uses it.
The tables are NumPy arrays (float64, exact); the methods that take tensors
use `keras.ops` only, so they trace under XLA.
"""

import math

import keras
import numpy as np

from keras_dlparts._validation import check_rank
from keras_dlparts._validation import non_negative_number
from keras_dlparts._validation import number
from keras_dlparts._validation import one_of
from keras_dlparts._validation import ordered
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import same_batch_size
from keras_dlparts._validation import same_shape

_SCHEDULES = ("linear", "cosine")


@keras.saving.register_keras_serializable(package="keras_dlparts")
class NoiseSchedule:
    """Variance schedule `beta_t` of DDPM and the quantities derived from it.

    With `T = steps` and 0-based timesteps `t = 0 .. T-1` (the paper's
    `t = 1 .. T`):

    - `"linear"` (Ho et al., 2020): `beta_t` evenly spaced from `beta_start`
      to `beta_end`.
    - `"cosine"` (Nichol & Dhariwal, 2021):
      `abar(t) = f(t) / f(0)`, `f(t) = cos(((t / T + s) / (1 + s)) * pi / 2)^2`
      and `beta_t = min(1 - abar(t + 1) / abar(t), max_beta)`.

    Derived tables (NumPy arrays of length `T`):
    `alphas = 1 - betas`; `alphas_cumprod = prod_{s<=t} alphas_s` (`abar_t`);
    `alphas_cumprod_prev` (`abar_{t-1}`, with `abar_{-1} = 1`);
    the posterior `q(x_{t-1} | x_t, x_0) = N(coef1_t x_0 + coef2_t x_t,
    var_t)` with `coef1_t = beta_t sqrt(abar_{t-1}) / (1 - abar_t)`,
    `coef2_t = (1 - abar_{t-1}) sqrt(alpha_t) / (1 - abar_t)` and
    `var_t = beta_t (1 - abar_{t-1}) / (1 - abar_t)`
    (`posterior_mean_coef1`, `posterior_mean_coef2`, `posterior_variance`,
    `posterior_log_variance_clipped`, where `var_0 = 0` is replaced by
    `var_1` inside the log).

    Args:
        schedule: `"linear"` or `"cosine"`.
        steps: number of diffusion steps `T`, a positive integer.
        beta_start: first `beta` of the linear schedule, in (0, 1).
        beta_end: last `beta` of the linear schedule, in [beta_start, 1).
        cosine_s: offset `s` of the cosine schedule, >= 0.
        max_beta: upper clip of the cosine schedule's betas, in (0, 1).

    Examples:

        >>> schedule = NoiseSchedule("linear", steps=10, beta_start=0.1,
        ...                          beta_end=0.1)
        >>> [round(float(a), 4) for a in schedule.alphas_cumprod[:3]]
        [0.9, 0.81, 0.729]
        >>> x_t = schedule.q_sample(np.ones((2, 3)), np.array([0, 1]),
        ...                         np.zeros((2, 3)))
        >>> np.round(keras.ops.convert_to_numpy(x_t), 4)
        array([[0.9487, 0.9487, 0.9487],
               [0.9   , 0.9   , 0.9   ]], dtype=float32)
    """

    def __init__(
        self,
        schedule="linear",
        steps=1000,
        beta_start=1e-4,
        beta_end=0.02,
        cosine_s=0.008,
        max_beta=0.999,
    ):
        one_of("schedule", schedule, _SCHEDULES)
        positive_int("steps", steps)
        open_unit = dict(
            low=0.0, high=1.0, include_low=False, include_high=False
        )
        number("beta_start", beta_start, **open_unit)
        number("beta_end", beta_end, **open_unit)
        ordered("beta_start", beta_start, "beta_end", beta_end)
        non_negative_number("cosine_s", cosine_s)
        number("max_beta", max_beta, **open_unit)
        self.schedule = schedule
        self.steps = steps
        self.beta_start = float(beta_start)
        self.beta_end = float(beta_end)
        self.cosine_s = float(cosine_s)
        self.max_beta = float(max_beta)
        self._build_tables()

    def _build_tables(self):
        if self.schedule == "linear":
            betas = np.linspace(
                self.beta_start, self.beta_end, self.steps, dtype="float64"
            )
        else:
            s, steps = self.cosine_s, self.steps

            def f(t):
                return math.cos((t / steps + s) / (1 + s) * math.pi / 2) ** 2

            betas = np.array(
                [
                    min(1.0 - f(t + 1) / f(t), self.max_beta)
                    for t in range(steps)
                ],
                dtype="float64",
            )
        alphas = 1.0 - betas
        abar = np.cumprod(alphas)
        abar_prev = np.append(1.0, abar[:-1])
        self.betas = betas
        self.alphas = alphas
        self.alphas_cumprod = abar
        self.alphas_cumprod_prev = abar_prev
        self.sqrt_alphas_cumprod = np.sqrt(abar)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - abar)
        self.posterior_variance = betas * (1.0 - abar_prev) / (1.0 - abar)
        self.posterior_log_variance_clipped = np.log(
            np.append(self.posterior_variance[1:2], self.posterior_variance[1:])
            if self.steps > 1
            else np.maximum(self.posterior_variance, 1e-20)
        )
        self.posterior_mean_coef1 = betas * np.sqrt(abar_prev) / (1.0 - abar)
        self.posterior_mean_coef2 = (
            (1.0 - abar_prev) * np.sqrt(alphas) / (1.0 - abar)
        )

    def gather(self, table, t, ndim):
        """Takes `table[t]`, shaped to broadcast over a rank-`ndim` batch.

        Args:
            table: name of a table (e.g. `"alphas_cumprod"`) or a 1-D array
                of length `steps`.
            t: integer tensor of timesteps, shape `(batch,)`.
            ndim: rank of the tensor the result multiplies.

        Returns:
            A float32 tensor shaped `(batch, 1, ..., 1)`.
        """
        if isinstance(table, str):
            table = getattr(self, table)
        values = keras.ops.convert_to_tensor(np.asarray(table, dtype="float32"))
        picked = keras.ops.take(values, keras.ops.cast(t, "int32"), axis=0)
        return keras.ops.reshape(picked, (-1,) + (1,) * (ndim - 1))

    def q_sample(self, x0, t, noise):
        """Draws `x_t ~ q(x_t | x_0)` with the given noise.

        `x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) noise`.

        Args:
            x0: clean data, shape `(batch, ...)`.
            t: integer timesteps in `[0, steps)`, shape `(batch,)`.
            noise: standard normal noise shaped like `x0`.

        Returns:
            `x_t` as a float32 tensor shaped like `x0`.
        """
        check_rank("t", t, 1)
        same_shape("x0", x0, "noise", noise)
        same_batch_size(("x0", x0), ("t", t))
        x0 = keras.ops.cast(x0, "float32")
        noise = keras.ops.cast(noise, "float32")
        ndim = len(x0.shape)
        return (
            self.gather("sqrt_alphas_cumprod", t, ndim) * x0
            + self.gather("sqrt_one_minus_alphas_cumprod", t, ndim) * noise
        )

    def predict_x0(self, x_t, t, noise):
        """Inverts `q_sample`.

        `x_0 = (x_t - sqrt(1 - abar_t) noise) / sqrt(abar_t)`.
        """
        x_t = keras.ops.cast(x_t, "float32")
        ndim = len(x_t.shape)
        return (
            x_t
            - self.gather("sqrt_one_minus_alphas_cumprod", t, ndim)
            * keras.ops.cast(noise, "float32")
        ) / self.gather("sqrt_alphas_cumprod", t, ndim)

    def get_config(self):
        return {
            "schedule": self.schedule,
            "steps": self.steps,
            "beta_start": self.beta_start,
            "beta_end": self.beta_end,
            "cosine_s": self.cosine_s,
            "max_beta": self.max_beta,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return (
            f"NoiseSchedule({self.schedule!r}, steps={self.steps}, "
            f"beta_start={self.beta_start}, beta_end={self.beta_end})"
        )
