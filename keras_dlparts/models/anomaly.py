"""Anomaly detection by the reconstruction error of an autoencoder."""

import keras
import numpy as np
from keras import ops

from keras_dlparts._validation import fits_input
from keras_dlparts._validation import keras_object
from keras_dlparts._validation import number
from keras_dlparts.models._resume import SeedState


@keras.saving.register_keras_serializable(package="keras_dlparts")
class AnomalyDetector(SeedState, keras.Model):
    """Flags inputs an autoencoder reconstructs badly as anomalies.

    The score of a sample is its mean squared reconstruction error,

    `score(x) = mean((x - autoencoder(x))^2)`

    over every non-batch axis. `fit(x)` trains the autoencoder to
    reconstruct `x` (the targets default to the inputs) and then sets the
    `threshold` to the `quantile` of the training scores, so that about
    `1 - quantile` of normal data is flagged. `predict(x)` returns the flags
    `score(x) > threshold`. The threshold is a (non-trainable) weight of the
    model, so it is saved in `.keras` files and checkpoints.

    Built at construction when its networks are (functional, or
    `Sequential` with a `keras.Input`), so `keras.callbacks.BackupAndRestore`
    can resume its training; with networks of unknown input shape, call
    the model on a batch first. Weights files (`.keras`,
    `save_weights`, backups) also hold its random seed states, so a
    resumed run draws the same numbers as an uninterrupted one.

    Args:
        autoencoder: a `keras.Model` mapping inputs to reconstructions of
            the same shape (e.g. from `build_autoencoder`).
        quantile: float in (0, 1), the quantile of the training scores
            used as threshold.
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Call arguments:
        inputs: a batch of inputs.
        training: Python boolean, passed to the autoencoder.

    Returns:
        `call` returns the reconstructions; `score` the per-sample errors;
        `predict` boolean anomaly flags.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.models import build_autoencoder
        >>> x = np.random.default_rng(0).random((32, 4)).astype("float32")
        >>> detector = AnomalyDetector(build_autoencoder((4,), 2), quantile=0.9)
        >>> detector.compile(optimizer="adam")
        >>> _ = detector.fit(x, epochs=1, verbose=0)
        >>> float(np.mean(detector.predict(x)))
        0.125
    """

    def __init__(self, autoencoder, quantile=0.99, **kwargs):
        keras_object("autoencoder", autoencoder, keras.Model)
        number(
            "quantile",
            quantile,
            low=0,
            high=1,
            include_low=False,
            include_high=False,
        )
        super().__init__(**kwargs)
        self.autoencoder = autoencoder
        self.quantile = float(quantile)
        self.threshold = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(np.inf),
            trainable=False,
            name="threshold",
            dtype="float32",
        )
        self.built = autoencoder.built

    def call(self, inputs, training=None):
        fits_input("inputs", inputs, self.autoencoder)
        return self.autoencoder(inputs, training=training)

    def reconstruction_error(self, inputs, reconstructions):
        """Per-sample mean squared error, computed in float32."""
        inputs = ops.cast(inputs, "float32")
        diff = ops.square(inputs - ops.cast(reconstructions, "float32"))
        return ops.mean(ops.reshape(diff, (ops.shape(diff)[0], -1)), axis=-1)

    def compile(self, optimizer="adam", loss="mse", **kwargs):
        """Compiles with a reconstruction loss (default `"mse"`)."""
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    def compile_from_config(self, config):
        # `compile` only adds defaults, so the saved config applies as is.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        # Targets default to the inputs: fit(x) trains the autoencoder.
        return super().compute_loss(
            x, x if y is None else y, y_pred, sample_weight, training=training
        )

    def fit(self, x=None, y=None, **kwargs):
        """Trains the autoencoder on `x`, then fits the threshold on `x`.

        Takes the arguments of `keras.Model.fit`; the targets `y` default
        to `x`. Returns the `History`.
        """
        history = super().fit(x, y, **kwargs)
        self.fit_threshold(x, batch_size=kwargs.get("batch_size"))
        return history

    def fit_threshold(self, x, batch_size=None):
        """Sets `threshold` to the `quantile` of the scores of `x`."""
        scores = self.score(x, batch_size=batch_size)
        self.threshold.assign(float(np.quantile(scores, self.quantile)))
        return float(self.threshold.numpy())

    def predict_step(self, *args):
        # TensorFlow calls `predict_step(data)`; JAX calls
        # `predict_step(state, data)` and expects the state back.
        *state, data = args
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        outputs = super().predict_step(*state, data)
        if state:
            reconstructions, non_trainable_variables = outputs
            return (
                self.reconstruction_error(x, reconstructions),
                non_trainable_variables,
            )
        return self.reconstruction_error(x, outputs)

    def score(self, x, batch_size=None, verbose=0, steps=None):
        """Per-sample reconstruction errors of `x` as a NumPy array."""
        return super().predict(
            x, batch_size=batch_size, verbose=verbose, steps=steps
        )

    def predict(self, x, batch_size=None, verbose=0, steps=None, **kwargs):
        """Boolean anomaly flags `score(x) > threshold` as a NumPy array."""
        threshold = float(self.threshold.numpy())
        if not np.isfinite(threshold):
            raise ValueError(
                "The threshold is not fitted yet: call `fit(x)` or "
                "`fit_threshold(x)` on normal data before `predict`."
            )
        return self.score(x, batch_size=batch_size, steps=steps) > threshold

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "autoencoder": keras.saving.serialize_keras_object(
                    self.autoencoder
                ),
                "quantile": self.quantile,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["autoencoder"] = keras.saving.deserialize_keras_object(
            config["autoencoder"]
        )
        return cls(**config)
