"""Graph convolution (Kipf & Welling, 2017) over a dense or sparse adjacency."""

import keras
from keras import ops

from keras_dlparts import _validation


@keras.saving.register_keras_serializable(package="keras_dlparts")
class GraphConvolution(keras.layers.Layer):
    """Graph convolution with the symmetric renormalised adjacency.

    For node features `X` (`N` nodes, `F` features) and adjacency `A`:

    ```
    A~ = A + I,   D~_ii = sum_j A~_ij
    output = activation(D~^-1/2 A~ D~^-1/2 X W + b)
    ```

    Each node averages its own and its neighbours' projected features,
    weighted by `1 / sqrt(deg_i deg_j)` (one step of message passing).
    The layer never forms `A~` or `D~`: it computes
    `d * (A (d * XW) + d * XW)` with `d = 1 / sqrt(A 1 + 1)`, so the
    adjacency is only multiplied with dense matrices.

    Supported adjacencies: dense tensors `(N, N)` shared by the batch or
    `(batch, N, N)`, and sparse ones of those shapes (e.g. from
    `keras.Input(..., sparse=True)`): `tf.SparseTensor` on TensorFlow,
    `jax.experimental.sparse.BCOO` on JAX, since `keras.ops.matmul`
    multiplies a sparse by a dense matrix on both. Edge
    weights are taken as given (weighted graphs work); `A` should have no
    self loops, as `I` is added.

    A node whose degree `D~_ii` is zero or negative (possible only with
    negative edge weights) gets the normalisation factor 0 instead of
    `1 / sqrt(D~_ii)`, the convention of PyG's `gcn_norm` and DGL's
    `GraphConv` (an infinite inverse square root becomes 0): its output is
    the bias alone, and values and gradients stay finite. Under mixed
    precision the degrees and factors are computed in float32 (a float16
    degree overflows beyond 65504).

    Args:
        units: positive integer, output features per node.
        activation: activation applied to the output (default none).
        use_bias: boolean, whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers of `W` and `b`.
        kernel_regularizer, bias_regularizer: optional regularizers.
        kernel_constraint, bias_constraint: optional constraints.
        **kwargs: base layer arguments (`name`, `dtype`).

    Call arguments:
        features: `(batch, N, F)` (or `(N, F)`) node features.
        adjacency: `(batch, N, N)` or `(N, N)` adjacency, dense or sparse.

    Returns:
        `(batch, N, units)` (or `(N, units)`) node features.

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.layers import GraphConvolution
        >>> x = np.eye(3, dtype="float32")[None]
        >>> a = np.array([[[0, 1, 0], [1, 0, 1], [0, 1, 0]]], "float32")
        >>> gcn = GraphConvolution(2, kernel_initializer="ones", use_bias=False)
        >>> np.round(np.asarray(gcn(x, a), "float64"), 4).tolist()
        [[[0.9082, 0.9082], [1.1498, 1.1498], [0.9082, 0.9082]]]
    """

    def __init__(
        self,
        units,
        activation=None,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        kernel_constraint=None,
        bias_constraint=None,
        **kwargs,
    ):
        _validation.positive_int("units", units)
        _validation.boolean("use_bias", use_bias)
        super().__init__(**kwargs)
        self.units = units
        lookup = _validation.keras_lookup
        self.activation = lookup("activation", activation, "activations")
        self.use_bias = use_bias
        self.kernel_initializer = _validation.initializer(
            "kernel_initializer", kernel_initializer
        )
        self.bias_initializer = _validation.initializer(
            "bias_initializer", bias_initializer
        )
        self.kernel_regularizer = lookup(
            "kernel_regularizer", kernel_regularizer, "regularizers"
        )
        self.bias_regularizer = lookup(
            "bias_regularizer", bias_regularizer, "regularizers"
        )
        self.kernel_constraint = lookup(
            "kernel_constraint", kernel_constraint, "constraints"
        )
        self.bias_constraint = lookup(
            "bias_constraint", bias_constraint, "constraints"
        )

    @staticmethod
    def _check_shapes(features_shape, adjacency_shape):
        """Ranks, node counts and batch sizes, from the static shapes."""
        features_shape = tuple(features_shape)
        adjacency_shape = tuple(adjacency_shape)
        _validation.check_layout(
            "features",
            features_shape,
            ("batch", "nodes", "features"),
            ("nodes", "features"),
        )
        _validation.axis_size("features", features_shape, -1)
        _validation.check_layout(
            "adjacency",
            adjacency_shape,
            ("batch", "nodes", "nodes"),
            ("nodes", "nodes"),
        )
        nodes = {features_shape[-2], adjacency_shape[-1], adjacency_shape[-2]}
        if len(nodes - {None}) > 1:
            raise ValueError(
                "Argument `adjacency` must be (nodes, nodes) for the nodes of "
                f"`features`. Received: features.shape={features_shape}, "
                f"adjacency.shape={adjacency_shape}"
            )
        if len(features_shape) == 3 and len(adjacency_shape) == 3:
            _validation.same_batch_size(
                ("features", features_shape), ("adjacency", adjacency_shape)
            )

    def build(self, features_shape, adjacency_shape):
        self._check_shapes(features_shape, adjacency_shape)
        self.kernel = self.add_weight(
            shape=(features_shape[-1], self.units),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(self.units,),
                name="bias",
                initializer=self.bias_initializer,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        self.built = True

    def call(self, features, adjacency):
        self._check_shapes(features.shape, adjacency.shape)
        _validation.axis_size(
            "features",
            features,
            -1,
            expected=self.kernel.shape[0],
            why=" (as when the layer was built)",
        )
        projected = ops.matmul(features, self.kernel)
        scale = self._inverse_sqrt_degree(adjacency, ops.shape(projected)[:-1])
        adjacency = ops.cast(adjacency, self.compute_dtype)
        scaled = scale * projected
        outputs = scale * (ops.matmul(adjacency, scaled) + scaled)
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def _inverse_sqrt_degree(self, adjacency, nodes_shape):
        """`1 / sqrt(A 1 + 1)` per node, shaped `nodes_shape + (1,)`.

        Computed in float32 for 16-bit compute dtypes; 0 where the degree
        is not positive (with a gradient-safe `where`).
        """
        dtype = keras.backend.standardize_dtype(self.compute_dtype)
        work = "float32" if dtype in ("float16", "bfloat16") else dtype
        ones = ops.ones(tuple(nodes_shape) + (1,), work)
        degree = ops.matmul(ops.cast(adjacency, work), ones) + 1.0  # A~ 1
        positive = degree > 0
        scale = ops.where(
            positive, ops.rsqrt(ops.where(positive, degree, 1.0)), 0.0
        )
        return ops.cast(scale, dtype)

    def compute_output_shape(self, features_shape, adjacency_shape):
        batch = tuple(features_shape[:-2])
        if not batch and len(adjacency_shape) == 3:
            batch = (adjacency_shape[0],)
        return batch + (features_shape[-2], self.units)

    def get_config(self):
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "units": self.units,
            "activation": keras.activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": serialize(self.kernel_initializer),
            "bias_initializer": serialize(self.bias_initializer),
            "kernel_regularizer": serialize(self.kernel_regularizer),
            "bias_regularizer": serialize(self.bias_regularizer),
            "kernel_constraint": serialize(self.kernel_constraint),
            "bias_constraint": serialize(self.bias_constraint),
        }
