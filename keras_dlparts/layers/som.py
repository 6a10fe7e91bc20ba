"""Kohonen's self-organising map layer: codebook, neighbourhood, updates."""

import collections
import math

import keras
import numpy as np
from keras import ops

from keras_dlparts import _validation
from keras_dlparts._compiled import compiled_loop
from keras_dlparts.ops.distance import pairwise_squared_distance

_NEIGHBORHOODS = ("gaussian", "bubble", "mexican_hat", "triangle", "winner")
_DISTANCES = ("euclidean", "cosine", "manhattan", "chebyshev")
_TOPOLOGIES = ("rectangular", "hexagonal")
_DECAYS = ("asymptotic", "inverse", "linear", "constant")
_UPDATES = ("online", "batch")
#: Codebook initialisations read from the data (`initialize(x)`).
_DATA_INITS = ("pca", "sample")


@keras.saving.register_keras_serializable(package="keras_dlparts")
class UnitVectors(keras.initializers.RandomUniform):
    """Uniform in [-1, 1] along each axis, then scaled to unit length.

    MiniSom's default initial codebook (`codebook_initializer="random"`):
    every codebook vector points in a uniformly drawn direction.
    """

    def __init__(self, seed=None):
        super().__init__(minval=-1.0, maxval=1.0, seed=seed)

    def __call__(self, shape, dtype=None):
        values = super().__call__(shape, dtype=dtype)
        return values / ops.norm(values, axis=-1, keepdims=True)

    def get_config(self):
        return {"seed": super().get_config()["seed"]}


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

    Calling the layer returns the distance from each input to every unit's
    codebook vector `w_u` (`distance`: Euclidean by default). Training is
    competitive, not by gradients (the codebook is a non-trainable weight):
    the best-matching unit `c = argmin_u d(x, w_u)` and its grid neighbours
    move towards the input,

        online rule (one sample at a time, step t):
            w_u += lr(t) * h(u, c, sigma(t)) * (x - w_u)
        batch rule (once per batch, step t):
            w_u = (1 - lr(t)) w_u + lr(t) * sum_x h(u, c_x) x / sum_x h(u, c_x)
            (units whose sum of h is not positive are left as they are)

    Neighbourhoods `h(u, c, sigma)`, with `r` the grid positions
    (hexagonal-aware) and `(i, j)` the row/column indices, and
    `p = |r_u - r_c|^2`:

        "gaussian":    exp(-p / (2 sigma^2))
        "mexican_hat": exp(-p / (2 sigma^2)) * (1 - p / sigma^2)
        "bubble":      1 where |i_u - i_c| < sigma and |j_u - j_c| < sigma
        "triangle":    max(0, sigma - |i_u - i_c|) * max(0, sigma - |j_u - j_c|)
        "winner":      1 for u = c, else 0 (winner-only; ignores sigma)

    The triangle peaks at `sigma^2`, not 1, and reads row/column indices
    on the hexagonal grid too (MiniSom's formulas, kept as they are).
    Distances `d(x, w)`: `"euclidean"`, `"manhattan"` (sum of |x - w|),
    `"cosine"` (`1 - x.w / (|x| |w| + 1e-8)`) and `"chebyshev"`
    (max of |x - w|; MiniSom 2.3.6's `"chebyshev"` takes the max of
    `x - w` without the absolute value, ours is the true Chebyshev
    distance). Manhattan and Chebyshev hold a `(batch, units, features)`
    array; Euclidean and cosine use one matrix product. Whatever the
    distance, `quantization_error`, `topographic_error` and `umatrix` are
    Euclidean, as in MiniSom.

    The learning rate and radius decay over `T = decay_steps` steps:

        "asymptotic": p(t) = p0 / (1 + 2 t / T)       (both)
        "inverse":    lr(t) = lr0 * (T/100) / (T/100 + t),
                      sigma(t) = sigma0 / (1 + t (sigma0 - 1) / T)
        "linear":     lr(t) = lr0 * (1 - t / T),
                      sigma(t) = sigma0 + t (1 - sigma0) / T
        "constant":   p(t) = p0                       (both)

    These are MiniSom's definitions (grid positions, hexagonal offsets,
    decay functions, neighbourhoods, U-matrix), so with the same initial
    codebook the online rule reproduces `MiniSom.train` and the batch rule
    `MiniSom.train_batch_offline` step by step. `train_batch` runs many
    batch epochs in one loop; `keras_dlparts.models.SOM` trains this layer
    through `fit`.

    Args:
        map_shape: `(rows, cols)` of the grid, positive integers, at least
            two units.
        sigma: initial neighbourhood radius, a positive number.
        learning_rate: initial learning rate, a positive number.
        decay_steps: `T`, the number of steps over which `learning_rate`
            and `sigma` decay (samples for the online rule, batches for the
            batch rule), a positive integer.
        neighborhood: `"gaussian"`, `"mexican_hat"`, `"bubble"`,
            `"triangle"` or `"winner"`.
        topology: `"rectangular"` or `"hexagonal"`.
        learning_rate_decay: `"asymptotic"`, `"inverse"`, `"linear"` or
            `"constant"`.
        sigma_decay: `"asymptotic"`, `"inverse"`, `"linear"` or
            `"constant"`.
        update: the rule `update_step` applies, `"online"` or `"batch"`.
        codebook_initializer: the initial `(rows, cols, features)`
            codebook: an array of that shape; `"random"` (MiniSom's
            default: random unit vectors); `"pca"` (MiniSom's
            `pca_weights_init`: the mean plus `a * pc1 + b * pc2`, `a` and
            `b` evenly spaced in [-1, 1] along the rows and columns) or
            `"sample"` (MiniSom's `random_weights_init`: random rows of the
            data), both read from the data by `initialize(x)`; or any
            Keras initializer.
        distance: `"euclidean"`, `"cosine"`, `"manhattan"` or
            `"chebyshev"`: picks the best-matching unit and is what the
            layer returns.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: a float tensor of shape `(batch, features)`.

    Returns:
        The distances `d(x, w_u)`, shaped `(batch, rows, cols)`.

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
        >>> pca = SelfOrganizingMap((3, 3), codebook_initializer="pca",
        ...                         update="batch", decay_steps=5)
        >>> pca.initialize(x)
        >>> errors = pca.train_batch(x, epochs=5)  # error before each epoch
        >>> tuple(errors.shape), int(pca.iterations.numpy())
        ((6,), 5)
        >>> int(np.asarray(pca.activation_response(x)).sum())
        10
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
        _validation.one_of("distance", distance, _DISTANCES)
        self.map_shape = tuple(map_shape)
        self.sigma = float(sigma)
        self.learning_rate = float(learning_rate)
        self.decay_steps = decay_steps
        self.neighborhood = neighborhood
        self.topology = topology
        self.learning_rate_decay = learning_rate_decay
        self.sigma_decay = sigma_decay
        self.update_rule = update
        self.distance = distance
        self.num_units = map_shape[0] * map_shape[1]
        self._batch_runs = {}  # compiled `train_batch` loops
        self._set_codebook_initializer(codebook_initializer)
        (
            self._grid_index,
            self._grid_position,
            self._neighbors,
            self._neighbor_valid,
        ) = _grid(*self.map_shape, topology)

    def _set_codebook_initializer(self, value):
        """Reads `codebook_initializer`: an array, a name or an initializer.

        Sets `codebook_initializer` (a Keras initializer for `build`),
        `initial_codebook` (the array, or None) and `data_init` (`"pca"`,
        `"sample"` or None).
        """
        self.initial_codebook = None
        self.data_init = None
        if isinstance(value, str) and value in _DATA_INITS:
            self.data_init = value
            value = "zeros"  # replaced by `initialize(x)`
        elif isinstance(value, str) and value == "random":
            value = UnitVectors()
        elif not isinstance(value, (str, dict)) and not callable(value):
            array = _validation.finite_array("codebook_initializer", value)
            if array.ndim != 3 or array.shape[:2] != self.map_shape:
                raise ValueError(
                    "Argument `codebook_initializer` must be an array of "
                    f"shape {self.map_shape + ('features',)} (map_shape "
                    f"plus features). Received: codebook_initializer.shape="
                    f"{array.shape}"
                )
            self.initial_codebook = array
            value = keras.initializers.Constant(0.0)  # assigned in build
        self.codebook_initializer = _validation.initializer(
            "codebook_initializer", value
        )
        self._needs_data = False

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                "Input `inputs` must have rank 2 (batch, features) with a "
                f"known last dimension. Received: inputs.shape="
                f"{tuple(input_shape)}"
            )
        features = input_shape[-1]
        initializer = self.codebook_initializer
        if self.initial_codebook is not None:
            if self.initial_codebook.shape[-1] != features:
                raise ValueError(
                    "Argument `codebook_initializer` must have shape "
                    f"{self.map_shape + (features,)} for inputs of "
                    f"{features} features. Received: codebook_initializer."
                    f"shape={self.initial_codebook.shape}"
                )
            codebook = self.initial_codebook

            def initializer(shape, dtype=None):
                return ops.cast(codebook, dtype)

        if self.data_init == "pca" and features < 2:
            raise ValueError(
                "Argument `codebook_initializer` can be 'pca' only for "
                "data of at least 2 features (two principal components). "
                f"Received: inputs.shape={tuple(input_shape)}"
            )
        self._needs_data = self.data_init is not None
        # Competitive learning assigns these directly; under tf.distribute
        # the replicas' codebooks are averaged and the counter kept once.
        self.codebook = self.add_weight(
            name="codebook",
            shape=self.map_shape + (features,),
            initializer=initializer,
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
        scores = self._activation(inputs, self._flat_codebook(inputs.dtype))
        if self.distance == "euclidean":
            scores = ops.sqrt(scores)
        return ops.reshape(scores, (-1,) + self.map_shape)

    def _activation(self, inputs, codebook):
        """`(batch, units)` scores whose row minimum is the winner.

        The squared Euclidean distance (one matrix product), or the
        distance itself for the other choices of `distance`.
        """
        if self.distance == "euclidean":
            return pairwise_squared_distance(inputs, codebook)
        if self.distance == "cosine":
            dots = ops.matmul(inputs, ops.transpose(codebook))
            norms = ops.norm(inputs, axis=-1)[:, None] * ops.norm(
                codebook, axis=-1
            )
            return 1.0 - dots / (norms + 1e-8)
        gaps = ops.abs(inputs[:, None, :] - codebook[None, :, :])
        if self.distance == "manhattan":
            return ops.sum(gaps, axis=-1)
        return ops.max(gaps, axis=-1)

    def _float_inputs(self, inputs):
        inputs = ops.convert_to_tensor(inputs)
        self._check_features(inputs)
        return ops.cast(inputs, "float32")

    def _winners(self, inputs, codebook):
        """Flat index of each input's best-matching unit (int32)."""
        scores = self._activation(inputs, codebook)
        return ops.cast(ops.argmin(scores, axis=1), "int32")

    def bmu(self, inputs):
        """Grid coordinates `(row, col)` of each input's best-matching unit.

        Returns:
            An int32 tensor shaped `(batch, 2)`.
        """
        winner = self._winners(
            self._float_inputs(inputs), self._flat_codebook()
        )
        cols = self.map_shape[1]
        return ops.stack([winner // cols, winner % cols], axis=1)

    def quantization_error(self, inputs):
        """Per-sample Euclidean distance `|x - w_c|` to the nearest unit.

        The mean over a data set is MiniSom's `quantization_error`.

        Returns:
            A float32 tensor shaped `(batch,)`.
        """
        return self.errors(inputs)[0]

    def topographic_error(self, inputs):
        """Per-sample 1.0 where the two nearest units are not adjacent.

        Adjacent means within one step, diagonals included, on the
        rectangular grid, and at distance 1 on the hexagonal grid; the mean
        over a data set is MiniSom's `topographic_error`.

        Returns:
            A float32 tensor shaped `(batch,)`.
        """
        return self.errors(inputs)[1]

    def errors(self, inputs):
        """`(quantization_error, topographic_error)` per sample, at once.

        Both come from one Euclidean distance computation, whatever the
        `distance` (as in MiniSom); see the two methods.

        Returns:
            Two float32 tensors shaped `(batch,)`.
        """
        inputs = self._float_inputs(inputs)
        codebook = self._flat_codebook()
        squared = pairwise_squared_distance(inputs, codebook)
        quantization, topographic, _ = self._errors_from(
            inputs, codebook, squared
        )
        return quantization, topographic

    def _quantization(self, inputs, codebook, squared):
        """Per-sample quantization error and the Euclidean winners.

        The error is recomputed from the nearest codebook vector (picked by
        a one-hot matrix product: no gather) rather than read off the
        matrix-product distances, which lose digits to cancellation.
        """
        winners = ops.cast(ops.argmin(squared, axis=1), "int32")
        nearest = ops.matmul(ops.one_hot(winners, self.num_units), codebook)
        quantization = ops.sqrt(ops.sum(ops.square(inputs - nearest), axis=-1))
        return quantization, winners

    def _errors_from(self, inputs, codebook, squared):
        """Both errors and the Euclidean winners, from squared distances."""
        quantization, winners = self._quantization(inputs, codebook, squared)
        first = ops.one_hot(winners, self.num_units)
        second = ops.argmin(ops.where(first > 0, np.inf, squared), axis=1)
        if self.topology == "hexagonal":
            grid, far = self._grid_position, lambda d: ops.abs(d - 1.0) > 1e-5
        else:
            grid, far = self._grid_index, lambda d: d > 1.42
        grid = ops.convert_to_tensor(grid, "float32")
        gap = ops.sqrt(
            ops.sum(
                ops.square(ops.matmul(first, grid) - ops.take(grid, second, 0)),
                axis=-1,
            )
        )
        return quantization, ops.cast(far(gap), "float32"), winners

    def initialize(self, inputs, method=None, seed=None):
        """Sets the codebook from the data (eagerly, in NumPy, as MiniSom).

        Args:
            inputs: the data, an array shaped `(samples, features)`.
            method: `"pca"` (MiniSom's `pca_weights_init`: the codebook
                spans the data's first two principal components, with unit
                `(i, j)` at `mean + a_i pc1 + b_j pc2`, `a` and `b` evenly
                spaced in [-1, 1]; the components are unit vectors, not
                scaled by their variance) or `"sample"` (MiniSom's
                `random_weights_init`: each unit takes a random row of the
                data). Default: the layer's `codebook_initializer`.
            seed: for `"sample"`, an optional integer seed (default: NumPy's
                global random state, which `keras.utils.set_random_seed`
                seeds).
        """
        method = self.data_init if method is None else method
        _validation.one_of("method", method, _DATA_INITS)
        _validation.random_seed("seed", seed)
        inputs = self._float_inputs(inputs)
        data = np.asarray(keras.ops.convert_to_numpy(inputs), "float64")
        if not np.all(np.isfinite(data)):
            raise ValueError(
                "Argument `inputs` must hold finite numbers (no NaN or inf)."
            )
        if method == "sample":
            rng = np.random if seed is None else np.random.RandomState(seed)
            codebook = data[rng.randint(len(data), size=self.num_units)]
        else:
            if data.shape[1] < 2 or data.shape[0] < 2:
                raise ValueError(
                    "Argument `inputs` must have at least 2 samples and 2 "
                    "features for the 'pca' initialisation. Received: "
                    f"inputs.shape={data.shape}"
                )
            values, vectors = np.linalg.eigh(np.cov(data, rowvar=False))
            order = np.argsort(values)[::-1]
            pc1, pc2 = vectors[:, order[0]], vectors[:, order[1]]
            a = np.linspace(-1, 1, self.map_shape[0])[:, None, None]
            b = np.linspace(-1, 1, self.map_shape[1])[None, :, None]
            codebook = data.mean(axis=0) + a * pc1 + b * pc2
        self.codebook.assign(
            np.reshape(codebook, self.codebook.shape).astype("float32")
        )
        self._needs_data = False

    @property
    def needs_initialization(self):
        """True while a `"pca"`/`"sample"` codebook awaits `initialize(x)`."""
        return self._needs_data

    def _check_initialized(self):
        if self._needs_data:
            raise ValueError(
                f"Argument `codebook_initializer`={self.data_init!r} reads "
                "the data: call `initialize(x)` before training (`SOM.fit` "
                "on an array does it)."
            )

    def load_own_variables(self, store):
        super().load_own_variables(store)
        self._needs_data = False  # the codebook comes from the file

    # ------------------------------------------------------------------
    # MiniSom's helpers.
    # ------------------------------------------------------------------

    def _grid_winners(self, inputs):
        inputs = self._float_inputs(inputs)
        winners = np.asarray(self._winners(inputs, self._flat_codebook()))
        cols = self.map_shape[1]
        return [(int(w) // cols, int(w) % cols) for w in winners]

    def win_map(self, inputs, return_indices=False):
        """Which inputs each unit wins (MiniSom's `win_map`), eagerly.

        Args:
            inputs: the data, shaped `(samples, features)`.
            return_indices: list the row numbers instead of the rows.

        Returns:
            A dict from `(row, col)` to the list of the rows of `inputs`
            (NumPy arrays) or their indices won by that unit, in input
            order; units that win nothing are absent.
        """
        _validation.boolean("return_indices", return_indices)
        rows = np.asarray(inputs)
        mapping = {}
        for i, place in enumerate(self._grid_winners(inputs)):
            mapping.setdefault(place, []).append(
                i if return_indices else rows[i]
            )
        return mapping

    def labels_map(self, inputs, labels):
        """How many inputs of each label each unit wins (MiniSom's).

        Args:
            inputs: the data, shaped `(samples, features)`.
            labels: one hashable label per row of `inputs`.

        Returns:
            A dict from `(row, col)` to a `collections.Counter` of labels;
            units that win nothing are absent.
        """
        labels = list(np.asarray(labels).tolist())
        places = self._grid_winners(inputs)
        if len(labels) != len(places):
            raise ValueError(
                "Argument `labels` must hold one label per row of `inputs`. "
                f"Received: {len(labels)} labels for {len(places)} rows"
            )
        mapping = {}
        for place, label in zip(places, labels):
            mapping.setdefault(place, collections.Counter())[label] += 1
        return mapping

    def activation_response(self, inputs):
        """How many of `inputs` each unit wins (MiniSom's).

        Returns:
            A float32 tensor shaped `(rows, cols)`.
        """
        inputs = self._float_inputs(inputs)
        winners = self._winners(inputs, self._flat_codebook())
        counts = ops.sum(ops.one_hot(winners, self.num_units), axis=0)
        return ops.reshape(counts, self.map_shape)

    def distance_map(self, scaling="sum"):
        """MiniSom's name for `umatrix` (the same figures)."""
        return self.umatrix(scaling)

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
        elif self.learning_rate_decay == "linear":
            lr = lr0 * (1.0 - t / total)
        else:
            lr = lr0 + 0.0 * t
        if self.sigma_decay == "asymptotic":
            sigma = sigma0 / (1.0 + t / (total / 2.0))
        elif self.sigma_decay == "inverse":
            sigma = sigma0 / (1.0 + t * ((sigma0 - 1.0) / total))
        elif self.sigma_decay == "linear":
            sigma = sigma0 + t * ((1.0 - sigma0) / total)
        else:
            sigma = sigma0 + 0.0 * t
        return lr, sigma

    def neighborhood_weights(self, winners, sigma):
        """`h(u, c, sigma)` for every unit `u` and winner index `c`.

        Args:
            winners: int tensor of flat unit indices, shaped `(n,)`.
            sigma: the radius.

        Returns:
            A float32 tensor shaped `(n, units)`.
        """
        if self.neighborhood == "winner":
            return ops.one_hot(winners, self.num_units)
        if self.neighborhood in ("gaussian", "mexican_hat"):
            grid = ops.convert_to_tensor(self._grid_position, "float32")
            centre = ops.take(grid, winners, axis=0)
            squared = ops.sum(
                ops.square(grid[None, :, :] - centre[:, None, :]), axis=-1
            )
            bell = ops.exp(-squared / (2.0 * sigma * sigma))
            if self.neighborhood == "gaussian":
                return bell
            return bell * (1.0 - squared / (sigma * sigma))
        grid = ops.convert_to_tensor(self._grid_index, "float32")
        centre = ops.take(grid, winners, axis=0)
        gap = ops.abs(grid[None, :, :] - centre[:, None, :])
        if self.neighborhood == "triangle":
            return ops.prod(ops.relu(sigma - gap), axis=-1)
        return ops.cast(ops.all(gap < sigma, axis=-1), "float32")

    def online_update(self, inputs):
        """Applies the online rule to each row of `inputs` in order.

        Returns:
            The per-sample `errors(inputs)` measured before the update.
        """
        self._check_initialized()
        inputs = self._float_inputs(inputs)
        errors = self.errors(inputs)
        start = ops.cast(self.iterations, "float32")

        def step(i, codebook):
            sample = ops.take(inputs, i, axis=0)[None, :]
            if self.distance == "euclidean":  # exact, no cancellation
                squared = ops.sum(ops.square(sample - codebook), axis=-1)
                winner = ops.argmin(squared)[None]
            else:
                winner = self._winners(sample, codebook)
            lr, sigma = self.schedule(start + ops.cast(i, "float32"))
            h = self.neighborhood_weights(winner, sigma)[0] * lr
            return codebook + h[:, None] * (sample - codebook)

        count = ops.shape(inputs)[0]
        codebook = ops.fori_loop(0, count, step, self._flat_codebook())
        self._assign(codebook, count)
        return errors

    def _won(self, scores):
        """One-hot `(batch, units)` of each row's first minimum, and the minima.

        The same winners as `argmin`, from two min-reductions and compares
        (XLA:CPU's `argmin` costs about as much as the batch rule's
        matrix products).
        """
        lowest = ops.min(scores, axis=1, keepdims=True)
        units = ops.arange(self.num_units, dtype="int32")[None, :]
        first = ops.min(
            ops.where(scores == lowest, units, self.num_units), axis=1
        )
        return ops.cast(first[:, None] == units, "float32"), lowest[:, 0]

    def _batch_codebook(self, inputs, codebook, won, step):
        """The codebook after one batch-rule update (matrix products only).

        `won` is the one-hot `(batch, units)` of the winners.
        """
        lr, sigma = self.schedule(step)
        sums = ops.matmul(ops.transpose(won), inputs)  # (units, features)
        counts = ops.sum(won, axis=0)
        units = ops.arange(self.num_units, dtype="int32")
        h = self.neighborhood_weights(units, sigma)  # h[c, u] = h(u, c)
        weight = ops.matmul(counts[None, :], h)[0]  # sum_x h(u, c_x)
        target = ops.matmul(ops.transpose(h), sums)
        target = target / ops.where(weight > 0, weight, 1.0)[:, None]
        moved = (1.0 - lr) * codebook + lr * target
        return ops.where(weight[:, None] > 0, moved, codebook)

    def batch_update(self, inputs):
        """Applies the batch rule once with all rows of `inputs`.

        Returns:
            The per-sample `errors(inputs)` measured before the update
            (from the same distances that pick the winners).
        """
        self._check_initialized()
        inputs = self._float_inputs(inputs)
        codebook = self._flat_codebook()
        squared = pairwise_squared_distance(inputs, codebook)
        quantization, topographic, winners = self._errors_from(
            inputs, codebook, squared
        )
        if self.distance != "euclidean":
            winners = self._winners(inputs, codebook)
        codebook = self._batch_codebook(
            inputs,
            codebook,
            ops.one_hot(winners, self.num_units),
            self.iterations,
        )
        self._assign(codebook, 1)
        return quantization, topographic

    def train_batch(self, inputs, epochs, target_error=None, jit_compile=True):
        """Runs up to `epochs` batch-rule epochs on `inputs` in one call.

        Each epoch is one `batch_update` with the whole of `inputs` (as
        `MiniSom.train_batch_offline`, with `decay_steps` as its
        `num_iteration`). The epochs run inside one `keras.ops` while-loop,
        compiled once per input shape and `epochs` (`tf.function` on
        TensorFlow, with XLA when `jit_compile`; `jax.jit` on JAX) and
        cached, so they cost no per-epoch `fit` overhead and later calls no
        tracing. Before each epoch the quantization error is measured (from
        the matrix-product distances, to about 1e-5); training stops before
        the update once it is at most `target_error`.

        Args:
            inputs: the data, shaped `(samples, features)`.
            epochs: the most updates to make, a positive integer.
            target_error: optional quantization error to stop at, a number
                >= 0.
            jit_compile: on TensorFlow, compile the loop with XLA.

        Returns:
            A float32 tensor shaped `(epochs + 1,)`: entry `k` is the mean
            quantization error after `k` updates, NaN past the stop. The
            number of updates made is the count of finite entries less
            one (also added to `iterations`).
        """
        _validation.positive_int("epochs", epochs)
        _validation.boolean("jit_compile", jit_compile)
        target = -1.0
        if target_error is not None:
            target = _validation.non_negative_number(
                "target_error", target_error
            )
        self._check_initialized()
        inputs = self._float_inputs(inputs)
        key = (tuple(inputs.shape), epochs, jit_compile)
        run = self._batch_runs.get(key)
        if run is None:

            def loop(inputs, codebook, start, target):
                return self._batch_loop(inputs, codebook, start, target, epochs)

            run = compiled_loop(loop, [], jit_compile)
            self._batch_runs[key] = run
        updates, codebook, history = run(
            inputs,
            self._flat_codebook(),
            ops.cast(self.iterations, "float32"),
            ops.convert_to_tensor(target, "float32"),
        )
        self._assign(codebook, updates)
        return history

    def _batch_loop(self, inputs, codebook, start, target, epochs):
        """`train_batch` as a pure function: (updates, codebook, errors)."""
        slots = ops.arange(epochs + 1, dtype="int32")

        def cond(i, codebook, history, done):
            return ops.logical_not(done)

        def body(i, codebook, history, done):
            squared = pairwise_squared_distance(inputs, codebook)
            won, lowest = self._won(squared)
            error = ops.mean(ops.sqrt(ops.maximum(lowest, 0.0)))
            history = ops.where(slots == i, error, history)
            done = ops.logical_or(i >= epochs, error <= target)
            if self.distance != "euclidean":
                won, _ = self._won(self._activation(inputs, codebook))
            moved = self._batch_codebook(
                inputs, codebook, won, start + ops.cast(i, "float32")
            )
            codebook = ops.where(done, codebook, moved)
            return (
                i + ops.cast(ops.logical_not(done), "int32"),
                codebook,
                history,
                done,
            )

        updates, codebook, history, _ = ops.while_loop(
            cond,
            body,
            (
                ops.convert_to_tensor(0, "int32"),
                codebook,
                ops.full((epochs + 1,), np.nan, "float32"),
                ops.convert_to_tensor(False),
            ),
        )
        return updates, codebook, history

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
        if self.data_init is not None:
            codebook = self.data_init
        elif self.initial_codebook is not None:
            codebook = self.initial_codebook.tolist()
        else:
            codebook = keras.initializers.serialize(self.codebook_initializer)
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
                "codebook_initializer": codebook,
                "distance": self.distance,
            }
        )
        return config
