"""Gaussian radial basis function layer with trainable centres and widths."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.ops.distance import pairwise_squared_distance
from keras_dlparts.ops.rbf import rbf_kernel

_LAYERS_FEATURES = " (the layer's features)"


def _kmeans_plus_plus(data, count, seed):
    """k-means++ seeding: `count` rows of `data`, spread out at random."""
    generator = keras.random.SeedGenerator(seed)
    first = keras.random.randint((1,), 0, data.shape[0], seed=generator)
    centers = ops.take(data, first, axis=0)
    for _ in range(count - 1):
        nearest = ops.min(pairwise_squared_distance(data, centers), axis=1)
        logits = ops.log(ops.maximum(nearest, 1e-30))[None, :]
        pick = keras.random.categorical(logits, 1, seed=generator)[0]
        centers = ops.concatenate([centers, ops.take(data, pick, 0)], 0)
    return centers


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RBF(keras.layers.Layer):
    """Gaussian radial basis functions around trainable centres.

    For an input `x` of shape `(..., features)` unit `j` returns
    `h_j(x) = exp(-gamma_j * |x - c_j|^2)` (`keras_dlparts.ops.rbf_kernel`),
    with a trainable centre `c_j` and a trainable width `gamma_j >= 0`
    (kept non-negative by a constraint). `adapt(data)` places the centres
    by k-means, as an RBF network is classically set up before its output
    layer is trained.

    Args:
        units: number of centres, a positive integer.
        gamma: initial width of every unit, a positive number.
        centers_initializer: initializer of the `(units, features)` centres.
        trainable_gamma: whether the widths are trained with the centres.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of shape `(..., features)`.

    Returns:
        A tensor of shape `(..., units)` with values in `(0, 1]`.

    Examples:

        >>> import numpy as np
        >>> layer = RBF(2, gamma=1.0)
        >>> data = np.array([[0, 0], [0, 0.1], [5, 5], [5, 5.1]], "float32")
        >>> layer.adapt(data, seed=0)
        >>> sorted(np.asarray(layer.centers).round(2).tolist())
        [[0.0, 0.05], [5.0, 5.05]]
        >>> tuple(layer(data).shape)
        (4, 2)
    """

    def __init__(
        self,
        units,
        gamma=1.0,
        centers_initializer="random_uniform",
        trainable_gamma=True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = _validation.positive_int("units", units)
        self.gamma_init = float(_validation.positive_number("gamma", gamma))
        self.centers_initializer = _validation.initializer(
            "centers_initializer", centers_initializer
        )
        self.trainable_gamma = _validation.boolean(
            "trainable_gamma", trainable_gamma
        )

    def build(self, input_shape):
        _validation.min_rank("inputs", tuple(input_shape), 2)
        features = _validation.axis_size("inputs", tuple(input_shape), -1)
        self.centers = self.add_weight(
            name="centers",
            shape=(self.units, features),
            initializer=self.centers_initializer,
        )
        self.gamma = self.add_weight(
            name="gamma",
            shape=(self.units,),
            initializer=keras.initializers.Constant(self.gamma_init),
            constraint=keras.constraints.NonNeg(),
            trainable=self.trainable_gamma,
        )

    def call(self, inputs):
        # Checked here too so that the message names `inputs`, not `x`.
        _validation.axis_size(
            "inputs", inputs, -1, self.centers.shape[-1], _LAYERS_FEATURES
        )
        inputs = ops.cast(inputs, self.compute_dtype)
        return rbf_kernel(inputs, self.centers, self.gamma)

    def adapt(self, data, iterations=20, seed=None):
        """Places the centres by k-means (Lloyd's algorithm) on `data`.

        The centres start at `units` samples chosen by k-means++ (each
        next one drawn with probability proportional to its squared
        distance to the chosen ones) with `seed`, then move `iterations`
        times to the mean of the samples nearest to them (a centre left
        without samples stays where it is); the result repeats for a seed.

        Args:
            data: array shaped `(samples, features)`, `samples >= units`.
            iterations: number of Lloyd iterations, a positive integer.
            seed: integer seed of the initial choice, or `None`.
        """
        _validation.positive_int("iterations", iterations)
        seed = _validation.random_seed("seed", seed)
        data = ops.convert_to_tensor(data, dtype="float32")
        _validation.check_rank("data", data, 2)
        if data.shape[0] < self.units:
            raise ValueError(
                f"Argument `data` needs at least `units`={self.units} "
                f"samples. Received: data.shape={tuple(data.shape)}"
            )
        if not self.built:
            self.build(data.shape)
        _validation.axis_size(
            "data", data, -1, self.centers.shape[-1], _LAYERS_FEATURES
        )
        centers = _kmeans_plus_plus(data, self.units, seed)
        for _ in range(iterations):
            nearest = ops.argmin(pairwise_squared_distance(data, centers), 1)
            members = ops.one_hot(nearest, self.units, dtype="float32")
            counts = ops.sum(members, axis=0)[:, None]
            sums = ops.matmul(ops.transpose(members), data)
            centers = ops.where(
                counts > 0, sums / ops.maximum(counts, 1.0), centers
            )
        self.centers.assign(ops.cast(centers, self.centers.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "gamma": self.gamma_init,
                "centers_initializer": keras.initializers.serialize(
                    self.centers_initializer
                ),
                "trainable_gamma": self.trainable_gamma,
            }
        )
        return config
