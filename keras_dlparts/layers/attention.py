"""Multi-head attention with a choice of score function."""

import functools
import inspect
import math
import operator

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
from keras_dlparts.ops.memory_efficient_attention import (
    memory_efficient_attention,
)
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
    """Checks by name the arguments meant for `keras.layers.MultiHeadAttention`.

    Returns every argument of its constructor (defaults filled in).
    """
    signature = inspect.signature(keras.layers.MultiHeadAttention.__init__)
    bound = signature.bind(None, num_heads, key_dim, *args, **kwargs)
    given = bound.arguments
    if given.get("value_dim") is not None:
        positive_int("value_dim", given["value_dim"])
    if "dropout" in given:
        rate("dropout", given["dropout"])
    for name in ("use_bias", "use_gate"):
        if name in given:
            boolean(name, given[name])
    if given.get("flash_attention") is not None:
        boolean("flash_attention", given["flash_attention"])
    if given.get("sliding_window") is not None:
        positive_int("sliding_window", given["sliding_window"])
    random_seed("seed", given.get("seed"))
    for name, kind in _KERAS_OBJECTS.items():
        if name in given:
            keras_lookup(name, given[name], kind)
    bound.apply_defaults()
    return bound.arguments


def _product(sizes):
    """The product of static (int) and dynamic (tensor) sizes."""
    return functools.reduce(operator.mul, sizes, 1)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class MultiHeadAttention(keras.layers.MultiHeadAttention):
    """Multi-head attention with a choice of score function.

    A drop-in for `keras.layers.MultiHeadAttention`: the same constructor
    arguments (`use_gate`, `sliding_window`, `attention_axes` included),
    call signature, masks and weight layout, so
    `ours.set_weights(keras_mha.get_weights())` reproduces the Keras layer,
    and Keras's own test file for its layer passes against ours.
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
      matrices `W_q`, `W_k` and a vector `u` per head;
    - `"cosine"`: `g cos(q, k)`, with a learnable scale `g` per head,
      initialised to `sqrt(key_dim)`.

    Masked keys (padding, `attention_mask`, `use_causal_mask`) get exactly
    zero weight for every score; a query with no visible key gets all-zero
    weights and so the attention output `W_O 0 + b_O`. (The fused path of the
    Keras layer gives such a query uniform weights instead; every other
    query matches it.) 16-bit scores are normalised in float32, so mixed
    precision neither overflows nor leaks weight onto masked keys. The extra
    weights of the non-default scores are created after the Keras ones.
    With several `attention_axes` the attended axes are merged into one
    before scoring, so every score works on inputs of any rank. Unlike
    Keras's layer, ours leaves the Keras masks of its inputs in place, and
    honours an explicit `query_mask`.

    Args:
        num_heads: number of attention heads, a positive integer.
        key_dim: size of each head for query and key, a positive integer.
        *args: further positional arguments of
            `keras.layers.MultiHeadAttention` (`value_dim`, `dropout`, ...).
        score: the score function, one of `SCORES`.
        memory_efficient: whether to attend with
            `ops.memory_efficient_attention`: exact attention over
            `query_chunk_size x key_chunk_size` chunks with a running
            softmax, recomputed in the backward pass, so memory grows
            linearly with the length instead of quadratically (see
            docs/attention.md for when it pays). It attends over one axis of
            rank-3 inputs, needs `dropout=0` and cannot return the weights
            (it never forms them). With the scaled dot on JAX on a GPU and
            16-bit inputs, the fused flash-attention kernel runs instead.
        query_chunk_size, key_chunk_size: the chunk sizes, positive
            integers (used with `memory_efficient=True`; for `"additive"`,
            whose chunks hold `B Tq Sk N key_dim` floats, take smaller ones).
        **kwargs: further keyword arguments of
            `keras.layers.MultiHeadAttention` (`value_dim`, `dropout`,
            `use_bias`, `output_shape`, `attention_axes`, `sliding_window`,
            `flash_attention`, initializers, regularizers, constraints,
            `use_gate`, `seed`) and of `keras.layers.Layer`.

    Call arguments:
        query: tensor `(B, T, dim)`.
        value: tensor `(B, S, dim)`.
        key: optional tensor `(B, S, dim)`; defaults to `value`.
        query_mask, value_mask, key_mask: optional boolean masks `(B, T)`,
            `(B, S)`, `(B, S)`; when not given, Keras fills them in with the
            Keras masks of the inputs.
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

    def __init__(
        self,
        num_heads,
        key_dim,
        *args,
        score="scaled_dot",
        memory_efficient=False,
        query_chunk_size=1024,
        key_chunk_size=4096,
        **kwargs,
    ):
        positive_int("num_heads", num_heads)
        positive_int("key_dim", key_dim)
        one_of("score", score, SCORES)
        boolean("memory_efficient", memory_efficient)
        positive_int("query_chunk_size", query_chunk_size)
        positive_int("key_chunk_size", key_chunk_size)
        arguments = _check_keras_arguments(num_heads, key_dim, args, kwargs)
        if memory_efficient and arguments["dropout"] > 0.0:
            raise ValueError(
                "Argument `dropout` must be 0 when `memory_efficient=True`: "
                "the chunked attention never forms the weights that "
                "dropout would drop. Received: "
                f"dropout={arguments['dropout']}"
            )
        super().__init__(num_heads, key_dim, *args, **kwargs)
        self.score = score
        self.memory_efficient = memory_efficient
        self.query_chunk_size = query_chunk_size
        self.key_chunk_size = key_chunk_size
        # Our own copies of Keras's constructor arguments (Keras keeps them
        # in private attributes).
        self.use_gate = bool(arguments.get("use_gate", False))
        self.sliding_window = arguments.get("sliding_window")
        self.flash_attention = (
            arguments.get("flash_attention")
            or keras.config.is_flash_attention_enabled()
        )
        self._built_shapes = None

    def get_config(self):
        return {
            **super().get_config(),
            "score": self.score,
            "memory_efficient": self.memory_efficient,
            "query_chunk_size": self.query_chunk_size,
            "key_chunk_size": self.key_chunk_size,
        }

    # ------------------------------------------------------------------
    # Building.
    # ------------------------------------------------------------------

    def build(self, query_shape, value_shape, key_shape=None):
        shapes = self._check_shapes(query_shape, value_shape, key_shape)
        super().build(query_shape, value_shape, key_shape)
        heads, depth = self.num_heads, self.key_dim
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
        # A fresh initializer from the config: a shared instance would
        # give every kernel the same values.
        config = keras.layers.MultiHeadAttention.get_config(self)
        return self.add_weight(
            name=name,
            shape=shape,
            initializer=keras.initializers.get(config["kernel_initializer"]),
            regularizer=keras.regularizers.get(config["kernel_regularizer"]),
            constraint=keras.constraints.get(config["kernel_constraint"]),
        )

    def _check_shapes(self, query_shape, value_shape, key_shape=None):
        """Validates input shapes (and, once built, against the built ones)."""
        shapes = {"query": query_shape, "value": value_shape}
        shapes["key"] = value_shape if key_shape is None else key_shape
        shapes = {k: tuple(v) for k, v in shapes.items()}
        if shapes["value"][1:-1] != shapes["key"][1:-1]:
            raise ValueError(
                "All dimensions of `value` and `key`, except the last one, "
                f"must be equal. Received: value.shape={shapes['value']}, "
                f"key.shape={shapes['key']}"
            )
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

    def _axes(self, rank):
        """(other axes, attended axes) of an input of `rank`, batch first."""
        axes = self.attention_axes
        if axes is None:  # not built yet: Keras's default, every position
            axes = tuple(range(1, rank - 1))
        # Keras counts a negative axis from the end of the input (the
        # features included): -2 is the last position axis.
        axes = tuple(a + rank if a < 0 else a for a in axes)
        return [i for i in range(rank - 1) if i not in axes], axes

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
        others, axes = self._axes(len(query_shape))
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
        # Keras fills in `query_mask`, `value_mask` and `key_mask` from the
        # Keras masks of the inputs (when not given), and puts the query's
        # mask on the output (`supports_masking`).
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
        if self.memory_efficient:
            self._check_memory_efficient_call(query, return_attention_scores)
        else:
            attention_mask = self._merge_masks(
                query,
                value,
                query_mask,
                value_mask,
                key_mask,
                attention_mask,
                use_causal_mask,
            )
        # The projections get the inputs without their Keras masks (copies:
        # the caller's tensors keep theirs), as they do not use them.
        if query_mask is not None:
            query = ops.copy(query)
        if value_mask is not None:
            value = ops.copy(value)
        if key is None:
            key = value
        elif key_mask is not None:
            key = ops.copy(key)
        projected = (
            self.query_dense(query),
            self.key_dense(key),
            self.value_dense(value),
        )
        if self.memory_efficient:
            output = self._chunked_attention(
                *projected,
                query_mask=query_mask,
                key_masks=(value_mask, key_mask),
                attention_mask=attention_mask,
                causal=use_causal_mask,
            )
            weights = None
        else:
            output, weights = self._compute_attention(
                *projected,
                attention_mask,
                training,
                return_attention_scores,
            )
        if self.use_gate:
            # Keras keeps the gate projection private (no public property).
            output = ops.multiply(output, self._gate_dense(query))
        output = self.output_dense(output)
        if return_attention_scores:
            return output, weights
        return output

    def _check_memory_efficient_call(self, query, return_attention_scores):
        """What `memory_efficient=True` cannot do, refused by name."""
        if return_attention_scores:
            raise ValueError(
                "Argument `return_attention_scores` must be False when the "
                "layer has `memory_efficient=True`: the chunked attention "
                "never forms the attention weights. Received: "
                "return_attention_scores=True"
            )
        others, axes = self._axes(len(query.shape))
        if others != [0] or axes != (1,):
            raise ValueError(
                "`memory_efficient=True` attends over one axis of rank-3 "
                "inputs `(batch, length, features)`. Received: "
                f"query.shape={tuple(query.shape)}, "
                f"attention_axes={self.attention_axes}"
            )

    def _chunked_attention(
        self, query, key, value, query_mask, key_masks, attention_mask, causal
    ):
        """`ops.memory_efficient_attention` on projected `(B, T, N, H)`.

        The padding masks stay `(B, 1, 1, S)` and the causal and window
        masks are made chunk by chunk, so no `(T, S)` tensor is formed
        unless `attention_mask` is one. A masked query gets a zero output,
        as on the plain path.
        """
        masks = [
            ops.expand_dims(ops.cast(mask, "bool"), (1, 2))
            for mask in key_masks
            if mask is not None
        ]
        if attention_mask is not None:
            attention_mask = ops.cast(attention_mask, "bool")
            if len(attention_mask.shape) == 3:  # (B, T, S) -> one per head
                attention_mask = ops.expand_dims(attention_mask, 1)
            masks.append(attention_mask)
        mask = functools.reduce(ops.logical_and, masks) if masks else None
        if self._fused_kernel_available(query):
            output = ops.dot_product_attention(
                query,
                key,
                value,
                mask=mask,
                is_causal=causal,
                scale=1.0 / math.sqrt(self.key_dim),
                flash_attention=True,
            )
        else:
            output = memory_efficient_attention(
                query,
                key,
                value,
                mask=mask,
                is_causal=causal,
                score=self.score,
                query_chunk_size=self.query_chunk_size,
                key_chunk_size=self.key_chunk_size,
                score_weights=self._score_weights(),
                sliding_window=self.sliding_window,
            )
        if query_mask is None:
            return output
        visible = ops.cast(ops.cast(query_mask, "bool"), output.dtype)
        return output * ops.reshape(visible, ops.shape(visible) + (1, 1))

    def _score_weights(self):
        """This layer's weights of its score, as the op takes them."""
        if self.score == "general":
            return {"kernel": self.general_kernel}
        if self.score == "additive":
            return {
                "query_kernel": self.additive_query_kernel,
                "key_kernel": self.additive_key_kernel,
                "vector": self.additive_vector,
            }
        if self.score == "cosine":
            return {"scale": self.cosine_scale}
        return None

    def _fused_kernel_available(self, query):
        """Whether flash attention runs these inputs: JAX on a GPU, 16-bit
        inputs, the plain scaled dot and no sliding window."""
        return (
            self.score == "scaled_dot"
            and self.sliding_window is None
            and keras.backend.backend() == "jax"
            and keras.backend.standardize_dtype(query.dtype) in _LOW_PRECISION
            and keras.distribution.list_devices()[0].startswith("gpu")
        )

    def _merge_masks(
        self,
        query,
        value,
        query_mask,
        value_mask,
        key_mask,
        attention_mask,
        use_causal_mask,
    ):
        """ANDs every mask into one broadcastable to Keras's weights layout.

        As in Keras: `query_mask (B, T)` -> `(B, T, 1)`, `value_mask` and
        `key_mask (B, S)` -> `(B, 1, S)`, the causal and sliding-window
        masks `(1, T, S)` over axis 1, and `attention_mask` as given.
        """
        masks = []
        if query_mask is not None:
            masks.append(ops.expand_dims(ops.cast(query_mask, "bool"), -1))
        for mask in (value_mask, key_mask):
            if mask is not None:
                masks.append(ops.expand_dims(ops.cast(mask, "bool"), -2))
        band = self._band_mask(query, value, use_causal_mask)
        if band is not None:
            masks.append(band)
        if attention_mask is not None:
            masks.insert(0, ops.cast(attention_mask, "bool"))
        if not masks:
            return None
        return functools.reduce(ops.logical_and, masks)

    def _band_mask(self, query, value, causal):
        """The causal and/or sliding-window mask `(1, T, S)`, or None."""
        if not causal and self.sliding_window is None:
            return None
        rows = ops.expand_dims(ops.arange(ops.shape(query)[1]), 1)
        cols = ops.expand_dims(ops.arange(ops.shape(value)[1]), 0)
        mask = None
        if causal:
            mask = ops.greater_equal(rows, cols)
        if self.sliding_window is not None:
            window = ops.less(ops.abs(rows - cols), self.sliding_window)
            mask = window if mask is None else ops.logical_and(mask, window)
        return ops.expand_dims(mask, 0)

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
        """Attention over projected `query (B, T..., N, H)`, `key`, `value`.

        The override point Keras documents for its layer, kept under the
        same name and signature so that subclasses written for Keras's
        layer work with ours; our `call` calls it. Returns the output
        `(B, T..., N, H_v)` and the weights (or None on the fused path).
        """
        if self.flash_attention and return_attention_scores:
            raise ValueError(
                "Returning attention scores is not supported when flash "
                "attention is enabled. Please disable flash attention to "
                "access attention scores."
            )
        if use_causal_mask:
            causal = self._band_mask(query, value, True)
            attention_mask = (
                causal
                if attention_mask is None
                else ops.logical_and(ops.cast(attention_mask, "bool"), causal)
            )
        if 0 in tuple(query.shape) or 0 in tuple(key.shape):
            return self._empty_attention(query, key, value)
        flat = _Flattened(self, query, key)
        query, key, value = (
            flat.inputs(query),
            flat.inputs(key),
            flat.inputs(value),
        )
        mask = None
        if attention_mask is not None:
            mask = flat.mask(attention_mask)
        # The fused kernel runs float32 inputs whose value heads are as wide
        # as the key heads: Keras' JAX `dot_product_attention` fails on
        # other widths, and XLA on CPU cannot run its 16-bit products with
        # float32 accumulation. The explicit path scores 16-bit inputs in
        # float32, with the same numbers on every backend.
        if (
            self.score == "scaled_dot"
            and not return_attention_scores
            and self.dropout == 0.0
            and value.shape[-1] == key.shape[-1]
            and keras.backend.standardize_dtype(query.dtype)
            not in _LOW_PRECISION
        ):
            output = self._fused_attention(query, key, value, mask)
            return flat.output(output), None
        weights = masked_softmax(self._scores(query, key), mask, axis=-1)
        weights = ops.cast(weights, value.dtype)
        dropped = weights
        if self.dropout > 0.0:
            # Keras's dropout sublayer, built by `super().build()` (private;
            # a second Dropout would add a second seed generator).
            dropped = self._dropout_layer(weights, training=training)
        output = ops.einsum("bnts,bsnh->btnh", dropped, value)
        return flat.output(output), flat.weights(weights)

    def _empty_attention(self, query, key, value):
        """Zeros for an empty input (TF's eager `max` refuses one)."""
        rank = len(query.shape)
        others, axes = self._axes(rank - 1)
        q_shape, k_shape = tuple(query.shape), tuple(key.shape)
        weights_shape = (
            tuple(q_shape[i] for i in others)
            + (self.num_heads,)
            + tuple(q_shape[i] for i in axes)
            + tuple(k_shape[i] for i in axes)
        )
        output_shape = q_shape[:-1] + (value.shape[-1],)
        return (
            ops.zeros(output_shape, value.dtype),
            ops.zeros(weights_shape, value.dtype),
        )

    def _fused_attention(self, query, key, value, mask):
        """`keras.ops.dot_product_attention`; rows with no visible key -> 0."""
        if mask is not None:
            mask = ops.cast(mask, "bool")
        output = ops.dot_product_attention(
            query,
            key,
            value,
            mask=mask,
            scale=1.0 / math.sqrt(self.key_dim),
            flash_attention=self.flash_attention,
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
        if self.score == "scaled_dot":
            query = query * ops.cast(1.0 / math.sqrt(self.key_dim), query.dtype)
        elif self.score == "general":
            kernel = ops.cast(self.general_kernel, query.dtype)
            query = ops.einsum("btnh,nhg->btng", query, kernel)
        elif self.score == "cosine":
            query, key = l2_normalize(query), l2_normalize(key)
        elif self.score == "additive":
            return self._additive_scores(query, key)
        scores = ops.einsum("btnh,bsnh->bnts", query, key)
        if self.score == "cosine":
            scale = ops.cast(self.cosine_scale, scores.dtype)
            scores = scores * ops.reshape(scale, (self.num_heads, 1, 1))
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
        others, axes = self._axes(len(query.shape))
        shape = (
            tuple(query.shape[i] for i in others)
            + (self.num_heads,)
            + tuple(query.shape[i] for i in axes)
            + tuple(value.shape[i] for i in axes)
        )
        return output, keras.KerasTensor(shape, dtype=self.compute_dtype)


class _Flattened:
    """Moves the attended axes of projected tensors into one, and back.

    A projected tensor `(B, d..., N, H)` becomes `(B', L, N, H)`: the axes
    that are not attended (batch first) merge into `B'`, the attended ones
    into `L`. The weights `(B', N, T, S)` go back to Keras's layout
    `(others..., N, T..., S...)`. So every score and the softmax run on
    rank-4 tensors (TensorFlow's softmax kernel takes at most rank 5).
    """

    def __init__(self, layer, query, key):
        rank = len(query.shape)  # (B, d..., N, H)
        self.others, self.axes = layer._axes(rank - 1)
        self.identity = self.others == [0] and self.axes == (1,)
        self.heads = layer.num_heads
        self.perm = self.others + list(self.axes) + [rank - 2, rank - 1]
        self.query_shape = ops.shape(query)
        self.key_shape = ops.shape(key)

    def inputs(self, tensor):
        if self.identity:
            return tensor
        tensor = ops.transpose(tensor, self.perm)
        shape = ops.shape(tensor)
        start = len(self.others)
        length = _product(shape[start : start + len(self.axes)])
        return ops.reshape(tensor, (-1, length, shape[-2], shape[-1]))

    def _sizes(self, shape, axes):
        return tuple(shape[i] for i in axes)

    def mask(self, mask):
        """A mask for Keras's weights layout -> `(B', 1 or N, T, S)`.

        As in Keras, missing axes are added where the head axis goes.
        """
        rank = len(self.others) + 1 + 2 * len(self.axes)
        for _ in range(rank - len(mask.shape)):
            mask = ops.expand_dims(mask, axis=-2 * len(self.axes) - 1)
        if self.identity:
            return mask
        head = mask.shape[len(self.others)]
        full = (
            self._sizes(self.query_shape, self.others)
            + (1 if head == 1 else self.heads,)
            + self._sizes(self.query_shape, self.axes)
            + self._sizes(self.key_shape, self.axes)
        )
        mask = ops.broadcast_to(mask, full)
        return ops.reshape(
            mask,
            (
                -1,
                full[len(self.others)],
                _product(self._sizes(self.query_shape, self.axes)),
                _product(self._sizes(self.key_shape, self.axes)),
            ),
        )

    def output(self, output):
        """`(B', T, N, H_v)` -> `(B, d..., N, H_v)`."""
        if self.identity:
            return output
        shape = (
            self._sizes(self.query_shape, self.others)
            + self._sizes(self.query_shape, self.axes)
            + (self.heads, ops.shape(output)[-1])
        )
        output = ops.reshape(output, shape)
        inverse = [self.perm.index(i) for i in range(len(self.perm))]
        return ops.transpose(output, inverse)

    def weights(self, weights):
        """`(B', N, T, S)` -> `(others..., N, T..., S...)`."""
        if self.identity:
            return weights
        return ops.reshape(
            weights,
            self._sizes(self.query_shape, self.others)
            + (self.heads,)
            + self._sizes(self.query_shape, self.axes)
            + self._sizes(self.key_shape, self.axes),
        )
