"""A self-organising map trained by `fit(x)` with competitive learning."""

import keras

from keras_dlparts.layers.som import SelfOrganizingMap
from keras_dlparts.models._resume import BuildOnFit
from keras_dlparts.models._resume import SeedState
from keras_dlparts.models._stateful_step import StatefulStep


@keras.saving.register_keras_serializable(package="keras_dlparts")
class SOM(BuildOnFit, SeedState, StatefulStep, keras.Model):
    """Self-organising map as a `keras.Model`: `fit(x)` without labels.

    Wraps `keras_dlparts.layers.SelfOrganizingMap` (see it for the update
    rules, neighbourhoods and decay schedules). Its `train_step` applies the
    map's own learning rule to each batch (no gradients, no optimizer) and
    reports, measured on the batch just before its update (as Keras reports
    a loss before the optimizer step, and from the same distances that pick
    the winners),

        quantization_error: mean distance |x - w_c| to the best-matching unit;
        topographic_error: share of samples whose two best-matching units
            are not grid neighbours.

    `evaluate(x)` returns the same two figures over `x`, in that order.
    With the same initial codebook it reproduces MiniSom: the online rule
    with `fit(x, epochs=E, shuffle=False)` and `decay_steps=E * len(x)`
    equals `MiniSom.train(x, E * len(x))`; the batch rule with
    `fit(x, batch_size=len(x), epochs=E)` and `decay_steps=E` equals
    `MiniSom.train_batch_offline(x, E)`, on the TensorFlow and the JAX
    backend alike. For many batch epochs on data held in memory,
    `model.map.train_batch(x, epochs, target_error)` runs them all in one
    compiled call, without `fit`'s per-epoch overhead. Under
    `tf.distribute` each replica updates the map on its share of the batch
    and the codebooks are averaged.

    The input size comes from the data: `fit` on an array builds the
    model first, so `keras.callbacks.BackupAndRestore` can resume its
    training; to resume `fit` on a dataset, call
    `model.build((None, input_dim))` first. Weights files (`.keras`,
    `save_weights`, backups) also hold its random seed states, so a
    resumed run draws the same numbers as an uninterrupted one.

    Args:
        map_shape: as for `SelfOrganizingMap`, and so are `sigma`,
            `learning_rate`, `decay_steps`, `neighborhood`, `topology`,
            `learning_rate_decay`, `sigma_decay`, `update`,
            `codebook_initializer` and `distance`.
        **kwargs: base `keras.Model` arguments (`name`, ...).

    Call arguments:
        inputs: a float tensor of shape `(batch, features)`.

    Returns:
        The distances to every unit, shaped `(batch, rows, cols)`.

    Examples:

        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((32, 3)).astype("float32")
        >>> som = SOM((4, 4), sigma=1.5, decay_steps=4, update="batch")
        >>> som.compile()
        >>> history = som.fit(x, batch_size=32, epochs=4, verbose=0)
        >>> sorted(history.history)
        ['quantization_error', 'topographic_error']
        >>> tuple(som.map.bmu(x[:1]).shape)
        (1, 2)
    """

    def __init__(
        self,
        map_shape,
        sigma=1.0,
        learning_rate=0.5,
        decay_steps=1000,
        neighborhood="gaussian",
        topology="rectangular",
        learning_rate_decay="asymptotic",
        sigma_decay="asymptotic",
        update="online",
        codebook_initializer="random_uniform",
        distance="euclidean",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.map = SelfOrganizingMap(
            map_shape,
            sigma=sigma,
            learning_rate=learning_rate,
            decay_steps=decay_steps,
            neighborhood=neighborhood,
            topology=topology,
            learning_rate_decay=learning_rate_decay,
            sigma_decay=sigma_decay,
            update=update,
            codebook_initializer=codebook_initializer,
            distance=distance,
            name="map",
        )
        self.quantization_error_tracker = keras.metrics.Mean(
            name="quantization_error"
        )
        self.topographic_error_tracker = keras.metrics.Mean(
            name="topographic_error"
        )

    def build(self, input_shape):
        if not self.map.built:
            self.map.build(input_shape)
            self.map.built = True
        self.built = True

    def fit(self, x=None, *args, **kwargs):
        """`keras.Model.fit`; first sets a `"pca"`/`"sample"` codebook from `x`.

        With `codebook_initializer="pca"` or `"sample"`, the first `fit` on
        an array calls `map.initialize(x)`; to train on a dataset, call
        `model.build((None, features))` and `model.map.initialize(x)`
        first.
        """
        if hasattr(x, "shape") and len(x.shape) == 2:
            if not self.built:
                self.build((None, x.shape[1]))
            if self.map.needs_initialization:
                self.map.initialize(x)
        return super().fit(x, *args, **kwargs)

    def call(self, inputs):
        return self.map(inputs)

    @property
    def metrics(self):
        return [self.quantization_error_tracker, self.topographic_error_tracker]

    def _report(self, errors):
        quantization, topographic = errors
        self.quantization_error_tracker.update_state(quantization)
        self.topographic_error_tracker.update_state(topographic)
        return {m.name: m.result() for m in self.metrics}

    def _inputs(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        if not self.built:  # fit before any call: record the input shape
            self.build(tuple(x.shape))
        return x

    def stateful_train_step(self, data):
        return self._report(self.map.update_step(self._inputs(data)))

    def stateful_test_step(self, data):
        return self._report(self.map.errors(self._inputs(data)))

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable}
        layer_config = self.map.get_config()
        for key in (
            "map_shape",
            "sigma",
            "learning_rate",
            "decay_steps",
            "neighborhood",
            "topology",
            "learning_rate_decay",
            "sigma_decay",
            "update",
            "codebook_initializer",
            "distance",
        ):
            config[key] = layer_config[key]
        return config
