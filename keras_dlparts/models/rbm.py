"""A binary restricted Boltzmann machine trained by contrastive divergence."""

import keras
from keras import ops

from keras_dlparts._validation import axis_size
from keras_dlparts._validation import check_rank
from keras_dlparts._validation import initializer
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import sequence
from keras_dlparts.models._resume import BuildOnFit
from keras_dlparts.models._resume import SeedState
from keras_dlparts.models._stateful_step import StatefulStep
from keras_dlparts.models._stateful_step import apply_gradients


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RBM(BuildOnFit, SeedState, StatefulStep, keras.Model):
    """Bernoulli-Bernoulli restricted Boltzmann machine, trained with CD-k.

    Visible units `v` and hidden units `h` are binary, with energy
    `E(v, h) = -v.b - h.c - v W h`, so

        p(h_j = 1 | v) = sigmoid(c_j + (v W)_j)
        p(v_i = 1 | h) = sigmoid(b_i + (W h)_i)
        free energy F(v) = -v.b - sum_j softplus(c_j + (v W)_j)

    `fit(x)` runs contrastive divergence: from the data `v0` a Gibbs chain
    of `k` steps (sample `h ~ p(h|v)`, then `v ~ p(v|h)`; a unit is on where
    a uniform draw is below its probability) gives `vk`, and the weights
    follow the difference of the data and model statistics,

        dW = <v0^T p(h|v0)> - <vk^T p(h|vk)>,  db = <v0 - vk>,
        dc = <p(h|v0) - p(h|vk)>               (<.> = batch mean),

    handed to the compiled optimizer as the gradient `-dW, -db, -dc`
    (plain `SGD(lr)` gives `W += lr * dW`). Draws come from a seeded
    `keras.random.SeedGenerator`. `fit` and `evaluate` report the
    `reconstruction_error`, the mean squared difference between `x` and
    its mean-field reconstruction `p(v | p(h|x))`.

    The input size comes from the data: `fit` on an array builds the
    model first, so `keras.callbacks.BackupAndRestore` can resume its
    training; to resume `fit` on a dataset, call
    `model.build((None, input_dim))` first. Weights files (`.keras`,
    `save_weights`, backups) also hold its random seed states, so a
    resumed run draws the same numbers as an uninterrupted one.

    Args:
        hidden_units: number of hidden units, a positive integer.
        k: number of Gibbs steps of CD-k, a positive integer.
        seed: integer seed of the Gibbs sampling, or `None`.
        kernel_initializer: initializer of the `(visible, hidden)` weights.
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Call arguments:
        inputs: visible vectors in [0, 1], shaped `(batch, visible)`.

    Returns:
        The mean-field reconstruction `p(v | p(h | inputs))`, shaped like
        `inputs`.

    Examples:

        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> x = (rng.random((16, 6)) > 0.5).astype("float32")
        >>> rbm = RBM(hidden_units=4, seed=0)
        >>> rbm.compile()
        >>> history = rbm.fit(x, batch_size=8, epochs=2, verbose=0)
        >>> list(history.history)
        ['reconstruction_error']
        >>> tuple(rbm.free_energy(x).shape), tuple(rbm.sample(x, steps=2).shape)
        ((16,), (16, 6))
    """

    def __init__(
        self,
        hidden_units,
        k=1,
        seed=None,
        kernel_initializer="random_normal",
        **kwargs,
    ):
        positive_int("hidden_units", hidden_units)
        positive_int("k", k)
        random_seed("seed", seed)
        kernel = initializer("kernel_initializer", kernel_initializer)
        super().__init__(**kwargs)
        self.hidden_units = hidden_units
        self.k = k
        self.seed = seed
        self.kernel_initializer = kernel
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.reconstruction_error_tracker = keras.metrics.Mean(
            name="reconstruction_error"
        )

    def build(self, input_shape):
        check_rank("inputs", tuple(input_shape), 2)
        visible = axis_size("inputs", tuple(input_shape), -1)
        self.kernel = self.add_weight(
            name="kernel",
            shape=(visible, self.hidden_units),
            initializer=self.kernel_initializer,
        )
        self.visible_bias = self.add_weight(
            name="visible_bias", shape=(visible,), initializer="zeros"
        )
        self.hidden_bias = self.add_weight(
            name="hidden_bias", shape=(self.hidden_units,), initializer="zeros"
        )
        self.built = True

    def compile(self, optimizer=None, **kwargs):
        """Compiles with `optimizer`, by default `SGD(learning_rate=0.1)`."""
        if optimizer is None:
            optimizer = keras.optimizers.SGD(learning_rate=0.1)
        super().compile(optimizer=optimizer, **kwargs)

    def compile_from_config(self, config):
        """Re-compiles a loaded model from `get_compile_config()`."""
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    # ------------------------------------------------------------------
    # Conditionals, free energy, Gibbs sampling.
    # ------------------------------------------------------------------

    def _visible(self, inputs, dtype="float32"):
        inputs = ops.convert_to_tensor(inputs)
        if not self.built:
            self.build(tuple(inputs.shape))
        check_rank("inputs", inputs, 2)
        axis_size("inputs", inputs, -1, self.kernel.shape[0], " (visible)")
        return ops.cast(inputs, dtype)

    def _params(self, dtype):
        return (
            ops.cast(self.kernel, dtype),
            ops.cast(self.visible_bias, dtype),
            ops.cast(self.hidden_bias, dtype),
        )

    def hidden_probabilities(self, visible):
        """`p(h = 1 | v) = sigmoid(v W + c)`."""
        kernel, _, hidden_bias = self._params(visible.dtype)
        return ops.sigmoid(ops.matmul(visible, kernel) + hidden_bias)

    def visible_probabilities(self, hidden):
        """`p(v = 1 | h) = sigmoid(h W^T + b)`."""
        kernel, visible_bias, _ = self._params(hidden.dtype)
        return ops.sigmoid(
            ops.matmul(hidden, ops.transpose(kernel)) + visible_bias
        )

    def free_energy(self, inputs):
        """`F(v) = -v.b - sum_j softplus(c_j + (v W)_j)`, shaped `(batch,)`."""
        visible = self._visible(inputs)
        kernel, visible_bias, hidden_bias = self._params("float32")
        return -ops.matmul(visible, visible_bias) - ops.sum(
            ops.softplus(ops.matmul(visible, kernel) + hidden_bias), axis=-1
        )

    def reconstruct(self, inputs):
        """Mean-field reconstruction `p(v | p(h | v))`."""
        visible = self._visible(inputs, self.compute_dtype)
        return self.visible_probabilities(self.hidden_probabilities(visible))

    def call(self, inputs):
        return self.reconstruct(inputs)

    def _draw(self, probabilities, noise):
        if noise is None:
            noise = keras.random.uniform(
                ops.shape(probabilities), seed=self.seed_generator
            )
        return ops.cast(ops.cast(noise, "float32") < probabilities, "float32")

    def sample(self, inputs, steps=1):
        """Runs `steps` full Gibbs steps `v -> h -> v` from `inputs`.

        Returns:
            A NumPy array of binary visible states shaped like `inputs`.
        """
        visible = self._visible(inputs)
        for _ in range(steps):
            hidden = self._draw(self.hidden_probabilities(visible), None)
            visible = self._draw(self.visible_probabilities(hidden), None)
        return ops.convert_to_numpy(visible)

    def contrastive_divergence(self, inputs, noise=None):
        """The CD-k gradient estimate for a batch of visible vectors.

        Args:
            inputs: visible vectors `v0`, shaped `(batch, visible)`.
            noise: `None` (draw from the seed generator) or the `2k`
                uniform arrays the chain compares its probabilities with,
                in the order they are used: hidden `(batch, hidden)`,
                visible `(batch, visible)`, hidden, ..., visible.

        Returns:
            `(gradients, vk)`: the gradients `[-dW, -db, -dc]` for
            `[kernel, visible_bias, hidden_bias]` and the chain's last
            visible sample `vk`.
        """
        v0 = self._visible(inputs)
        if noise is None:
            noise = [None] * (2 * self.k)
        noise = sequence(
            "noise", noise, (2 * self.k,), f"2 * k = {2 * self.k} arrays"
        )
        h0 = self.hidden_probabilities(v0)
        hidden, vk = self._draw(h0, noise[0]), v0
        for step in range(self.k):
            vk = self._draw(
                self.visible_probabilities(hidden), noise[2 * step + 1]
            )
            hk = self.hidden_probabilities(vk)
            if step + 1 < self.k:
                hidden = self._draw(hk, noise[2 * step + 2])
        batch = ops.cast(ops.shape(v0)[0], "float32")
        d_kernel = (
            ops.matmul(ops.transpose(v0), h0)
            - ops.matmul(ops.transpose(vk), hk)
        ) / batch
        d_visible = ops.mean(v0 - vk, axis=0)
        d_hidden = ops.mean(h0 - hk, axis=0)
        return [-d_kernel, -d_visible, -d_hidden], vk

    # ------------------------------------------------------------------
    # Training.
    # ------------------------------------------------------------------

    @property
    def metrics(self):
        return [self.reconstruction_error_tracker]

    def _report(self, x):
        visible = self._visible(x)
        recon = ops.cast(self.reconstruct(visible), "float32")
        self.reconstruction_error_tracker.update_state(
            ops.mean(ops.square(visible - recon), axis=-1)
        )
        return {m.name: m.result() for m in self.metrics}

    def stateful_train_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        gradients, _ = self.contrastive_divergence(x)
        # Scaled like gradients of a scaled loss (mixed precision).
        gradients = [self.optimizer.scale_loss(g) for g in gradients]
        apply_gradients(
            self.optimizer,
            gradients,
            [self.kernel, self.visible_bias, self.hidden_bias],
        )
        return self._report(x)

    def stateful_test_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._report(x)

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "hidden_units": self.hidden_units,
            "k": self.k,
            "seed": self.seed,
            "kernel_initializer": keras.initializers.serialize(
                self.kernel_initializer
            ),
        }
