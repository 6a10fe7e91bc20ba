"""DDPM training (Algorithm 1) and compiled DDPM/DDIM sampling (Algorithm 2)."""

import contextlib

import keras
import numpy as np

from keras_dlparts._compiled import compiled_loop
from keras_dlparts._validation import boolean
from keras_dlparts._validation import check_rank
from keras_dlparts._validation import class_labels
from keras_dlparts._validation import fits_input
from keras_dlparts._validation import interval
from keras_dlparts._validation import keras_object
from keras_dlparts._validation import non_negative_number
from keras_dlparts._validation import one_of
from keras_dlparts._validation import ordered
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import rate
from keras_dlparts._validation import same_batch_size
from keras_dlparts._validation import sequence
from keras_dlparts.models._resume import SeedState
from keras_dlparts.models._stateful_step import _current
from keras_dlparts.models.noise_schedule import NoiseSchedule

_SAMPLERS = ("ddpm", "ddim", "dpmpp_2m")
_PREDICTIONS = ("epsilon", "v", "sample")


@keras.saving.register_keras_serializable(package="keras_dlparts")
class DiffusionModel(SeedState, keras.Model):
    """A denoising diffusion model: trains a noise predictor, samples images.

    Training is Algorithm 1 of DDPM (Ho et al., 2020): for clean data `x_0`
    (mapped from `data_range` to [-1, 1]) draw `t ~ U{0, .., T-1}` and
    `eps ~ N(0, I)`, form `x_t = sqrt(abar_t) x_0 + sqrt(1 - abar_t) eps`
    and minimise `|target - f_theta(x_t, t)|^2` (the compiled loss, `"mse"`
    by default), where the target is set by `prediction`: the noise `eps`
    (`"epsilon"`, DDPM's choice), the velocity
    `v = sqrt(abar_t) eps - sqrt(1 - abar_t) x_0` (`"v"`, Salimans and Ho,
    2022) or the clean data `x_0` (`"sample"`). `fit(x)` trains an
    unconditional model and `fit((x, labels))` a conditional one; labels
    are replaced by the "no label" index `num_classes` with probability
    `label_dropout`, so the same network also learns the unconditional
    model that classifier-free guidance needs (Ho & Salimans, 2022). A
    network with a context input (`build_diffusion_unet(context_shape=...)`,
    cross-attention) trains on `(x, context)` or `(x, (context,
    context_mask))` instead; `label_dropout` then replaces the context by
    the null context, all zeros with every position visible.

    `generate` runs the reverse process as ONE compiled loop
    (`keras.ops.fori_loop` inside `tf.function` on TensorFlow, `jax.jit`
    on JAX), cached per `(n, steps, sampler, ...)`, with the
    ancestral DDPM sampler (Algorithm 2, posterior variance
    `beta~_t`), DDIM (Song et al., 2021) or DPM-Solver++(2M) (Lu et al.,
    2022) over a subsequence of the timesteps. Every step converts the
    prediction to `(x0_hat, eps_hat)` exactly (for `v`:
    `x0_hat = sqrt(abar_t) x_t - sqrt(1 - abar_t) v` and
    `eps_hat = sqrt(1 - abar_t) x_t + sqrt(abar_t) v`), clips `x0_hat` to
    [-1, 1] with `clip_denoised` (then recomputing `eps_hat` from it) and
    steps to `x_prev = c0 x0_hat + c1 x0_hat_prev + c2 x_t + c3 eps_hat +
    sigma z` with the coefficients of the chosen sampler (`eps_hat` is
    used by DDIM only; `x0_hat_prev`, the previous step's, by
    DPM-Solver++ only). With guidance scale `w`, the prediction is
    `f(x_t, null) + w (f(x_t, y) - f(x_t, null))` (each target is affine
    in `eps` at fixed `x_t`, so this is guidance of `eps_hat`).

    Calling the model on clean data returns, for freshly drawn `t` and
    `eps` (from a fixed seed when `training=False`, so evaluation is
    repeatable), `{"target", "prediction"}` (what the loss compares) and
    `{"noise", "predicted_noise"}` (`eps` and the `eps_hat` converted
    from the prediction; for `"epsilon"` the same pair as before).

    Weights files (`.keras`, `save_weights`, backups) also hold its
    random seed states, so a resumed run draws the same numbers as an
    uninterrupted one.

    Args:
        network: a `keras.Model` with inputs `[x_t, t]` or `[x_t, t, label]`
            (int32 timesteps and labels shaped `(batch,)`), or
            `[x_t, t, context]` / `[x_t, t, context, context_mask]` (a
            float `(batch, length, dim)` sequence and a `(batch, length)`
            mask, 1 for real tokens), returning the predicted noise, e.g.
            from `build_diffusion_unet`.
        schedule: a `NoiseSchedule` (or its serialized config); defaults to
            `NoiseSchedule("linear", steps=1000)`.
        num_classes: number of classes of a conditional network (whose
            label input must accept `0 .. num_classes`); `None` when the
            network takes no label (a context network: always `None`).
        label_dropout: probability of training on the "no label" index
            (or the null context) instead of the condition, in [0, 1).
        data_range: `(low, high)` of the data given to `fit` and returned
            by `generate`; mapped linearly to [-1, 1] inside the model.
        clip_denoised: clip the predicted `x_0` to [-1, 1] while sampling.
        seed: seed of the training noise (an integer or `None`).
        ema_decay: `None` (off) or a decay in [0, 1), e.g. 0.999: keep an
            exponential moving average of the network's trainable weights,
            updated after every optimizer step (`ema = d ema + (1 - d) w`,
            a copy of the weights at the first step, then
            `d = min(ema_decay, (1 + k) / (10 + k))` at update `k`, the
            usual warm-up). `generate` samples with it by default. The
            averages are non-trainable weights of this model, saved in
            `.keras` files and checkpoints.
        prediction: what the network predicts: `"epsilon"` (the noise, the
            default), `"v"` or `"sample"` (`x_0`, in [-1, 1]). `"v"` keeps
            the target's scale near 1 at every `t` (the noise target is
            ill-posed near `t = T` for `x_0`, the data target near `t = 0`).
        **kwargs: base `keras.Model` arguments (`name`, `dtype`).

    Call arguments:
        inputs: clean data `x`, or `(x, labels)` for a conditional model,
            `(x, context)` or `(x, (context, context_mask))` for a context
            model (called on `x` alone, a conditional model predicts with
            the "no label" class or the null context of classifier-free
            guidance).
        training: `True` draws fresh `t` and noise and applies label
            dropout; otherwise a fixed seed is used.

    Returns:
        A dict with `"target"`, `"prediction"`, `"noise"` and
        `"predicted_noise"`, float32, shaped like `x`.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.models import build_diffusion_unet, NoiseSchedule
        >>> net = build_diffusion_unet((8, 8, 1), base_filters=8,
        ...                            channel_multipliers=(1,),
        ...                            attention_resolutions=())
        >>> model = DiffusionModel(net, NoiseSchedule(steps=10),
        ...                        data_range=(0.0, 1.0))
        >>> model.compile(optimizer="adam")
        >>> x = np.random.rand(16, 8, 8, 1)
        >>> history = model.fit(x, epochs=1, verbose=0)
        >>> samples = model.generate(4, seed=0)
        >>> samples.shape, bool(samples.min() >= 0.0 and samples.max() <= 1.0)
        ((4, 8, 8, 1), True)
    """

    def __init__(
        self,
        network,
        schedule=None,
        num_classes=None,
        label_dropout=0.1,
        data_range=(-1.0, 1.0),
        clip_denoised=True,
        seed=None,
        prediction="epsilon",
        ema_decay=None,
        **kwargs,
    ):
        keras_object("network", network, keras.Model)
        one_of("prediction", prediction, _PREDICTIONS)
        if num_classes is not None:
            positive_int("num_classes", num_classes)
        rate("label_dropout", label_dropout)
        low, high = (float(v) for v in interval("data_range", data_range))
        boolean("clip_denoised", clip_denoised)
        random_seed("seed", seed)
        if ema_decay is not None:
            ema_decay = rate("ema_decay", ema_decay)
        super().__init__(**kwargs)
        if isinstance(schedule, dict):
            schedule = keras.saving.deserialize_keras_object(schedule)
        if schedule is None:
            schedule = NoiseSchedule()
        keras_object("schedule", schedule, NoiseSchedule)
        n_inputs = len(network.inputs)
        if n_inputs not in (2, 3, 4):
            raise ValueError(
                "Argument `network` must take inputs [x_t, t], "
                "[x_t, t, label], [x_t, t, context] or "
                "[x_t, t, context, context_mask]. Received a network with "
                f"{n_inputs} inputs"
            )
        self.context_shape = _context_shape(network)
        if self.context_shape is not None:
            if num_classes is not None:
                raise ValueError(
                    "Argument `num_classes` must be None for a network "
                    "conditioned on a context sequence. Received: "
                    f"num_classes={num_classes!r}"
                )
        elif (num_classes is None) != (n_inputs == 2):
            raise ValueError(
                "Argument `num_classes` must be given exactly when the "
                f"network takes a label input. Received: num_classes="
                f"{num_classes!r} for a network with {n_inputs} inputs"
            )
        self.network = network
        self.schedule = schedule
        self.num_classes = num_classes
        self.label_dropout = float(label_dropout)
        self.data_range = (low, high)
        self.clip_denoised = clip_denoised
        self.seed = seed
        self.prediction = prediction
        self.image_shape = tuple(network.inputs[0].shape[1:])
        self.context_mask = n_inputs == 4
        self._seed_generator = keras.random.SeedGenerator(seed)
        self._sampling_seed = keras.random.SeedGenerator(0)
        self._samplers = _SamplerCache()
        self.ema_decay = ema_decay
        self._ema = None if ema_decay is None else _Ema(self, network)
        self.built = True

    # ------------------------------------------------------------------
    # Training: Algorithm 1.
    # ------------------------------------------------------------------

    def compile(self, optimizer="adam", loss="mse", **kwargs):
        """Compiles with the noise-prediction loss (`"mse"` by default).

        The optimizer is built here, for the weights the model already has:
        on TensorFlow, `fit` would otherwise create its variables while
        tracing the first step, and trace that step twice (the example of
        docs/generative.md's quality table then spent 2x as long before
        its first step).
        """
        super().compile(optimizer=optimizer, loss=loss, **kwargs)
        self.optimizer.build(self.trainable_variables)

    def compile_from_config(self, config):
        # `compile` is overridden only for its defaults: restore it on load.
        self.compile(**keras.saving.deserialize_keras_object(config))

    def call(self, inputs, training=False):
        images, condition = self._split(inputs)
        x0 = self._to_model_range(images)
        batch = keras.ops.shape(x0)[0]
        seeds = (self._seed_generator,) * 3 if training else (11, 12, 13)
        t = keras.random.randint(
            (batch,), 0, self.schedule.steps, dtype="int32", seed=seeds[0]
        )
        noise = keras.random.normal(keras.ops.shape(x0), seed=seeds[1])
        x_t = self.schedule.q_sample(x0, t, noise)
        if condition and training and self.label_dropout > 0:
            drop = keras.random.uniform((batch,), seed=seeds[2])
            drop = drop < self.label_dropout
            null = self._null(condition)
            condition = [
                keras.ops.where(
                    keras.ops.reshape(drop, (-1,) + (1,) * (len(c.shape) - 1)),
                    n,
                    c,
                )
                for c, n in zip(condition, null)
            ]
        network_inputs = [x_t, t, *condition]
        predicted = self.network(network_inputs, training=training)
        predicted = keras.ops.cast(predicted, "float32")
        ndim = len(x0.shape)
        sqrt_abar = self.schedule.gather("sqrt_alphas_cumprod", t, ndim)
        sqrt_1m_abar = self.schedule.gather(
            "sqrt_one_minus_alphas_cumprod", t, ndim
        )
        target = _target(self.prediction, x0, noise, sqrt_abar, sqrt_1m_abar)
        _, predicted_noise = _to_x0_eps(
            self.prediction, predicted, x_t, sqrt_abar, sqrt_1m_abar
        )
        return {
            "target": target,
            "prediction": predicted,
            "noise": noise,
            "predicted_noise": predicted_noise,
        }

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        return super().compute_loss(
            x,
            y_pred["target"],
            y_pred["prediction"],
            sample_weight,
            training=training,
        )

    def train_step(self, *args):
        *state, data = args
        out = super().train_step(*state, self._labels_into_x(data))
        if self._ema is None:
            return out
        if keras.backend.backend() != "jax":
            self._ema.update()
            return out
        # JAX: the step's new values in, the EMA's new values out.
        logs, (trainable, non_trainable, *rest) = out
        own = self.trainable_variables + self.non_trainable_variables
        mapping = list(zip(own, trainable + non_trainable))
        with keras.StatelessScope(state_mapping=mapping) as scope:
            self._ema.update()
        non_trainable = [
            _current(scope, v, old)
            for v, old in zip(self.non_trainable_variables, non_trainable)
        ]
        return logs, (trainable, non_trainable, *rest)

    def test_step(self, *args):
        *state, data = args
        return super().test_step(*state, self._labels_into_x(data))

    def _labels_into_x(self, data):
        """`fit(x, labels)` arrives as x, y: the model needs both as inputs."""
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if y is not None:
            x = (x, y)
        has_labels = isinstance(x, (tuple, list))
        if self.context_shape is not None:
            if not has_labels:
                raise ValueError(
                    "A DiffusionModel conditioned on a context sequence "
                    "trains on `(x, context)` or `(x, (context, "
                    "context_mask))`. Received: context=None"
                )
        elif has_labels != (self.num_classes is not None):
            raise ValueError(
                "A conditional DiffusionModel (num_classes="
                f"{self.num_classes}) trains on `(x, labels)` and an "
                "unconditional one on `x` alone. Received labels="
                f"{'a tensor' if has_labels else 'None'}"
            )
        return (x, None, sample_weight)

    def _split(self, inputs):
        """`(images, condition)`: the network's extra inputs, a list."""
        if isinstance(inputs, (tuple, list)):
            images, labels = sequence(
                "inputs", inputs, (2,), "x or (x, labels)"
            )
        else:
            images, labels = inputs, None
        if self.context_shape is not None:
            fits_input("x", images, self.network)
            batch = keras.ops.shape(images)[:1]
            return images, self._context_inputs(labels, images, batch)
        if labels is not None and self.num_classes is None:
            raise ValueError(
                "An unconditional DiffusionModel takes `x` alone. Received: "
                "labels (a tensor)"
            )
        if labels is None and self.num_classes is not None:
            # No labels: the "no label" class of classifier-free guidance.
            # Keras's JAX trainer also builds the model on `x` alone.
            batch = keras.ops.shape(images)[:1]
            labels = keras.ops.full(batch, self.num_classes, "int32")
        check_rank("labels", labels, (1, 2))
        same_batch_size(("x", images), ("labels", labels))
        fits_input("x", images, self.network)
        if labels is None:
            return images, []
        labels = keras.ops.cast(keras.ops.reshape(labels, (-1,)), "int32")
        return images, [labels]

    def _context_inputs(self, context, images, batch):
        """`[context]` or `[context, mask]`, checked; the null if None."""
        mask = None
        if isinstance(context, (tuple, list)):
            context, mask = sequence(
                "context", context, (2,), "context or (context, context_mask)"
            )
        if context is None:
            context = keras.ops.zeros(batch + self.context_shape, "float32")
        check_rank("context", context, (3,))
        shape = tuple(context.shape[1:])
        if shape != self.context_shape:
            raise ValueError(
                "Argument `context` must be shaped (batch,) + "
                f"{self.context_shape} (the network's context input). "
                f"Received: context.shape={tuple(context.shape)}"
            )
        same_batch_size(("x", images), ("context", context))
        context = keras.ops.cast(context, "float32")
        if not self.context_mask:
            if mask is not None:
                raise ValueError(
                    "Argument `context_mask` needs a network with a "
                    "context_mask input. Received: a context_mask"
                )
            return [context]
        if mask is None:
            ones = keras.ops.ones(batch + self.context_shape[:1])
            return [context, ones]
        check_rank("context_mask", mask, (2,))
        if tuple(mask.shape[1:]) != self.context_shape[:1]:
            raise ValueError(
                "Argument `context_mask` must be shaped (batch, "
                f"{self.context_shape[0]}). Received: "
                f"context_mask.shape={tuple(mask.shape)}"
            )
        same_batch_size(("context", context), ("context_mask", mask))
        return [context, keras.ops.cast(mask, "float32")]

    def _null(self, condition):
        """The "no condition" inputs of classifier-free guidance.

        The "no label" class, or an all-zero context (every key equal, so
        every position gets the same weight) with every position unmasked.
        """
        if self.context_shape is None:
            return [keras.ops.full_like(condition[0], self.num_classes)]
        null = [keras.ops.zeros_like(condition[0])]
        if len(condition) == 2:
            null.append(keras.ops.ones_like(condition[1]))
        return null

    def _to_model_range(self, images):
        low, high = self.data_range
        images = keras.ops.cast(images, "float32")
        return (images - low) * (2.0 / (high - low)) - 1.0

    # ------------------------------------------------------------------
    # Sampling: Algorithm 2 (DDPM) and DDIM, one compiled loop.
    # ------------------------------------------------------------------

    def generate(
        self,
        n,
        seed=None,
        labels=None,
        steps=None,
        guidance_scale=1.0,
        sampler="ddpm",
        eta=0.0,
        jit_compile=True,
        use_ema=None,
        context=None,
        context_mask=None,
    ):
        """Samples `n` images by running the reverse process.

        Args:
            n: number of samples, a positive integer.
            seed: integer seed; the same seed gives the same samples.
                `None` draws a fresh one.
            labels: for a conditional model, an int or an int array of
                shape `(n,)` in `[0, num_classes]` (`num_classes` means
                "no label"); `None` samples unconditionally. Must be `None`
                for an unconditional model.
            steps: number of denoising steps, at most `schedule.steps`;
                `None` uses all of them. Fewer steps visit an evenly spaced
                subsequence of the timesteps (from `T - 1` to 0), for
                every sampler.
            guidance_scale: classifier-free guidance weight `w`; 1.0 is
                plain conditional sampling, larger values push samples
                toward their class.
            sampler: `"ddpm"` (ancestral), `"ddim"` or `"dpmpp_2m"`
                (DPM-Solver++(2M), Algorithm 2 of Lu et al., 2022:
                deterministic, multistep second order in the log-SNR
                `lambda_t = log(sqrt(abar_t) / sqrt(1 - abar_t))` on the
                predicted `x_0`; first order on the first step, into
                `t = 0` and from there to `x_0`). DDPM wants all `T` steps;
                DDIM 50 or so; DPM-Solver++ is meant for 10-25.
            eta: DDIM's noise level (0 = deterministic, 1 ~ DDPM); the
                other samplers ignore it.
            jit_compile: compile the sampling loop with XLA.
            use_ema: sample with the moving average of the weights
                (`None`: when `ema_decay` is set). The network's own
                weights are back in place when `generate` returns.
            context: for a model conditioned on a context sequence, a float
                array `(n, length, dim)` or one `(length, dim)` for every
                sample; `None` samples with the null (all-zero) context.
            context_mask: with a network taking a context mask, an array
                `(n, length)` or `(length,)`, 1 (or `True`) for real tokens
                and 0 for padding; `None` leaves every position visible.

        Returns:
            A float32 NumPy array shaped `(n,) + image_shape`, in
            `data_range`.
        """
        n = positive_int("n", n)
        total = self.schedule.steps
        steps = positive_int("steps", total if steps is None else steps)
        ordered("steps", steps, "schedule.steps", total)
        one_of("sampler", sampler, _SAMPLERS)
        non_negative_number("eta", eta)
        condition = self._sampling_condition(labels, context, context_mask, n)
        use_ema = self._ema is not None if use_ema is None else use_ema
        if boolean("use_ema", use_ema) and self._ema is None:
            raise ValueError(
                "Argument `use_ema` needs a model built with `ema_decay`. "
                "Received: use_ema=True with ema_decay=None"
            )
        guided = bool(condition) and guidance_scale != 1.0
        if seed is None:
            seed = int(np.random.randint(0, 2**31 - 1))
        key = (n, int(steps), sampler, float(eta), guided, bool(jit_compile))
        run = self._samplers.get(key)
        if run is None:
            tables = _step_tables(self.schedule, int(steps), sampler, eta)
            run = compiled_loop(
                lambda s, c, w: self._sample_loop(n, tables, s, c, w, guided),
                self.network.variables,
                jit_compile,
            )
            self._samplers.put(key, run)
        seed_pair = np.array([seed, 0], dtype=self._sampling_seed.state.dtype)
        if use_ema:
            with self._ema.swapped_in():
                x = run(seed_pair, condition, np.float32(guidance_scale))
        else:
            x = run(seed_pair, condition, np.float32(guidance_scale))
        x = keras.ops.convert_to_numpy(x)
        low, high = self.data_range
        x = (x + 1.0) * ((high - low) / 2.0) + low
        return np.clip(x, low, high).astype("float32")

    def _sampling_condition(self, labels, context, context_mask, n):
        """The network's extra inputs for `n` samples, NumPy arrays."""
        if self.context_shape is None:
            if context is not None or context_mask is not None:
                raise ValueError(
                    "Arguments `context` and `context_mask` need a network "
                    "conditioned on a context sequence. Received: context="
                    f"{'None' if context is None else 'an array'}"
                )
            labels = self._sampling_labels(labels, n)
            return [] if self.num_classes is None else [labels]
        if labels is not None:
            raise ValueError(
                "Argument `labels` must be None for a model conditioned on a "
                "context sequence (pass `context`). Received: labels="
                f"{labels!r}"
            )
        shape = self.context_shape
        if context is None:
            context = np.zeros((n,) + shape, "float32")
        context = np.asarray(context, "float32")
        if context.shape == shape:
            context = np.broadcast_to(context, (n,) + shape)
        if context.shape != (n,) + shape:
            raise ValueError(
                f"Argument `context` must be shaped {(n,) + shape} or "
                f"{shape}. Received: context.shape={context.shape}"
            )
        if not self.context_mask:
            if context_mask is not None:
                raise ValueError(
                    "Argument `context_mask` needs a network with a "
                    "context_mask input. Received: a context_mask"
                )
            return [context]
        if context_mask is None:
            context_mask = np.ones((n, shape[0]), "float32")
        context_mask = np.asarray(context_mask)
        if context_mask.shape == shape[:1]:
            context_mask = np.broadcast_to(context_mask, (n, shape[0]))
        if context_mask.shape != (n, shape[0]):
            raise ValueError(
                f"Argument `context_mask` must be shaped {(n, shape[0])} or "
                f"{shape[:1]}. Received: context_mask.shape="
                f"{context_mask.shape}"
            )
        return [context, context_mask.astype("float32")]

    def _sampling_labels(self, labels, n):
        if self.num_classes is None:
            if labels is not None:
                raise ValueError(
                    "Argument `labels` must be None for an unconditional "
                    f"DiffusionModel. Received: labels={labels!r}"
                )
            return np.zeros((n,), "int32")
        if labels is None:
            return np.full((n,), self.num_classes, "int32")
        if np.ndim(labels) == 0:  # one class for every sample
            labels = np.full((n,), labels)
        # Index num_classes is the "no label" class of guidance.
        labels = class_labels("labels", labels, n, self.num_classes + 1)
        return labels.astype("int32")

    def _predict(self, x, t, condition, guidance_scale, guided):
        """The network's (guided) prediction of its target at `x_t`.

        `condition` is the list of the network's extra inputs (label, or
        context and mask). Guidance mixes the raw predictions: each target
        is affine in `eps` at fixed `x_t`, so this equals guiding `eps_hat`.
        """
        if not guided:
            eps = self.network([x, t, *condition], training=False)
            return keras.ops.cast(eps, "float32")
        both = [
            keras.ops.concatenate([c, n], 0)
            for c, n in zip(condition, self._null(condition))
        ]
        eps = self.network(
            [
                keras.ops.concatenate([x, x], 0),
                keras.ops.concatenate([t, t], 0),
                *both,
            ],
            training=False,
        )
        eps_cond, eps_uncond = keras.ops.split(
            keras.ops.cast(eps, "float32"), 2, axis=0
        )
        return eps_uncond + guidance_scale * (eps_cond - eps_uncond)

    def _sample_loop(self, n, tables, seed, condition, guidance_scale, guided):
        shape = (n,) + self.image_shape
        consts = {k: keras.ops.convert_to_tensor(v) for k, v in tables.items()}
        count = len(tables["timesteps"])

        def step(i, carry):
            x, seed, x0_prev = carry
            j = count - 1 - i
            pick = {k: keras.ops.take(v, j) for k, v in consts.items()}
            t = keras.ops.full((n,), pick["timesteps"], dtype="int32")
            out = self._predict(x, t, condition, guidance_scale, guided)
            sqrt_abar = pick["sqrt_abar"]
            sqrt_1m_abar = pick["sqrt_one_minus_abar"]
            x0, eps = _to_x0_eps(
                self.prediction, out, x, sqrt_abar, sqrt_1m_abar
            )
            if self.clip_denoised:
                x0 = keras.ops.clip(x0, -1.0, 1.0)
                eps = (x - sqrt_abar * x0) / sqrt_1m_abar
            z, seed = self._normal(shape, seed)
            x = (
                pick["coef_x0"] * x0
                + pick["coef_x0_prev"] * x0_prev
                + pick["coef_xt"] * x
                + pick["coef_eps"] * eps
                + pick["sigma"] * z
            )
            return x, seed, x0

        x, seed = self._normal(shape, seed)
        carry = (x, seed, keras.ops.zeros_like(x))
        return keras.ops.fori_loop(0, count, step, carry)[0]

    def _normal(self, shape, seed):
        """Standard normal noise from a seed carried through the loop.

        The seed generator's state is mapped to `seed` in a stateless scope,
        so no variable is written inside the compiled loop (any backend).
        """
        state = self._sampling_seed.state
        with keras.StatelessScope(state_mapping=[(state, seed)]) as scope:
            z = keras.random.normal(shape, seed=self._sampling_seed)
            return z, scope.get_current_value(state)

    # ------------------------------------------------------------------
    # Serialization.
    # ------------------------------------------------------------------

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
            "network": keras.saving.serialize_keras_object(self.network),
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "num_classes": self.num_classes,
            "label_dropout": self.label_dropout,
            "data_range": list(self.data_range),
            "clip_denoised": self.clip_denoised,
            "seed": self.seed,
            "ema_decay": self.ema_decay,
            "prediction": self.prediction,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["network"] = keras.saving.deserialize_keras_object(
            config["network"]
        )
        config["schedule"] = keras.saving.deserialize_keras_object(
            config["schedule"]
        )
        return cls(**config)


def _context_shape(network):
    """`(length, dim)` of a network's context input, or None."""
    inputs = network.inputs
    if len(inputs) < 3 or len(inputs[2].shape) != 3:
        if len(inputs) == 4:
            raise ValueError(
                "Argument `network` with four inputs must take "
                "[x_t, t, context, context_mask] with a context shaped "
                "(batch, length, dim). Received: a third input shaped "
                f"{tuple(inputs[2].shape)}"
            )
        return None
    shape = tuple(inputs[2].shape[1:])
    if None in shape:
        raise ValueError(
            "Argument `network` must take a context of fixed length and "
            f"dim. Received: a context input shaped {tuple(inputs[2].shape)}"
        )
    return shape


def _step_tables(schedule, steps, sampler, eta):
    """Per-step coefficients of the reverse process, in NumPy (float32).

    The visited timesteps are all `T` of them or, for `steps < T`, `steps`
    evenly spaced ones from 0 to `T - 1`; `abar_prev` is the cumulative
    alpha of the next visited (smaller) timestep, 1 after the last.
    """
    total = schedule.steps
    if steps == total:
        timesteps = np.arange(total)
    elif steps == 1:
        timesteps = np.array([total - 1])
    else:
        timesteps = np.round(np.linspace(0, total - 1, steps)).astype("int64")
    abar = schedule.alphas_cumprod[timesteps]
    abar_prev = np.append(1.0, abar[:-1])
    coef_x0_prev = np.zeros_like(abar)
    if sampler == "ddpm":
        beta = 1.0 - abar / abar_prev
        coef_x0 = beta * np.sqrt(abar_prev) / (1.0 - abar)
        coef_xt = (1.0 - abar_prev) * np.sqrt(1.0 - beta) / (1.0 - abar)
        coef_eps = np.zeros_like(abar)
        sigma = np.sqrt(beta * (1.0 - abar_prev) / (1.0 - abar))
    elif sampler == "ddim":
        sigma = eta * np.sqrt(
            (1.0 - abar_prev) / (1.0 - abar) * (1.0 - abar / abar_prev)
        )
        coef_x0 = np.sqrt(abar_prev)
        coef_xt = np.zeros_like(abar)
        coef_eps = np.sqrt(np.maximum(1.0 - abar_prev - sigma**2, 0.0))
    else:
        coef_x0, coef_x0_prev, coef_xt = _dpmpp_2m_coefficients(abar)
        coef_eps = np.zeros_like(abar)
        sigma = np.zeros_like(abar)
    tables = {
        "sqrt_abar": np.sqrt(abar),
        "sqrt_one_minus_abar": np.sqrt(1.0 - abar),
        "coef_x0": coef_x0,
        "coef_x0_prev": coef_x0_prev,
        "coef_xt": coef_xt,
        "coef_eps": coef_eps,
        "sigma": sigma,
    }
    tables = {k: v.astype("float32") for k, v in tables.items()}
    tables["timesteps"] = timesteps.astype("int32")
    return tables


def _dpmpp_2m_coefficients(abar):
    """DPM-Solver++(2M) as `c0 x0_hat_i + c1 x0_hat_{i-1} + c2 x_t`.

    `abar` is ascending in the timestep (the sampling order is reversed).
    With `lambda = log(alpha / sigma)`, `h = lambda_next - lambda` and
    `r = h_prev / h`, Algorithm 2 of Lu et al. (2022) steps to
    `x_next = (sigma_next / sigma) x_t + alpha_next (1 - exp(-h)) D` with
    `D = (1 + 1 / (2 r)) x0_hat_i - x0_hat_{i-1} / (2 r)`. First order
    (`D = x0_hat_i`, a DDIM step) at the first step, at the step into
    `t = 0` (evenly spaced timesteps leave a wide log-SNR gap there, so
    `r` is small and the extrapolation overshoots; diffusers' final step
    into `sigma = 0` is first order too) and at the last one, to
    `abar = 1` (`sigma_next = 0`, `h` infinite), which returns `x0_hat`.
    """
    lam = 0.5 * (np.log(abar) - np.log1p(-abar))
    lam_next = np.append(np.inf, lam[:-1])
    abar_next = np.append(1.0, abar[:-1])
    h = lam_next - lam
    h_prev = np.append(h[1:], np.nan)  # the step before, in sampling order
    phi = -np.expm1(-h)  # 1 - exp(-h)
    sigma_ratio = np.sqrt((1.0 - abar_next) / (1.0 - abar))
    weight = np.sqrt(abar_next) * phi
    second = np.ones_like(abar, dtype=bool)
    second[:2] = False  # the step into t = 0 and the one from it
    second[-1] = False  # the first step: no previous x0_hat yet
    half = np.zeros_like(abar)  # 1 / (2 r), 0 on the first-order steps
    half[second] = 0.5 * h[second] / h_prev[second]
    return weight * (1.0 + half), -weight * half, sigma_ratio


def _target(prediction, x0, eps, sqrt_abar, sqrt_1m_abar):
    """What the network learns to predict: `eps`, `v` or `x0`."""
    if prediction == "epsilon":
        return eps
    if prediction == "v":
        return sqrt_abar * eps - sqrt_1m_abar * x0
    return x0


def _to_x0_eps(prediction, out, x_t, sqrt_abar, sqrt_1m_abar):
    """`(x0_hat, eps_hat)` from the network's prediction at `x_t`."""
    if prediction == "epsilon":
        return (x_t - sqrt_1m_abar * out) / sqrt_abar, out
    if prediction == "v":
        x0 = sqrt_abar * x_t - sqrt_1m_abar * out
        return x0, sqrt_1m_abar * x_t + sqrt_abar * out
    return out, (x_t - sqrt_abar * out) / sqrt_1m_abar


class _SamplerCache:
    """Compiled sampling loops by their static arguments (kept untracked)."""

    def __init__(self):
        self._runs = {}

    def get(self, key):
        return self._runs.get(key)

    def put(self, key, run):
        self._runs[key] = run


class _Ema:
    """Moving averages of a network's trainable weights, kept by `model`.

    They are non-trainable weights of `model` itself (saved with it,
    replicated like its weights under `tf.distribute` and
    `keras.distribution`), one per trainable weight of `network` when the
    model was built, initialised to the weights. Update `k` (0, 1, ...)
    sets `ema = d_k ema + (1 - d_k) w` with `d_0 = 0` (a copy of the
    weights after the first step) and then the warm-up of common practice,
    `d_k = min(decay, (1 + k) / (10 + k))`. Kept in a plain object so
    Keras does not track the network's weights twice.
    """

    def __init__(self, model, network):
        self.decay = model.ema_decay
        self.sources = list(network.trainable_variables)
        self.count = model.add_weight(
            shape=(),
            initializer="zeros",
            dtype="int32",
            trainable=False,
            aggregation="only_first_replica",
            name="ema_updates",
        )
        self.averages = [
            model.add_weight(
                shape=v.shape,
                initializer=_value_of(v),
                dtype=v.dtype,
                trainable=False,
                autocast=False,
                aggregation="only_first_replica",
                name=f"ema_{i}",
            )
            for i, v in enumerate(self.sources)
        ]

    def update(self):
        k = keras.ops.cast(self.count.value, "float32")
        warm_up = keras.ops.minimum(self.decay, (1.0 + k) / (10.0 + k))
        decay = keras.ops.where(k > 0, warm_up, 0.0)
        for average, weight in zip(self.averages, self.sources):
            d = keras.ops.cast(decay, average.dtype)
            average.assign(d * average.value + (1 - d) * weight.value)
        self.count.assign(self.count.value + 1)

    @contextlib.contextmanager
    def swapped_in(self):
        """The averages in the network's weights, the weights back after."""
        saved = [keras.ops.copy(v.value) for v in self.sources]
        try:
            for weight, average in zip(self.sources, self.averages):
                weight.assign(average.value)
            yield
        finally:
            for weight, value in zip(self.sources, saved):
                weight.assign(value)


def _value_of(variable):
    """An initializer returning `variable`'s current value."""
    value = keras.ops.convert_to_numpy(variable.value)
    return lambda shape, dtype=None: keras.ops.convert_to_tensor(value, dtype)
