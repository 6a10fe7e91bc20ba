"""CycleGAN: unpaired image-to-image translation (Zhu et al., 2017).

Two generators translate between domains A and B, two discriminators judge
each domain, and cycle consistency (`A -> B -> A` returns the input) ties
the translations to their inputs, so no paired examples are needed. The
two-optimizer step and its distribution, loss-scaling and compile-config
handling are `GAN`'s own methods, shared here.
"""

import keras
from keras import ops

from keras_dlparts._autodiff import value_and_gradients
from keras_dlparts._validation import fits_input
from keras_dlparts._validation import keras_object
from keras_dlparts._validation import model_input_shape
from keras_dlparts._validation import non_negative_number
from keras_dlparts._validation import sequence
from keras_dlparts._validation import shapes_agree
from keras_dlparts.models._resume import SeedState
from keras_dlparts.models._resume import known_output_shape
from keras_dlparts.models._stateful_step import StatefulStep
from keras_dlparts.models._stateful_step import apply_gradients
from keras_dlparts.models.gan import GAN
from keras_dlparts.models.gan import MovingAverageFit


def _l1(x, y):
    """The mean absolute difference, in float32."""
    return ops.mean(ops.abs(ops.cast(x, "float32") - ops.cast(y, "float32")))


def _check_fits(name, shape, what, expected, where):
    """Refuses `name` when `shape` (its `what`) cannot be `expected`."""
    if not shapes_agree(shape, expected):
        raise ValueError(
            f"Argument `{name}` must have {what} {expected} ({where}). "
            f"Received: {name} with {what} {shape}"
        )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class CycleGAN(SeedState, StatefulStep, MovingAverageFit, keras.Model):
    """Unpaired translation between two domains (Zhu et al., 2017).

    `generator_ab` maps domain A to B, `generator_ba` B to A; the
    discriminators `discriminator_a` and `discriminator_b` return logits
    for samples of A and B. Each `fit` step takes two gradient steps, in
    the order of the authors' code:

    1. generators, over both generators' weights with `g_optimizer`:
       `g_loss = adv(D_B(G_AB(a))) + adv(D_A(G_BA(b)))
       + cycle_weight * cycle_loss
       + identity_weight * cycle_weight * identity_loss`, where
       `cycle_loss = mean|G_BA(G_AB(a)) - a| + mean|G_AB(G_BA(b)) - b|`
       and `identity_loss = mean|G_BA(a) - a| + mean|G_AB(b) - b|`;
    2. discriminators, over both discriminators' weights with
       `d_optimizer`: `d_loss = d(D_A(a), D_A(G_BA(b)))
       + d(D_B(b), D_B(G_AB(a)))` on the translations of step 1.

    `identity_weight` is a fraction of `cycle_weight`, as in the paper's
    code (`lambda_identity = 0.5`). The adversarial losses default to
    least squares, as in the paper: the discriminator's
    `0.5 (D(x) - 1)^2 + 0.5 D(G(.))^2` is the authors' exactly, the
    generator's `0.5 (D(G(.)) - 1)^2` half of theirs. No history pool of
    past translations is kept. `fit` reports `g_loss`, `d_loss`,
    `cycle_loss` and, when `identity_weight > 0`, `identity_loss` (the
    unweighted sums above); `evaluate` computes them without updating
    anything and returns `g_loss` first.

    Train on unpaired batches: `fit((a, b))` or `fit(a, b)` with two
    arrays of the same length (shuffle one of them yourself if the rows
    are paired; `fit` shuffles the pairs, not the domains), or a
    `tf.data.Dataset` yielding `(a, b)`, e.g.
    `tf.data.Dataset.zip((ds_a.shuffle(n), ds_b.shuffle(n)))`.

    Calling the model translates both ways: `model([a, b])` returns
    `[G_AB(a), G_BA(b)]`; `translate_ab(a)` and `translate_ba(b)` return
    NumPy arrays. Networks must be built (functional, or `Sequential`
    with a `keras.Input`) for their shapes to be checked: `generator_ab`'s
    output must fit `generator_ba`'s input and `discriminator_b`'s, and
    the other way round; with `identity_weight > 0` both generators take
    the same shape.

    Args:
        generator_ab: a `keras.Model` from domain A to domain B.
        generator_ba: a `keras.Model` from domain B to domain A.
        discriminator_a: a `keras.Model` from samples of A to logits
            `(batch, 1)`.
        discriminator_b: a `keras.Model` from samples of B to logits.
        cycle_weight: number >= 0, the weight of the cycle loss (10 in
            the paper).
        identity_weight: number >= 0, the weight of the identity loss as
            a fraction of `cycle_weight` (0.5 in the paper; 0 turns it
            off, as for translations that move pixels).
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: a pair `[a, b]` of batches of A and of B.
        training: Python boolean, passed to the generators.

    Returns:
        `[G_AB(a), G_BA(b)]`.

    Examples:

        >>> import keras, numpy as np
        >>> def net(units):
        ...     return keras.Sequential(
        ...         [keras.Input((3,)), keras.layers.Dense(units)])
        >>> model = CycleGAN(net(3), net(3), net(1), net(1))
        >>> model.compile(d_optimizer="adam", g_optimizer="adam")
        >>> rng = np.random.default_rng(0)
        >>> a = rng.normal(size=(8, 3)).astype("float32")
        >>> b = rng.normal(1.0, size=(8, 3)).astype("float32")
        >>> sorted(model.fit((a, b), epochs=1, verbose=0).history)
        ['cycle_loss', 'd_loss', 'g_loss', 'identity_loss']
        >>> [tuple(t.shape) for t in model([a, b])]
        [(8, 3), (8, 3)]
        >>> model.translate_ab(a).shape
        (8, 3)
    """

    def __init__(
        self,
        generator_ab,
        generator_ba,
        discriminator_a,
        discriminator_b,
        cycle_weight=10.0,
        identity_weight=0.5,
        **kwargs,
    ):
        names = ("generator_ab", "generator_ba")
        names += ("discriminator_a", "discriminator_b")
        nets = (generator_ab, generator_ba, discriminator_a, discriminator_b)
        for name, net in zip(names, nets):
            keras_object(name, net, keras.Model)
        non_negative_number("cycle_weight", cycle_weight)
        non_negative_number("identity_weight", identity_weight)
        _check_domains(*nets, identity_weight)
        super().__init__(**kwargs)
        self.generator_ab = generator_ab
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self.cycle_weight = cycle_weight
        self.identity_weight = identity_weight
        trackers = ["g_loss", "d_loss", "cycle_loss"]
        if identity_weight > 0:
            trackers.append("identity_loss")
        self._trackers = [keras.metrics.Mean(name=n) for n in trackers]
        # No weights of its own: built when its networks are.
        self.built = all(net.built for net in nets)

    # -- shared with GAN: loss scaling, replicas, compile config -------------

    _compile_pair = GAN._compile_pair
    _loss_scaled = GAN._loss_scaled
    _num_replicas = GAN._num_replicas
    _objective_and_loss = GAN._objective_and_loss
    _extra_losses = staticmethod(GAN._extra_losses)
    get_compile_config = GAN.get_compile_config
    compile_from_config = GAN.compile_from_config

    # -- Keras API -----------------------------------------------------------

    def call(self, inputs, training=None):
        a, b = self._check_inputs("inputs", inputs)
        return [
            self.generator_ab(a, training=training),
            self.generator_ba(b, training=training),
        ]

    def _check_inputs(self, name, inputs):
        a, b = sequence(name, inputs, (2,), "a pair [a, b]")
        fits_input("a", a, self.generator_ab)
        fits_input("b", b, self.generator_ba)
        return a, b

    def compile(
        self,
        d_optimizer="adam",
        g_optimizer="adam",
        d_loss="least_squares",
        g_loss="least_squares",
        **kwargs,
    ):
        """Configures the two optimizers and the adversarial losses.

        `d_optimizer` updates both discriminators, `g_optimizer` both
        generators; `model.optimizer` holds the two (as for `GAN`).

        Args:
            d_optimizer, g_optimizer: optimizers (instances, names or
                configs).
            d_loss, g_loss: a GAN loss kind (`"least_squares"`,
                `"non_saturating"`, `"minimax"`, `"hinge"`) or a callable
                `(real_logits, fake_logits) -> scalar`, applied to each
                domain's discriminator (see `GAN.compile`).
            **kwargs: other `keras.Model.compile` arguments; no
                `optimizer` or `loss`.
        """
        self._compile_pair(d_optimizer, g_optimizer, d_loss, g_loss, kwargs)

    @property
    def metrics(self):
        return list(self._trackers)

    def _d_weights(self):
        return (
            self.discriminator_a.trainable_variables
            + self.discriminator_b.trainable_variables
        )

    def _g_weights(self):
        return (
            self.generator_ab.trainable_variables
            + self.generator_ba.trainable_variables
        )

    def _split_batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            return self._check_inputs("x", x)
        return self._check_inputs("(x, y)", (x, y))

    def _with_extra(self, objective, networks):
        extra = sum(self._extra_losses(n) for n in networks)
        return objective + extra / self._num_replicas()

    # -- the two objectives --------------------------------------------------

    def _generator_objective(self, a, b, training):
        """`(objective, (fake_a, fake_b, g_loss, cycle, identity))`."""
        g_ab, g_ba = self.generator_ab, self.generator_ba
        d_a, d_b = self.discriminator_a, self.discriminator_b
        fake_b = g_ab(a, training=training)
        fake_a = g_ba(b, training=training)
        adversarial = self.g_loss_fn(
            d_b(b, training=training), d_b(fake_b, training=training)
        ) + self.g_loss_fn(
            d_a(a, training=training), d_a(fake_a, training=training)
        )
        cycle = _l1(g_ba(fake_b, training=training), a) + _l1(
            g_ab(fake_a, training=training), b
        )
        weighted = self.cycle_weight * cycle
        identity = None
        if self.identity_weight > 0:
            identity = _l1(g_ba(a, training=training), a) + _l1(
                g_ab(b, training=training), b
            )
            weighted += self.identity_weight * self.cycle_weight * identity
        adv_objective, adversarial = self._objective_and_loss(
            self.g_loss_fn, adversarial, None
        )
        # The L1 terms are batch means (not a keras.losses.Loss).
        l1_objective, weighted = self._objective_and_loss(None, weighted, None)
        objective = self._with_extra(adv_objective + l1_objective, (g_ab, g_ba))
        terms = (fake_a, fake_b, adversarial + weighted, cycle, identity)
        return objective, terms

    def _discriminator_objective(self, a, b, fake_a, fake_b, training):
        """`(objective, d_loss)` on the translations `fake_a`, `fake_b`."""
        d_a, d_b = self.discriminator_a, self.discriminator_b
        loss = self.d_loss_fn(
            d_a(a, training=training), d_a(fake_a, training=training)
        ) + self.d_loss_fn(
            d_b(b, training=training), d_b(fake_b, training=training)
        )
        objective, d_loss = self._objective_and_loss(self.d_loss_fn, loss, None)
        return self._with_extra(objective, (d_a, d_b)), d_loss

    def _report(self, *values):
        for tracker, value in zip(self._trackers, values):
            tracker.update_state(value)
        return {m.name: m.result() for m in self.metrics}

    def stateful_train_step(self, data):
        a, b = self._split_batch(data)
        state = self.non_trainable_variables
        g_weights, d_weights = self._g_weights(), self._d_weights()

        def g_step():
            objective, terms = self._generator_objective(a, b, True)
            return self.g_optimizer.scale_loss(objective), terms

        (_, terms), grads = value_and_gradients(
            g_step, g_weights, state_variables=state
        )
        apply_gradients(self.g_optimizer, grads, g_weights)
        fake_a, fake_b, g_loss, cycle, identity = terms
        fake_a, fake_b = ops.stop_gradient(fake_a), ops.stop_gradient(fake_b)

        def d_step():
            objective, d_loss = self._discriminator_objective(
                a, b, fake_a, fake_b, True
            )
            return self.d_optimizer.scale_loss(objective), d_loss

        (_, d_loss), grads = value_and_gradients(
            d_step, d_weights, state_variables=state
        )
        apply_gradients(self.d_optimizer, grads, d_weights)
        return self._report(g_loss, d_loss, cycle, identity)

    def stateful_test_step(self, data):
        a, b = self._split_batch(data)
        _, terms = self._generator_objective(a, b, False)
        fake_a, fake_b, g_loss, cycle, identity = terms
        _, d_loss = self._discriminator_objective(a, b, fake_a, fake_b, False)
        return self._report(g_loss, d_loss, cycle, identity)

    # -- translation ---------------------------------------------------------

    def translate_ab(self, a):
        """`G_AB(a)` in inference mode, as a NumPy array."""
        fits_input("a", a, self.generator_ab)
        return ops.convert_to_numpy(self.generator_ab(a, training=False))

    def translate_ba(self, b):
        """`G_BA(b)` in inference mode, as a NumPy array."""
        fits_input("b", b, self.generator_ba)
        return ops.convert_to_numpy(self.generator_ba(b, training=False))

    def get_config(self):
        config = super().get_config()
        for name in _NETWORKS:
            config[name] = keras.saving.serialize_keras_object(
                getattr(self, name)
            )
        config["cycle_weight"] = self.cycle_weight
        config["identity_weight"] = self.identity_weight
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in _NETWORKS:
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)


_NETWORKS = (
    "generator_ab",
    "generator_ba",
    "discriminator_a",
    "discriminator_b",
)


def _check_domains(g_ab, g_ba, d_a, d_b, identity_weight):
    """Refuses networks whose shapes do not chain A -> B -> A."""
    a_in, b_in = model_input_shape(g_ab), model_input_shape(g_ba)
    b_out, a_out = known_output_shape(g_ab), known_output_shape(g_ba)
    _check_fits(
        "generator_ba", b_in, "input shape", b_out, "generator_ab's output"
    )
    _check_fits(
        "generator_ba", a_out, "output shape", a_in, "generator_ab's input"
    )
    _check_fits(
        "discriminator_a",
        model_input_shape(d_a),
        "input shape",
        a_in,
        "generator_ab's input",
    )
    _check_fits(
        "discriminator_b",
        model_input_shape(d_b),
        "input shape",
        b_in,
        "generator_ba's input",
    )
    if identity_weight > 0:
        _check_fits(
            "generator_ba",
            b_in,
            "input shape",
            a_in,
            "generator_ab's input: the identity loss feeds each domain to "
            "both generators; set identity_weight=0 otherwise",
        )
