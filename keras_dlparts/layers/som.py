"""Kohonen's self-organising map as a layer: codebook, neighbourhood, updates."""

import math

import keras
import numpy as np
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.ops.distance import pairwise_squared_distance

_NEIGHBORHOODS = ("gaussian", "bubble")
_TOPOLOGIES = ("rectangular", "hexagonal")
_DECAYS = ("asymptotic", "inverse", "linear")
_UPDATES = ("online", "batch")


def _grid(rows, cols, topology):
    """Grid indices, plane positions and U-matrix neighbours of every unit.

    Unit `u` sits at row `i = u // cols`, column `j = u % cols`. On the
    hexagonal grid its position is `(i - 0.5 * s_j, j * sqrt(3) / 2)` with
    `s_j = 1` on every other column counted from the last, and its U-matrix
    neighbours follow the parity of `j` (MiniSom's convention).
    """
    index = np.stack(np.divmod(np.arange(rows * cols), cols), axis=1)
    position = index.astype("float64")
    if topology == "hexagonal":
        position[:, 0] -= 0.5 * ((cols - 1 - index[:, 1]) % 2 == 0)
        position[:, 1] *= math.sqrt(3.0) / 2.0
        offsets = {
            0: ([1, 1, 1, 0, -1, 0], [1, 0, -1, -1, 0, 1]),
            1: ([0, 1, 0, -1, -1, -1], [1, 0, -1, -1, 0, 1]),
        }
    else:
        square = ([0, -1, -1, -1, 0, 1, 1, 1], [-1, -1, 0, 1, 1, 1, 0, -1])
        offsets = {0: square, 1: square}
    width = len(offsets[0][0])
    neighbors = np.tile(np.arange(rows * cols)[:, None], (1, width))
    valid = np.zeros((rows * cols, width), dtype="float32")
    for u, (i, j) in enumerate(index):
        di, dj = offsets[int(j % 2 == 0)]
        for k, (a, b) in enumerate(zip(di, dj)):
            if 0 <= i + a < rows and 0 <= j + b < cols:
                neighbors[u, k] = (i + a) * cols + j + b
                valid[u, k] = 1.0
    return index, position, neighbors, valid


@keras.saving.register_keras_serializable(package="keras_dlparts")
class SelfOrganizingMap(keras.layers.Layer):
    """A self-organising map: a grid of units with codebook vectors.

    Calling the layer returns the Euclidean distance from each input to
    every unit's codebook vector `w_u`. Training is competitive, not by
    gradients (the codebook is a non-trainable weight): the best-matching
    unit `c = argmin_u |x - w_u|` and its grid neighbours move towards the
    input,

        online rule (one sample at a time, step t):
            w_u += lr(t) * h(u, c, sigma(t)) * (x - w_u)
        batch rule (once per batch, step t):
            w_u = (1 - lr(t)) w_u + lr(t) * sum_x h(u, c_x) x / sum_x h(u, c_x)
            (units with no weight in the batch are left as they are)

    with the neighbourhood `h` either Gaussian,
    `exp(-|r_u - r_c|^2 / (2 sigma^2))` on the grid positions `r`, or a
    bubble, 1 where `|i_u - i_c| < sigma` and `|j_u - j_c| < sigma` on the
    row/column indices. The learning rate and radius decay over
    `T = decay_steps` steps:

        "asymptotic": p(t) = p0 / (1 + 2 t / T)                (both)
        "inverse":    lr0 * (T/100) / (T/100 + t),  sigma0 / (1 + t (sigma0 - 1) / T)
        "linear":     lr0 * (1 - t / T),            sigma0 + t (1 - sigma0) / T

    These are MiniSom's definitions (grid positions, hexagonal offsets,
    decay functions, bubble, U-matrix), so with the same initial codebook
    the online rule reproduces `MiniSom.train` and the batch rule
    `MiniSom.train_batch_offline` step by step. `keras_dlparts.models.SOM`
    trains this layer through `fit`.

    Args:
        map_shape: `(rows, cols)` of the grid, positive integers, at least
            two units.
        sigma: initial neighbourhood radius, a positive number.
        learning_rate: initial learning rate, a positive number.
        decay_steps: `T`, the number of steps over which `learning_rate`
            and `sigma` decay (samples for the online rule, batches for the
            batch rule), a positive integer.
        neighborhood: `"gaussian"` or `"bubble"`.
        topology: `"rectangular"` or `"hexagonal"`.
        learning_rate_decay: `"asymptotic"`, `"inverse"` or `"linear"`.
        sigma_decay: `"asymptotic"`, `"inverse"` or `"linear"`.
        update: the rule `update_step` applies, `"online"` or `"batch"`.
        codebook_initializer: initializer of the `(rows, cols, features)`
            codebook.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of shape `(batch, features)`.

    Returns:
        The distances `|x - w_u|`, shaped `(batch, rows, cols)`.

    Examples:

        >>> import numpy as np
        >>> som = SelfOrganizingMap((2, 3), sigma=1.0, decay_steps=10)
        >>> x = np.random.default_rng(0).random((10, 4)).astype("float32")
        >>> tuple(som(x).shape)
        (10, 2, 3)
        >>> errors = som.online_update(x)  # measured before the update
        >>> int(som.iterations.numpy()), tuple(som.bmu(x[:2]).shape)
        (10, (2, 2))
        >>> tuple(som.umatrix().shape)
        (2, 3)
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
        **kwargs,
    ):
        super().__init__(**kwargs)
        map_shape = _validation.positive_ints("map_shape", map_shape, length=2)
        if map_shape[0] * map_shape[1] < 2:
            raise ValueError(
                "Argument `map_shape` must be a pair (rows, cols) with at "
                f"least two units. Received: map_shape={map_shape!r}"
            )
        _validation.positive_number("sigma", sigma)
        _validation.positive_number("learning_rate", learning_rate)
        _validation.positive_int("decay_steps", decay_steps)
        _validation.one_of("neighborhood", neighborhood, _NEIGHBORHOODS)
        _validation.one_of("topology", topology, _TOPOLOGIES)
        _validation.one_of("learning_rate_decay", learning_rate_decay, _DECAYS)
        _validation.one_of("sigma_decay", sigma_decay, _DECAYS)
        _validation.one_of("update", update, _UPDATES)
        self.map_shape = tuple(map_shape)
        self.sigma = float(sigma)
        self.learning_rate = float(learning_rate)
        self.decay_steps = decay_steps
        self.neighborhood = neighborhood
        self.topology = topology
        self.learning_rate_decay = learning_rate_decay
        self.sigma_decay = sigma_decay
        self.update_rule = update
        self.codebook_initializer = _validation.initializer(
            "codebook_initializer", codebook_initializer
        )
        # Config keeps a string as given, anything else serialised.
        self._codebook_initializer = (
            codebook_initializer
            if isinstance(codebook_initializer, str)
            else keras.initializers.serialize(self.codebook_initializer)
        )
        self.num_units = map_shape[0] * map_shape[1]
        (
            self._grid_index,
            self._grid_position,
            self._neighbors,
            self._neighbor_valid,
        ) = _grid(*self.map_shape, topology)

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "Input `inputs` must have rank 2 (batch, features) with a "
                f"known last dimension. Received: inputs.shape="
                f"{tuple(input_shape)}"
            )
        # Competitive learning assigns these directly; under tf.distribute
        # the replicas' codebooks are averaged and the counter kept once.
        self.codebook = self.add_weight(
            name="codebook",
            shape=self.map_shape + (input_shape[-1],),
            initializer=self.codebook_initializer,
            trainable=False,
            aggregation="mean",
        )
        self.iterations = self.add_weight(
            name="iterations",
            shape=(),
            dtype="int64",
            initializer="zeros",
            trainable=False,
            aggregation="only_first_replica",
        )

    # ------------------------------------------------------------------
    # Distances and the best-matching unit.
    # ------------------------------------------------------------------

    def _flat_codebook(self, dtype="float32"):
        return ops.cast(ops.reshape(self.codebook, (self.num_units, -1)), dtype)

    def _check_features(self, inputs):
        if not self.built:  # a method called before the layer
            self.build(tuple(inputs.shape))
            self.built = True
        features = self.codebook.shape[-1]
        if len(inputs.shape) != 2 or inputs.shape[-1] != features:
            raise ValueError(
                f"Input `inputs` must have shape (batch, {features}). "
                f"Received: inputs.shape={tuple(inputs.shape)}"
            )

    def call(self, inputs):
        self._check_features(inputs)
        inputs = ops.cast(inputs, self.compute_dtype)
        squared = pairwise_squared_distance(
            inputs, self._flat_codebook(self.compute_dtype)
        )
        return ops.reshape(ops.sqrt(squared), (-1,) + self.map_shape)

    def _squared_distances(self, inputs):
        inputs = ops.convert_to_tensor(inputs)
        self._check_features(inputs)
        inputs = ops.cast(inputs, "float32")
        return inputs, pairwise_squared_distance(inputs, self._flat_codebook())

    def bmu(self, inputs):
        """Grid coordinates `(row, col)` of each input's best-matching unit.

        Returns:
            An int32 tensor shaped `(batch, 2)`.
        """
        _, squared = self._squared_distances(inputs)
        winner = ops.cast(ops.argmin(squared, axis=1), "int32")
        cols = self.map_shape[1]
        return ops.stack([winner // cols, winner % cols], axis=1)

    def quantization_error(self, inputs):
        """Per-sample distance `|x - w_c|` to the best-matching unit.

        The mean over a data set is MiniSom's `quantization_error`.

        Returns:
            A float32 tensor shaped `(batch,)`.
        """
        return self.errors(inputs)[0]

    def topographic_error(self, inputs):
        """Per-sample 1.0 where the two best-matching units are not adjacent.

        Adjacent means within one step, diagonals included, on the
        rectangular grid, and at distance 1 on the hexagonal grid; the mean
        over a data set is MiniSom's `topographic_error`.

        Returns:
            A float32 tensor shaped `(batch,)`.
        """
        return self.errors(inputs)[1]

    def errors(self, inputs):
        """`(quantization_error, topographic_error)` per sample, at once.

        Both come from one distance computation; see the two methods.

        Returns:
            Two float32 tensors shaped `(batch,)`.
        """
        inputs, squared = self._squared_distances(inputs)
        quantization, topographic, _ = self._errors_from(inputs, squared)
        return quantization, topographic

    def _errors_from(self, inputs, squared):
        """Both errors and the winners, from the squared distances."""
        _, best_two = ops.top_k(-squared, k=2)
        winners = best_two[:, 0]
        nearest = ops.take(self._flat_codebook(), winners, axis=0)
        quantization = ops.sqrt(ops.sum(ops.square(inputs - nearest), axis=-1))
        if self.topology == "hexagonal":
            grid, far = self._grid_position, lambda d: ops.abs(d - 1.0) > 1e-5
        else:
            grid, far = self._grid_index, lambda d: d > 1.42
        places = ops.take(ops.convert_to_tensor(grid, "float32"), best_two, 0)
        gap = ops.sqrt(
            ops.sum(ops.square(places[:, 0] - places[:, 1]), axis=-1)
        )
        return quantization, ops.cast(far(gap), "float32"), winners

    def umatrix(self, scaling="sum"):
        """The unified distance matrix (MiniSom's `distance_map`).

        Each cell is the sum (`scaling="sum"`) or mean (`"mean"`) of the
        distances between a unit's codebook vector and its grid neighbours'
        (8 on the rectangular grid, 6 on the hexagonal one), divided by the
        largest cell.

        Returns:
            A float32 tensor shaped `(rows, cols)`.
        """
        _validation.one_of("scaling", scaling, ("sum", "mean"))
        codebook = self._flat_codebook()
        others = ops.take(codebook, self._neighbors, axis=0)
        gaps = ops.sqrt(
            ops.sum(ops.square(others - codebook[:, None, :]), axis=-1)
        )
        valid = ops.convert_to_tensor(self._neighbor_valid)
        cells = ops.sum(gaps * valid, axis=-1)
        if scaling == "mean":
            cells = cells / ops.sum(valid, axis=-1)
        return ops.reshape(cells / ops.max(cells), self.map_shape)

    # ------------------------------------------------------------------
    # Schedule, neighbourhood and the two learning rules.
    # ------------------------------------------------------------------

    def schedule(self, step):
        """Learning rate and radius `(lr(t), sigma(t))` at step `t`."""
        t = ops.cast(step, "float32")
        total = float(self.decay_steps)
        lr0, sigma0 = self.learning_rate, self.sigma
        if self.learning_rate_decay == "asymptotic":
            lr = lr0 / (1.0 + t / (total / 2.0))
        elif self.learning_rate_decay == "inverse":
            lr = lr0 * (total / 100.0) / (total / 100.0 + t)
        else:
            lr = lr0 * (1.0 - t / total)
        if self.sigma_decay == "asymptotic":
            sigma = sigma0 / (1.0 + t / (total / 2.0))
        elif self.sigma_decay == "inverse":
            sigma = sigma0 / (1.0 + t * ((sigma0 - 1.0) / total))
        else:
            sigma = sigma0 + t * ((1.0 - sigma0) / total)
        return lr, sigma

    def neighborhood_weights(self, winners, sigma):
        """`h(u, c, sigma)` for every unit `u` and winner index `c`.

        Args:
            winners: int tensor of flat unit indices, shaped `(n,)`.
            sigma: the radius.

        Returns:
            A float32 tensor shaped `(n, units)`.
        """
        if self.neighborhood == "gaussian":
            grid = ops.convert_to_tensor(self._grid_position, "float32")
            centre = ops.take(grid, winners, axis=0)
            squared = ops.sum(
                ops.square(grid[None, :, :] - centre[:, None, :]), axis=-1
            )
            return ops.exp(-squared / (2.0 * sigma * sigma))
        grid = ops.convert_to_tensor(self._grid_index, "float32")
        centre = ops.take(grid, winners, axis=0)
        gap = ops.abs(grid[None, :, :] - centre[:, None, :])
        return ops.cast(ops.all(gap < sigma, axis=-1), "float32")

    def online_update(self, inputs):
        """Applies the online rule to each row of `inputs` in order.

        Returns:
            The per-sample `errors(inputs)` measured before the update.
        """
        inputs = ops.cast(ops.convert_to_tensor(inputs), "float32")
        errors = self.errors(inputs)
        start = ops.cast(self.iterations, "float32")

        def step(i, codebook):
            sample = ops.take(inputs, i, axis=0)
            squared = ops.sum(ops.square(sample[None, :] - codebook), -1)
            winner = ops.argmin(squared)[None]
            lr, sigma = self.schedule(start + ops.cast(i, "float32"))
            h = self.neighborhood_weights(winner, sigma)[0] * lr
            return codebook + h[:, None] * (sample[None, :] - codebook)

        count = ops.shape(inputs)[0]
        codebook = ops.fori_loop(0, count, step, self._flat_codebook())
        self._assign(codebook, count)
        return errors

    def batch_update(self, inputs):
        """Applies the batch rule once with all rows of `inputs`.

        Returns:
            The per-sample `errors(inputs)` measured before the update
            (from the same distances that pick the winners).
        """
        inputs, squared = self._squared_distances(inputs)
        quantization, topographic, winners = self._errors_from(inputs, squared)
        codebook = self._flat_codebook()
        lr, sigma = self.schedule(self.iterations)
        sums = ops.segment_sum(inputs, winners, num_segments=self.num_units)
        counts = ops.segment_sum(
            ops.ones_like(inputs[:, 0]), winners, num_segments=self.num_units
        )
        units = ops.arange(self.num_units)
        h = self.neighborhood_weights(units, sigma)  # symmetric (u, c)
        weight = ops.matmul(h, counts[:, None])
        target = ops.matmul(h, sums) / ops.where(weight > 0, weight, 1.0)
        codebook = ops.where(
            weight > 0, (1.0 - lr) * codebook + lr * target, codebook
        )
        self._assign(codebook, 1)
        return quantization, topographic

    def update_step(self, inputs):
        """Applies the rule named by `update` (`"online"` or `"batch"`).

        Returns:
            The per-sample `(quantization_error, topographic_error)` of
            `inputs` before the update, as Keras reports a loss before the
            optimizer step.
        """
        if self.update_rule == "online":
            return self.online_update(inputs)
        return self.batch_update(inputs)

    def _assign(self, codebook, steps):
        self.codebook.assign(
            ops.cast(ops.reshape(codebook, self.codebook.shape), "float32")
        )
        self.iterations.assign_add(ops.cast(steps, "int64"))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.map_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "map_shape": list(self.map_shape),
                "sigma": self.sigma,
                "learning_rate": self.learning_rate,
                "decay_steps": self.decay_steps,
                "neighborhood": self.neighborhood,
                "topology": self.topology,
                "learning_rate_decay": self.learning_rate_decay,
                "sigma_decay": self.sigma_decay,
                "update": self.update_rule,
                "codebook_initializer": self._codebook_initializer,
            }
        )
        return config
