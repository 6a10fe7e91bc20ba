"""Multi-head attention with a choice of score function."""

import inspect
import math

import keras
from keras import ops

from keras_dlparts._validation import boolean
from keras_dlparts._validation import broadcastable_mask
from keras_dlparts._validation import keras_lookup
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import rate
from keras_dlparts._validation import same_batch_size
from keras_dlparts.ops.attention import masked_softmax
from keras_dlparts.ops.similarity import l2_normalize

#: The score functions `MultiHeadAttention(score=...)` accepts.
SCORES = ("scaled_dot", "dot", "general", "additive", "cosine")

_LOW_PRECISION = ("float16", "bfloat16")

#: Keras constructor arguments that name a Keras object, and its kind.
_KERAS_OBJECTS = {
    "kernel_initializer": "initializers",
    "bias_initializer": "initializers",
    "kernel_regularizer": "regularizers",
    "bias_regularizer": "regularizers",
    "activity_regularizer": "regularizers",
    "kernel_constraint": "constraints",
    "bias_constraint": "constraints",
}


def _check_keras_arguments(num_heads, key_dim, args, kwargs):
    """Checks by name the arguments meant for `keras.layers.MultiHeadAttention`."""
    signature = inspect.signature(keras.layers.MultiHeadAttention.__init__)
    bound = signature.bind(None, num_heads, key_dim, *args, **kwargs).arguments
    if bound.get("value_dim") is not None:
        positive_int("value_dim", bound["value_dim"])
    if "dropout" in bound:
        rate("dropout", bound["dropout"])
    if "use_bias" in bound:
        boolean("use_bias", bound["use_bias"])
    random_seed("seed", bound.get("seed"))
    for name, kind in _KERAS_OBJECTS.items():
        if name in bound:
            keras_lookup(name, bound[name], kind)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class MultiHeadAttention(keras.layers.MultiHeadAttention):
    """Multi-head attention with a choice of score function.

    A drop-in for `keras.layers.MultiHeadAttention`: the same constructor
    arguments, call signature, masks and weight layout, so
    `ours.set_weights(keras_mha.get_weights())` reproduces the Keras layer.
    Each head projects `q = W_Q x_q`, `k = W_K x_k`, `v = W_V x_v`, computes
    the weights `a_ts = softmax_s(f(q_t, k_s))` and the output
    `W_O concat_heads(sum_s a_ts v_s)`. `score` picks `f` (`d = key_dim`):

    - `"scaled_dot"` (default): `q . k / sqrt(d)`, through
      `keras.ops.dot_product_attention` for float32 inputs with
      `value_dim == key_dim` and no dropout, so fused kernels run where
      the backend has them;
    - `"dot"`: `q . k`;
    - `"general"`: `q W k`, with a `(key_dim, key_dim)` matrix `W` per head;
    - `"additive"`: `u . tanh(W_q q + W_k k)`, with `(key_dim, key_dim)`
      matrices `W_q`, `W_k` and a vector `u` per head (inputs of rank 3
      only);
    - `"cosine"`: `g cos(q, k)`, with a learnable scale `g` per head,
      initialised to `sqrt(key_dim)`.

    Masked keys (padding, `attention_mask`, `use_causal_mask`) get exactly
    zero weight for every score; a query with no visible key gets all-zero
    weights and so the attention output `W_O 0 + b_O`. (The fused path of the
    Keras layer gives such a query uniform weights instead; every other
    query matches it.) 16-bit scores are normalised in float32, so mixed
    precision neither overflows nor leaks weight onto masked keys. The extra
    weights of the non-default scores are created after the Keras ones.

    Args:
        num_heads: number of attention heads, a positive integer.
        key_dim: size of each head for query and key, a positive integer.
        *args: further positional arguments of
            `keras.layers.MultiHeadAttention` (`value_dim`, `dropout`, ...).
        score: the score function, one of `SCORES`.
        **kwargs: further keyword arguments of
            `keras.layers.MultiHeadAttention` (`value_dim`, `dropout`,
            `use_bias`, `output_shape`, `attention_axes`, initializers,
            regularizers, constraints, `seed`) and of `keras.layers.Layer`.

    Call arguments:
        query: tensor `(B, T, dim)`.
        value: tensor `(B, S, dim)`.
        key: optional tensor `(B, S, dim)`; defaults to `value`.
        query_mask, value_mask, key_mask: optional boolean masks `(B, T)`,
            `(B, S)`, `(B, S)`; Keras masks of the inputs are used too.
        attention_mask: optional boolean tensor `(B, T, S)`, `True` where a
            query may attend to a key; as in Keras, a `(T, S)` mask applies
            to every example and a `(B, num_heads, T, S)` mask to each head.
        return_attention_scores: whether to also return the weights
            `(B, num_heads, T, S)`.
        training: whether dropout on the weights is active.
        use_causal_mask: whether query `t` only sees keys `s <= t`.

    Returns:
        The attention output `(B, T, dim)` (or `(B, T) + output_shape`), and
            the weights when `return_attention_scores=True`.

    Examples:

        >>> import numpy as np
        >>> layer = MultiHeadAttention(num_heads=2, key_dim=4, score="cosine")
        >>> x = np.ones((1, 3, 8), "float32")
        >>> out, weights = layer(x, x, use_causal_mask=True,
        ...                      return_attention_scores=True)
        >>> tuple(out.shape), tuple(weights.shape)
        ((1, 3, 8), (1, 2, 3, 3))
        >>> np.round(keras.ops.convert_to_numpy(weights)[0, 0], 3)
        array([[1.   , 0.   , 0.   ],
               [0.5  , 0.5  , 0.   ],
               [0.333, 0.333, 0.333]], dtype=float32)
    """

    def __init__(self, num_heads, key_dim, *args, score="scaled_dot", **kwargs):
        positive_int("num_heads", num_heads)
        positive_int("key_dim", key_dim)
        one_of("score", score, SCORES)
        _check_keras_arguments(num_heads, key_dim, args, kwargs)
        super().__init__(num_heads, key_dim, *args, **kwargs)
        self.score = score
        self._built_shapes = None

    def get_config(self):
        return {**super().get_config(), "score": self.score}

    # ------------------------------------------------------------------
    # Building.
    # ------------------------------------------------------------------

    def build(self, query_shape, value_shape, key_shape=None):
        shapes = self._check_shapes(query_shape, value_shape, key_shape)
        super().build(query_shape, value_shape, key_shape)
        if self.score == "additive" and (
            len(query_shape) != 3 or tuple(self._attention_axes) != (1,)
        ):
            raise ValueError(
                "score='additive' needs inputs of rank 3 (B, T, dim) and the "
                "default `attention_axes`. Received: score='additive', "
                f"query_shape={tuple(query_shape)}, "
                f"attention_axes={self._attention_axes}"
            )
        heads, depth = self._num_heads, self._key_dim
        if self.score == "general":
            self.general_kernel = self._add_kernel(
                "general_kernel", (heads, depth, depth)
            )
        elif self.score == "additive":
            self.additive_query_kernel = self._add_kernel(
                "additive_query_kernel", (heads, depth, depth)
            )
            self.additive_key_kernel = self._add_kernel(
                "additive_key_kernel", (heads, depth, depth)
            )
            self.additive_vector = self._add_kernel(
                "additive_vector", (heads, depth)
            )
        elif self.score == "cosine":
            self.cosine_scale = self.add_weight(
                name="cosine_scale",
                shape=(heads,),
                initializer=keras.initializers.Constant(math.sqrt(depth)),
            )
        self._built_shapes = shapes

    def _add_kernel(self, name, shape):
        initializer = self._kernel_initializer.__class__.from_config(
            self._kernel_initializer.get_config()
        )
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=initializer,
            regularizer=self._kernel_regularizer,
            constraint=self._kernel_constraint,
        )

    def _check_shapes(self, query_shape, value_shape, key_shape=None):
        """Validates input shapes (and, once built, against the built ones)."""
        shapes = {"query": query_shape, "value": value_shape}
        shapes["key"] = value_shape if key_shape is None else key_shape
        shapes = {k: tuple(v) for k, v in shapes.items()}
        for name, shape in shapes.items():
            if len(shape) < 3:
                raise ValueError(
                    f"Input `{name}` must have rank >= 3 (batch, "
                    f"positions..., features). Received: {name}.shape={shape}"
                )
        if self._built_shapes is not None:
            for name, shape in shapes.items():
                built = self._built_shapes[name]
                if len(shape) != len(built) or shape[-1] not in (
                    None,
                    built[-1],
                ):
                    raise ValueError(
                        f"Input `{name}` must have rank {len(built)} and last "
                        f"dimension {built[-1]}, as when the layer was built. "
                        f"Received: {name}.shape={shape}"
                    )
        return shapes

    def _check_masks(self, query, value, key, **masks):
        """Checks batch sizes and the static shapes of the masks.

        `query_mask` is `query.shape[:-1]`, `value_mask` and `key_mask` are
        `value.shape[:-1]`, and `attention_mask` is `(B, T..., S...)`, the
        weights' shape without the head axis, or `(B, H, T..., S...)` with
        one mask per head; size-1 and missing leading axes broadcast.
        """
        named = [("query", query), ("value", value)]
        if key is not None:
            named.append(("key", key))
        same_batch_size(*named)
        query_shape, value_shape = tuple(query.shape), tuple(value.shape)
        axes = tuple(self._attention_axes)
        others = [i for i in range(len(query_shape) - 1) if i not in axes]
        expected = {
            "query_mask": query_shape[:-1],
            "value_mask": value_shape[:-1],
            "key_mask": value_shape[:-1],
            "attention_mask": tuple(query_shape[i] for i in others)
            + tuple(query_shape[i] for i in axes)
            + tuple(value_shape[i] for i in axes),
        }
        with_heads = list(expected["attention_mask"])
        with_heads.insert(len(others), self.num_heads)
        for name, mask in masks.items():
            if mask is None:
                continue
            shape = expected[name]
            if name == "attention_mask" and len(mask.shape) == len(shape) + 1:
                shape = tuple(with_heads)  # one mask per head, as Keras allows
            broadcastable_mask(name, mask, shape)

    # ------------------------------------------------------------------
    # Calling.
    # ------------------------------------------------------------------

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        self._check_shapes(
            query.shape, value.shape, None if key is None else key.shape
        )
        self._check_masks(
            query,
            value,
            key,
            query_mask=query_mask,
            value_mask=value_mask,
            key_mask=key_mask,
            attention_mask=attention_mask,
        )
        return super().call(
            query,
            value,
            key=key,
            query_mask=query_mask,
            value_mask=value_mask,
            key_mask=key_mask,
            attention_mask=attention_mask,
            return_attention_scores=return_attention_scores,
            training=training,
            use_causal_mask=use_causal_mask,
        )

    def _compute_attention(
        self,
        query,
        key,
        value,
        attention_mask=None,
        training=None,
        return_attention_scores=False,
        use_causal_mask=False,
    ):
        """Attention over projected `query (B, T, N, H)`, `key`, `value`."""
        if 0 in tuple(query.shape):
            return self._empty_attention(query, key, value)
        if use_causal_mask:
            causal = self._compute_causal_mask(query, value)
            attention_mask = (
                causal
                if attention_mask is None
                else ops.logical_and(ops.cast(attention_mask, "bool"), causal)
            )
        # The fused kernel runs float32 inputs whose value heads are as wide
        # as the key heads: Keras' JAX `dot_product_attention` fails on
        # other widths, and XLA on CPU cannot run its 16-bit products with
        # float32 accumulation. The explicit path scores 16-bit inputs in
        # float32, with the same numbers on every backend.
        if (
            self.score == "scaled_dot"
            and not return_attention_scores
            and self._dropout == 0.0
            and len(query.shape) == 4
            and value.shape[-1] == key.shape[-1]
            and keras.backend.standardize_dtype(query.dtype)
            not in _LOW_PRECISION
        ):
            return self._fused_attention(
                query, key, value, attention_mask
            ), None

        scores = self._scores(query, key)
        mask = None
        if attention_mask is not None:
            mask = self._expand_mask(attention_mask, len(scores.shape))
        norm_axes = tuple(range(-len(self._attention_axes), 0))
        weights = masked_softmax(scores, mask, axis=norm_axes)
        weights = ops.cast(weights, value.dtype)
        dropped = weights
        if self._dropout > 0.0:
            dropped = self._dropout_layer(weights, training=training)
        output = ops.einsum(self._combine_equation, dropped, value)
        return output, weights

    def _empty_attention(self, query, key, value):
        """Zero weights for an empty batch (TF's eager `max` refuses one)."""
        weights = ops.cast(
            ops.zeros_like(self._scores(query, key)), value.dtype
        )
        return ops.einsum(self._combine_equation, weights, value), weights

    def _fused_attention(self, query, key, value, attention_mask):
        """`keras.ops.dot_product_attention`; rows with no visible key -> 0."""
        scale = self._inverse_sqrt_key_dim
        mask = None
        if attention_mask is not None:
            mask = ops.cast(self._expand_mask(attention_mask, 4), "bool")
        output = ops.dot_product_attention(
            query,
            key,
            value,
            mask=mask,
            scale=scale,
            flash_attention=self._flash_attention,
        )
        if mask is None:
            return output
        # (B, N, T, 1) -> (B, T, N, 1): zero where every key is masked.
        visible = ops.transpose(
            ops.any(mask, axis=-1, keepdims=True), (0, 2, 1, 3)
        )
        return output * ops.cast(visible, output.dtype)

    def _scores(self, query, key):
        """Raw scores `(B, N, T, S)` (float32 for 16-bit inputs)."""
        if keras.backend.standardize_dtype(query.dtype) in _LOW_PRECISION:
            query = ops.cast(query, "float32")
            key = ops.cast(key, "float32")
        equation = self._dot_product_equation
        if self.score == "scaled_dot":
            query = query * ops.cast(self._inverse_sqrt_key_dim, query.dtype)
        elif self.score == "general":
            kernel = ops.cast(self.general_kernel, query.dtype)
            query = ops.einsum("...nh,nhg->...ng", query, kernel)
        elif self.score == "cosine":
            query, key = l2_normalize(query), l2_normalize(key)
        elif self.score == "additive":
            return self._additive_scores(query, key)
        scores = ops.einsum(equation, key, query)
        if self.score == "cosine":
            scale = ops.cast(self.cosine_scale, scores.dtype)
            trailing = (1,) * (2 * len(self._attention_axes))
            scores = scores * ops.reshape(scale, (self._num_heads,) + trailing)
        return scores

    def _additive_scores(self, query, key):
        dtype = query.dtype
        query = ops.einsum(
            "btnh,nha->btna",
            query,
            ops.cast(self.additive_query_kernel, dtype),
        )
        key = ops.einsum(
            "bsnh,nha->bsna", key, ops.cast(self.additive_key_kernel, dtype)
        )
        hidden = ops.tanh(
            ops.expand_dims(query, 2) + ops.expand_dims(key, 1)
        )  # (B, T, S, N, A)
        vector = ops.cast(self.additive_vector, dtype)
        return ops.einsum("btsna,na->bnts", hidden, vector)

    def _expand_mask(self, mask, rank):
        """Adds the head axis (and any batch axes) the way Keras does."""
        axis = -len(self._attention_axes) * 2 - 1
        for _ in range(rank - len(mask.shape)):
            mask = ops.expand_dims(mask, axis=axis)
        return mask

    def compute_output_spec(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        output = super().compute_output_spec(query, value, key)
        if not return_attention_scores:
            return output
        # Keras declares (B, N, T, T); the weights are (B, N, T, S).
        rank = len(query.shape)
        axes = self._attention_axes or tuple(range(1, rank - 1))
        others = [i for i in range(rank - 1) if i not in axes]
        shape = (
            tuple(query.shape[i] for i in others)
            + (self._num_heads,)
            + tuple(query.shape[i] for i in axes)
            + tuple(value.shape[i] for i in axes)
        )
        return output, keras.KerasTensor(shape, dtype=self.compute_dtype)
