"""Generative adversarial networks: `GAN` and the conditional `ConditionalGAN`.

The training step alternates two updates with two optimizers. It is written
once (`StatefulStep`), with per-network gradients from each backend's own
autodiff (`value_and_gradients`), and trains alike on TensorFlow and JAX.
"""

import keras
import numpy as np
from keras import ops

from keras_dlparts._autodiff import value_and_gradients
from keras_dlparts._validation import check_rank
from keras_dlparts._validation import class_labels
from keras_dlparts._validation import fits_input
from keras_dlparts._validation import function
from keras_dlparts._validation import keras_object
from keras_dlparts._validation import model_input_shape
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import same_batch_size
from keras_dlparts._validation import sequence
from keras_dlparts.losses.gan import GAN_LOSS_KINDS
from keras_dlparts.losses.gan import GANDiscriminatorLoss
from keras_dlparts.losses.gan import GANGeneratorLoss
from keras_dlparts.models._resume import SeedState
from keras_dlparts.models._stateful_step import StatefulStep
from keras_dlparts.models._stateful_step import apply_gradients


def _get_loss(value, cls, name):
    """A loss object from a kind, a config or a callable, refused by `name`."""
    if isinstance(value, str):
        # The loss checks `kind` too; checked here, the message names `name`.
        return cls(kind=one_of(name, value, GAN_LOSS_KINDS))
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    return function(name, value)


def _check_latent_dim(generator, latent_dim):
    """Refuses a `latent_dim` that the generator's code input cannot take."""
    shape = model_input_shape(generator)
    if shape is not None and shape[-1] is not None and shape[-1] != latent_dim:
        raise ValueError(
            f"Argument `latent_dim` must match the generator's code input "
            f"{shape}. Received: latent_dim={latent_dim}"
        )


class _OptimizerPair:
    """`model.optimizer` of a GAN: its two optimizers seen as one.

    Keras's JAX trainer carries `model.optimizer.variables` through every
    step, so they list both optimizers' variables; `optimizers` lets
    `keras.callbacks.LearningRateScheduler` and `ReduceLROnPlateau` reach
    both, as for `keras.optimizers.MultiOptimizer`. It is not a Keras
    object and is not saved: the model saves `d_optimizer` and
    `g_optimizer`, each once.
    """

    def __init__(self, d_optimizer, g_optimizer):
        self.optimizers = [d_optimizer, g_optimizer]

    @property
    def variables(self):
        return [v for optimizer in self.optimizers for v in optimizer.variables]

    @property
    def built(self):
        return all(optimizer.built for optimizer in self.optimizers)

    def build(self, variables):
        """Nothing to do: `GAN.compile` builds each on its own network."""

    @property
    def iterations(self):
        """The number of training steps (`d_optimizer.iterations`)."""
        return self.optimizers[0].iterations


class MovingAverageFit:
    """Mixin: `fit` ends with each optimizer's `finalize_variable_values`.

    Keras's trainer calls `model.optimizer.finalize_variable_values` after
    `fit`, so that an optimizer built with `use_ema=True` leaves the
    moving averages of the weights in the model. A model with two
    optimizers (`d_optimizer`, `g_optimizer`) does the same for each, on
    the weights it updates (`_d_weights()`, `_g_weights()`): with
    `g_optimizer=keras.optimizers.Adam(use_ema=True, ema_momentum=0.99)`
    the generator's weights become their exponential moving average
    (Yazici et al., 2019), and the discriminator's stay as trained.
    """

    def fit(self, *args, **kwargs):
        history = super().fit(*args, **kwargs)
        for optimizer, weights in self._optimizers_and_weights():
            # No step taken yet: the averages hold no weights to keep.
            if int(keras.ops.convert_to_numpy(optimizer.iterations)):
                optimizer.finalize_variable_values(weights)
        return history

    def _optimizers_and_weights(self):
        if getattr(self, "d_optimizer", None) is None:
            return []
        return [
            (self.d_optimizer, self._d_weights()),
            (self.g_optimizer, self._g_weights()),
        ]


@keras.saving.register_keras_serializable(package="keras_dlparts")
class GAN(SeedState, StatefulStep, MovingAverageFit, keras.Model):
    """A GAN trained by alternating discriminator and generator updates.

    Each `fit` step draws `z ~ N(0, I)` and takes two gradient steps
    (Goodfellow et al., 2014):

    1. discriminator: minimise `d_loss(D(x), D(G(z)))` over D's trainable
       weights only, with `d_optimizer`;
    2. generator: with fresh codes, minimise `g_loss(D(x), D(G(z)))` over
       G's trainable weights only, with `g_optimizer`.

    The losses take discriminator logits (see
    `keras_dlparts.losses.GANDiscriminatorLoss` and `GANGeneratorLoss`,
    default the non-saturating pair). `fit(x)` reports `d_loss` and
    `g_loss`; `evaluate` computes both without updating anything. Under a
    `mixed_float16` policy both optimizers are wrapped in a
    `keras.optimizers.LossScaleOptimizer`. The step is the same on the
    TensorFlow and JAX backends (`model.optimizer` holds both optimizers,
    so that JAX's trainer carries their state). As for any Keras model,
    an optimizer built with `use_ema=True` leaves the moving average of
    the weights it trains in the model when `fit` ends: a `g_optimizer`
    with `use_ema=True, ema_momentum=0.99` samples from the average of
    the generator's recent weights, which lowers FD-digits on digits.

    Calling the model scores inputs with the discriminator:
    `model(x)` returns `D`'s logits; `generate(n, seed)` draws samples.

    Built at construction when its networks are (functional, or
    `Sequential` with a `keras.Input`), so `keras.callbacks.BackupAndRestore`
    can resume its training; build networks of unknown input shape
    (call each on a batch) before constructing the GAN. Weights files
    (`.keras`, `save_weights`, backups) also hold its random seed states,
    so a resumed run draws the same numbers as an uninterrupted one.

    Args:
        generator: a `keras.Model` from codes `(batch, latent_dim)` to
            samples.
        discriminator: a `keras.Model` from samples to logits `(batch, 1)`.
        latent_dim: positive int, the size of the codes.
        seed: optional integer seed of the training codes.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: a batch of samples.
        training: Python boolean, passed to the discriminator.

    Returns:
        The discriminator's logits.

    Examples:

        >>> import keras, numpy as np
        >>> g = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
        >>> d = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        >>> gan = GAN(g, d, latent_dim=2, seed=0)
        >>> gan.compile(d_optimizer="adam", g_optimizer="adam", d_loss="hinge",
        ...             g_loss="hinge")
        >>> x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
        >>> sorted(gan.fit(x, epochs=1, verbose=0).history)
        ['d_loss', 'g_loss']
        >>> tuple(gan.generate(4, seed=1).shape)
        (4, 3)
    """

    def __init__(
        self, generator, discriminator, latent_dim, seed=None, **kwargs
    ):
        keras_object("generator", generator, keras.Model)
        keras_object("discriminator", discriminator, keras.Model)
        positive_int("latent_dim", latent_dim)
        _check_latent_dim(generator, latent_dim)
        random_seed("seed", seed)
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        # No weights of its own: built when both networks are, so that
        # `fit` does not call the model on a training batch to build it
        # (a ConditionalGAN's batch is not the discriminator's input).
        self.built = generator.built and discriminator.built

    # -- conditioning hooks (ConditionalGAN overrides these three) ----------

    def _split_batch(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        self._check_inputs(x)
        return x, None

    def _check_inputs(self, inputs):
        fits_input("inputs", inputs, self.discriminator)

    def _generate(self, z, condition, training):
        return self.generator(z, training=training)

    def _discriminate(self, samples, condition, training):
        return self.discriminator(samples, training=training)

    # -- Keras API -----------------------------------------------------------

    def call(self, inputs, training=None):
        self._check_inputs(inputs)
        return self.discriminator(inputs, training=training)

    def compile(
        self,
        d_optimizer="adam",
        g_optimizer="adam",
        d_loss="non_saturating",
        g_loss="non_saturating",
        **kwargs,
    ):
        """Configures the two optimizers and the two losses.

        `model.optimizer` then holds both optimizers (its `optimizers` and
        `variables`), so that Keras's JAX trainer carries their state and
        learning-rate callbacks reach both.

        Args:
            d_optimizer, g_optimizer: optimizers (instances, names or
                configs) of the discriminator and the generator.
            d_loss, g_loss: a GAN loss kind (`"minimax"`,
                `"non_saturating"`, `"hinge"`, `"least_squares"`) or a loss
                callable `(real_logits, fake_logits) -> scalar`: a
                `keras.losses.Loss`, or any callable returning the batch
                mean.
            **kwargs: other `keras.Model.compile` arguments (`jit_compile`,
                `run_eagerly`, `steps_per_execution`); no `optimizer` or
                `loss`.
        """
        self._compile_pair(d_optimizer, g_optimizer, d_loss, g_loss, kwargs)

    def _compile_pair(self, d_optimizer, g_optimizer, d_loss, g_loss, kwargs):
        """`compile`'s work, shared with `CycleGAN` (see `_d_weights`)."""
        for banned in ("optimizer", "loss"):
            if banned in kwargs:
                raise ValueError(
                    f"{type(self).__name__}.compile takes `d_{banned}` and "
                    f"`g_{banned}`, not `{banned}`. Received: "
                    f"{banned}={kwargs[banned]!r}"
                )
        keras.Model.compile(self, optimizer=None, **kwargs)
        self.d_optimizer = self._loss_scaled(keras.optimizers.get(d_optimizer))
        self.g_optimizer = self._loss_scaled(keras.optimizers.get(g_optimizer))
        self.d_loss_fn = _get_loss(d_loss, GANDiscriminatorLoss, "d_loss")
        self.g_loss_fn = _get_loss(g_loss, GANGeneratorLoss, "g_loss")
        self.d_optimizer.build(self._d_weights())
        self.g_optimizer.build(self._g_weights())
        self.optimizer = _OptimizerPair(self.d_optimizer, self.g_optimizer)
        self._gan_compile_args = dict(
            d_optimizer=d_optimizer,
            g_optimizer=g_optimizer,
            d_loss=d_loss,
            g_loss=g_loss,
            **kwargs,
        )

    def _d_weights(self):
        return self.discriminator.trainable_variables

    def _g_weights(self):
        return self.generator.trainable_variables

    def _loss_scaled(self, optimizer):
        if self.dtype_policy.name == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer
        ):
            return keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer

    def get_compile_config(self):
        if not self.compiled:
            return {}
        return {
            key: keras.saving.serialize_keras_object(value)
            for key, value in self._gan_compile_args.items()
        }

    def compile_from_config(self, config):
        self.compile(
            **{
                key: keras.saving.deserialize_keras_object(value)
                for key, value in config.items()
            }
        )

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def _codes(self, batch_size):
        return keras.random.normal(
            (batch_size, self.latent_dim), seed=self.seed_generator
        )

    def _real_and_fake_logits(self, real, condition, training):
        batch_size = ops.shape(keras.tree.flatten(real)[0])[0]
        fake = self._generate(self._codes(batch_size), condition, training)
        real_logits = self._discriminate(real, condition, training)
        fake_logits = self._discriminate(fake, condition, training)
        return fake, real_logits, fake_logits

    def _num_replicas(self):
        # TensorFlow runs the step on each replica of the model's
        # `tf.distribute` strategy; JAX's trainer sees the whole batch.
        strategy = getattr(self, "distribute_strategy", None)
        return 1 if strategy is None else strategy.num_replicas_in_sync

    def _objective_and_loss(self, loss_fn, loss, network):
        """This replica's objective and the loss of the batch, from `loss`.

        Under `tf.distribute` each replica sees its share of the batch and
        the replicas' gradients are summed. A `keras.losses.Loss` accounts
        for that itself (a mean reduction divides by the number of
        replicas, a sum adds up across them), so its value is the objective
        and times the number of replicas the batch's loss (the replicas'
        reports are averaged); another callable is taken as a batch mean
        and divided here. The networks' own losses are divided too, as
        Keras's trainer does. On one replica, and on JAX (whose trainer
        sees the whole batch), the objective is `loss` plus the networks'
        losses.
        """
        replicas = self._num_replicas()
        extra = self._extra_losses(network)
        if replicas == 1:
            return loss + extra, loss
        if isinstance(loss_fn, keras.losses.Loss):
            objective, batch_loss = loss, loss * replicas
        else:
            objective, batch_loss = loss / replicas, loss
        return objective + extra / replicas, batch_loss

    def _generator_objective(self, real, fake, real_logits, fake_logits, net):
        """The generator's objective and its logs, `{"g_loss": ...}`.

        A hook (`SRGAN` adds its content loss): `net` is the generator in
        a training step (its own losses join the objective), `None` in a
        test step.
        """
        objective, g_loss = self._objective_and_loss(
            self.g_loss_fn, self.g_loss_fn(real_logits, fake_logits), net
        )
        return objective, {"g_loss": g_loss}

    def _report(self, logs):
        """Updates each tracker of `metrics` with `logs[its name]`."""
        for tracker in self.metrics:
            tracker.update_state(logs[tracker.name])
        return {m.name: m.result() for m in self.metrics}

    def stateful_train_step(self, data):
        real, condition = self._split_batch(data)
        batch_size = ops.shape(keras.tree.flatten(real)[0])[0]
        # Codes, dropout masks and batch-norm statistics change in both
        # steps; on JAX their new values come out of the differentiation.
        state = self.non_trainable_variables
        d_weights = self.discriminator.trainable_variables
        g_weights = self.generator.trainable_variables

        def d_objective():
            _, real_logits, fake_logits = self._real_and_fake_logits(
                real, condition, True
            )
            objective, d_loss = self._objective_and_loss(
                self.d_loss_fn,
                self.d_loss_fn(real_logits, fake_logits),
                self.discriminator,
            )
            scaled = self.d_optimizer.scale_loss(objective)
            return scaled, (d_loss, real_logits)

        (_, (d_loss, real_logits)), grads = value_and_gradients(
            d_objective, d_weights, state_variables=state
        )
        apply_gradients(self.d_optimizer, grads, d_weights)
        real_logits = ops.stop_gradient(real_logits)

        def g_objective():
            fake = self._generate(self._codes(batch_size), condition, True)
            fake_logits = self._discriminate(fake, condition, True)
            objective, g_logs = self._generator_objective(
                real, fake, real_logits, fake_logits, self.generator
            )
            return self.g_optimizer.scale_loss(objective), g_logs

        (_, g_logs), grads = value_and_gradients(
            g_objective, g_weights, state_variables=state
        )
        apply_gradients(self.g_optimizer, grads, g_weights)
        return self._report({"d_loss": d_loss, **g_logs})

    def stateful_test_step(self, data):
        real, condition = self._split_batch(data)
        fake, real_logits, fake_logits = self._real_and_fake_logits(
            real, condition, False
        )
        _, d_loss = self._objective_and_loss(
            self.d_loss_fn, self.d_loss_fn(real_logits, fake_logits), None
        )
        _, g_logs = self._generator_objective(
            real, fake, real_logits, fake_logits, None
        )
        return self._report({"d_loss": d_loss, **g_logs})

    @staticmethod
    def _extra_losses(network):
        if network is None or not network.losses:
            return 0.0
        return ops.sum([ops.cast(loss, "float32") for loss in network.losses])

    def generate(self, n, seed=None):
        """Draws `n` samples `G(z)`, `z ~ N(0, I)`; equal seeds repeat.

        Args:
            n: positive int, the number of samples.
            seed: optional int (or `SeedGenerator`); equal seeds give equal
                samples.

        Returns:
            A NumPy array of shape `(n,) + generator.output_shape[1:]`.
        """
        positive_int("n", n)
        z = keras.random.normal((n, self.latent_dim), seed=seed)
        return ops.convert_to_numpy(self.generator(z, training=False))

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(
                    self.generator
                ),
                "discriminator": keras.saving.serialize_keras_object(
                    self.discriminator
                ),
                "latent_dim": self.latent_dim,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("generator", "discriminator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class ConditionalGAN(GAN):
    """A GAN whose generator and discriminator both see a class label.

    Mirza & Osindero (2014): the generator maps `[z, label]` to a sample of
    that class and the discriminator scores `[sample, label]` pairs, so it
    also rejects real-looking samples of the wrong class. Train with
    `fit(x, labels)` or `fit((x, labels))` (integer labels `(batch,)`);
    `generate(n, seed, labels)` draws samples of the given classes.

    Args:
        generator: a `keras.Model` from `[codes (batch, latent_dim), labels
            (batch,)]` to samples (e.g. `build_dcgan_generator(...,
            num_classes=...)`).
        discriminator: a `keras.Model` from `[samples, labels]` to logits.
        latent_dim: positive int, the size of the codes.
        num_classes: positive int, the number of classes.
        seed: optional integer seed of the training codes.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: `[samples, labels]`.
        training: Python boolean.

    Returns:
        The discriminator's logits.

    Examples:

        >>> import keras, numpy as np
        >>> from keras_dlparts.models import build_dcgan_discriminator
        >>> from keras_dlparts.models import build_dcgan_generator
        >>> g = build_dcgan_generator(4, (8, 8, 1), filters=(4,), num_classes=3)
        >>> d = build_dcgan_discriminator((8, 8, 1), (4,), num_classes=3)
        >>> cgan = ConditionalGAN(g, d, latent_dim=4, num_classes=3, seed=0)
        >>> cgan.compile()
        >>> x = np.random.default_rng(0).random((6, 8, 8, 1)).astype("float32")
        >>> _ = cgan.fit(x, np.arange(6) % 3, epochs=1, verbose=0)
        >>> tuple(cgan.generate(3, seed=0, labels=[0, 1, 2]).shape)
        (3, 8, 8, 1)
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        num_classes,
        seed=None,
        **kwargs,
    ):
        positive_int("num_classes", num_classes)
        super().__init__(generator, discriminator, latent_dim, seed, **kwargs)
        self.num_classes = num_classes

    def _split_batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            x, y = sequence(
                "x",
                x,
                (2,),
                "(samples, labels) when no labels come: call "
                "`fit(x, labels)` or `fit((x, labels))`",
            )
        self._check_inputs((x, y))
        return x, ops.cast(y, "int32")

    def _check_inputs(self, inputs):
        samples, labels = sequence(
            "inputs", inputs, (2,), "a pair [samples, labels]"
        )
        fits_input("samples", samples, self.discriminator, 0)
        check_rank("labels", labels, (1, 2))
        same_batch_size(("samples", samples), ("labels", labels))

    def _generate(self, z, condition, training):
        return self.generator([z, condition], training=training)

    def _discriminate(self, samples, condition, training):
        return self.discriminator([samples, condition], training=training)

    def generate(self, n, seed=None, labels=None):
        """Draws `n` samples of classes `labels` (default `i % num_classes`).

        Args:
            n: positive int, the number of samples.
            seed: optional int (or `SeedGenerator`); equal seeds give equal
                samples.
            labels: optional int array of shape `(n,)`, the class of each
                sample.

        Returns:
            A NumPy array of shape `(n,) + generator.output_shape[1:]`.
        """
        positive_int("n", n)
        if labels is None:
            labels = np.arange(n) % self.num_classes
        labels = class_labels("labels", labels, n, self.num_classes)
        labels = ops.convert_to_tensor(labels.astype("int32"))
        z = keras.random.normal((n, self.latent_dim), seed=seed)
        return ops.convert_to_numpy(self.generator([z, labels], training=False))

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
