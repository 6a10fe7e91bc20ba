"""Exact attention in memory linear in the sequence length.

Rabe and Staats (2021), "Self-attention does not need O(n^2) memory", and
FlashAttention (Dao et al., 2022): the keys are visited in chunks, each
query chunk keeps a running maximum `m`, a running sum `l` of `exp(s - m)`
and a running weighted sum of values, rescaled whenever `m` grows. No chunk
of scores outlives its step. The backward pass keeps only the inputs, the
output and each query's log-sum-exp `m + log l`, and recomputes every chunk's
scores (a custom gradient), so training memory is linear in the length too.

Loops are `keras.ops.scan` (sequential on every backend: a chunk is freed
before the next one is scored) with `keras.ops.cond` skipping the chunks a
causal or sliding-window mask hides entirely.
"""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.ops.attention import large_negative
from keras_dlparts.ops.similarity import l2_normalize

#: The score functions `memory_efficient_attention(score=...)` accepts.
SCORES = ("scaled_dot", "dot", "general", "additive", "cosine")

#: The `score_weights` each score needs, with their shapes
#: (`N` heads, `H` head size, `A` additive size).
SCORE_WEIGHTS = {
    "scaled_dot": {},
    "dot": {},
    "general": {"kernel": "(N, H, H)"},
    "additive": {
        "query_kernel": "(N, H, A)",
        "key_kernel": "(N, H, A)",
        "vector": "(N, A)",
    },
    "cosine": {"scale": "(N,)"},
}

_LOW_PRECISION = ("float16", "bfloat16")


def memory_efficient_attention(
    query,
    key,
    value,
    mask=None,
    is_causal=False,
    score="scaled_dot",
    query_chunk_size=1024,
    key_chunk_size=4096,
    score_weights=None,
    scale=None,
    sliding_window=None,
):
    """Exact multi-head attention whose memory grows linearly with length.

    Computes what `keras.ops.dot_product_attention` computes (and, with
    `score`, what each score of `layers.MultiHeadAttention` computes), over
    `query_chunk_size x key_chunk_size` chunks with a numerically stable
    running softmax; the backward pass recomputes the chunks. Peak memory is
    about one chunk of scores per head, `B N Tq Sk` floats (for `"additive"`,
    `B Tq Sk N A`: choose smaller chunks there, e.g. 128 and 512), instead
    of the `B N T S` of plain attention. 16-bit inputs are computed in
    float32 and the output cast back.

    Keys that are masked get zero weight; a query with no visible key gets a
    zero output (as `ops.scaled_dot_product_attention`).

    Args:
        query: tensor `(B, T, N, H)`, or `(B, T, H)` for one head.
        key: tensor `(B, S, N, H)` (or `(B, S, H)`).
        value: tensor `(B, S, N, H_v)` (or `(B, S, H_v)`).
        mask: `None` or a boolean tensor broadcastable to `(B, N, T, S)`,
            `True` where a query may attend to a key. A padding mask
            `(B, 1, 1, S)` costs `O(S)` memory; a full `(B, 1, T, S)` mask
            is itself quadratic, so prefer `is_causal`/`sliding_window`.
        is_causal: whether query `t` only sees keys `s <= t`. Chunks above
            the diagonal are skipped, halving the work.
        score: one of `SCORES`: `"scaled_dot"` `q.k scale`, `"dot"` `q.k`,
            `"general"` `q W k`, `"additive"` `u.tanh(W_q q + W_k k)`,
            `"cosine"` `g cos(q, k)`.
        query_chunk_size: queries per chunk, a positive integer.
        key_chunk_size: keys per chunk, a positive integer. Lengths need not
            be multiples of the chunk sizes.
        score_weights: a dict of the weights `score` needs (see
            `SCORE_WEIGHTS`): `{"kernel"}` for `"general"`,
            `{"query_kernel", "key_kernel", "vector"}` for `"additive"`,
            `{"scale"}` for `"cosine"`; `None` for the others.
        scale: the `"scaled_dot"` factor; defaults to `1 / sqrt(H)`.
        sliding_window: `None`, or a positive integer `w`: query `t` only sees
            keys with `|t - s| < w`.

    Returns:
        The attention output `(B, T, N, H_v)` (or `(B, T, H_v)`), in the
            dtype of `query`.

    Raises:
        ValueError: for ranks other than 3 or 4, inputs that disagree in
            batch, heads, depth or key/value length, a mask that does not
            broadcast to `(B, N, T, S)`, missing or extra `score_weights`, or
            invalid chunk sizes, score or window.

    Examples:

        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> q, k, v = (rng.normal(size=(1, 5, 2, 4)).astype("float32")
        ...            for _ in range(3))
        >>> chunked = memory_efficient_attention(
        ...     q, k, v, is_causal=True, query_chunk_size=2, key_chunk_size=3)
        >>> plain = keras.ops.dot_product_attention(q, k, v, is_causal=True)
        >>> bool(np.allclose(chunked, plain, atol=1e-6))
        True
    """
    _validation.one_of("score", score, SCORES)
    _validation.positive_int("query_chunk_size", query_chunk_size)
    _validation.positive_int("key_chunk_size", key_chunk_size)
    _validation.boolean("is_causal", is_causal)
    if sliding_window is not None:
        _validation.positive_int("sliding_window", sliding_window)
    if scale is not None:
        _validation.positive_number("scale", scale)
    query, key, value = (ops.convert_to_tensor(t) for t in (query, key, value))
    single_head = _check_inputs(query, key, value)
    if single_head:
        query, key, value = (ops.expand_dims(t, 2) for t in (query, key, value))
    weights = _check_score_weights(score, score_weights, query)
    if mask is not None:
        mask = _rank4_mask(mask, query, key)
    dtype = keras.backend.standardize_dtype(query.dtype)
    work = "float32" if dtype in _LOW_PRECISION else dtype
    query, key, value = (ops.cast(t, work) for t in (query, key, value))
    weights = {name: ops.cast(w, work) for name, w in weights.items()}
    query, key, vector = _score_inputs(score, query, key, weights, scale)
    band = _Band(is_causal, sliding_window)
    if 0 in (query.shape[0], query.shape[1], key.shape[1]):
        # Nothing to attend (TensorFlow's eager `max` refuses empty input).
        output = ops.zeros(query.shape[:-1] + (value.shape[-1],), dtype)
        return ops.squeeze(output, 2) if single_head else output
    output = _ChunkedAttention(
        query, key, mask, band, query_chunk_size, key_chunk_size
    )(query, key, value, vector)
    output = ops.cast(output, dtype)
    return ops.squeeze(output, 2) if single_head else output


# ----------------------------------------------------------------------
# Checks and the per-score inputs.
# ----------------------------------------------------------------------


def _check_inputs(query, key, value):
    """Checks ranks and sizes; returns whether the inputs have no head axis."""
    named = (("query", query), ("key", key), ("value", value))
    for name, tensor in named:
        _validation.check_rank(name, tensor, (3, 4))
    ranks = {len(t.shape) for _, t in named}
    if len(ranks) > 1:
        listed = ", ".join(f"{n}.shape={tuple(t.shape)}" for n, t in named)
        raise ValueError(
            "Arguments `query`, `key` and `value` must have the same rank "
            f"(3: (B, T, H), or 4: (B, T, N, H)). Received: {listed}"
        )
    _validation.same_batch_size(*named)
    _validation.same_axis_size(("key", key), ("value", value), axis=1)
    _validation.same_axis_size(("query", query), ("key", key), axis=-1)
    if ranks == {4}:
        _validation.same_axis_size(*named, axis=2)
    return ranks == {3}


def _check_score_weights(score, score_weights, query):
    """The weights `score` needs, as tensors; ValueError for wrong keys."""
    expected = SCORE_WEIGHTS[score]
    given = {} if score_weights is None else score_weights
    _validation.mapping("score_weights", given)
    if set(given) != set(expected):
        raise ValueError(
            f"Argument `score_weights` must hold exactly the keys "
            f"{sorted(expected)} for score={score!r} (shapes {expected}). "
            f"Received: keys {sorted(given)}"
        )
    heads, depth = query.shape[2], query.shape[3]
    sizes = {"N": heads, "H": depth, "A": None}
    weights = {}
    for name, layout in expected.items():
        tensor = ops.convert_to_tensor(given[name])
        shape = tuple(sizes[c] for c in layout.strip("(),").split(", ") if c)
        _validation.check_rank(f"score_weights['{name}']", tensor, len(shape))
        _validation.broadcastable_mask(
            f"score_weights['{name}']", tuple(tensor.shape), shape
        )
        weights[name] = tensor
    if score == "additive":
        _validation.same_axis_size(
            ("score_weights['query_kernel']", weights["query_kernel"]),
            ("score_weights['key_kernel']", weights["key_kernel"]),
            ("score_weights['vector']", weights["vector"]),
        )
    return weights


def _rank4_mask(mask, query, key):
    """`mask` as a boolean `(B|1, N|1, T|1, S|1)` tensor (no broadcasting)."""
    mask = ops.convert_to_tensor(mask)
    full = (query.shape[0], query.shape[2], query.shape[1], key.shape[1])
    _validation.broadcastable_mask("mask", mask, full)
    for _ in range(4 - len(mask.shape)):
        mask = ops.expand_dims(mask, 0)
    return ops.cast(mask, "bool")


def _score_inputs(score, query, key, weights, scale):
    """Rewrites every score as a dot product of transformed queries and keys.

    Returns `(query', key', vector)`: the scores are `query' . key'`, or for
    `"additive"` (`vector` not None) `vector . tanh(query' + key')`.
    """
    if score == "scaled_dot":
        factor = scale if scale is not None else query.shape[-1] ** -0.5
        return query * ops.cast(factor, query.dtype), key, None
    if score == "general":
        return ops.einsum("btnh,nhg->btng", query, weights["kernel"]), key, None
    if score == "cosine":
        gain = ops.reshape(weights["scale"], (1, 1, -1, 1))
        return l2_normalize(query) * gain, l2_normalize(key), None
    if score == "additive":
        query = ops.einsum("btnh,nha->btna", query, weights["query_kernel"])
        key = ops.einsum("bsnh,nha->bsna", key, weights["key_kernel"])
        return query, key, weights["vector"]
    return query, key, None


class _Band:
    """The causal and sliding-window rule on `d = query position - key's`.

    A key is visible when `low <= d <= high`: causal `d >= 0`, a window `w`
    `|d| < w`. `None` bounds are open.
    """

    def __init__(self, causal, window):
        self.low = 0 if causal else (None if window is None else 1 - window)
        self.high = None if window is None else window - 1
        self.active = causal or window is not None

    def mask(self, rows, cols):
        """Boolean `(len(rows), len(cols))`, or None when nothing is banded."""
        if not self.active:
            return None
        offset = ops.expand_dims(rows, 1) - ops.expand_dims(cols, 0)
        visible = ops.ones(ops.shape(offset), "bool")
        if self.low is not None:
            visible = ops.logical_and(visible, offset >= self.low)
        if self.high is not None:
            visible = ops.logical_and(visible, offset <= self.high)
        return visible

    def any_visible(self, first_row, last_row, first_col, last_col):
        """Whether a chunk of rows and columns holds a visible pair."""
        visible = ops.convert_to_tensor(True)
        if self.high is not None:
            visible = ops.logical_and(
                visible, first_row - last_col <= self.high
            )
        if self.low is not None:
            visible = ops.logical_and(visible, last_row - first_col >= self.low)
        return visible


# ----------------------------------------------------------------------
# The chunked kernel and its gradient.
# ----------------------------------------------------------------------


def _chunks(tensor, size, axis=1):
    """`(B, L, ...)` padded along `axis` to a multiple of `size` and split.

    Returns `(count, L/size..., B, size, ...)` with the chunk axis first.
    """
    length = ops.shape(tensor)[axis]
    count = (length + size - 1) // size
    pad = [[0, 0] for _ in tensor.shape]
    pad[axis] = [0, count * size - length]
    tensor = ops.pad(tensor, pad)
    shape = list(ops.shape(tensor))
    shape[axis : axis + 1] = [count, size]
    tensor = ops.reshape(tensor, shape)
    return ops.moveaxis(tensor, axis, 0)


def _unchunk(chunks, length, axis=1):
    """Inverse of `_chunks`: `(count, B, size, ...)` -> `(B, length, ...)`."""
    tensor = ops.moveaxis(chunks, 0, axis)
    shape = list(ops.shape(tensor))
    shape[axis : axis + 2] = [shape[axis] * shape[axis + 1]]
    tensor = ops.reshape(tensor, shape)
    return ops.take(tensor, ops.arange(length), axis=axis)


def _scan_chunks(step, init, xs):
    """`carry = step(carry, chunk)` over the chunks `xs`, one at a time.

    `xs` is a tuple of stacked chunks whose last entry is their indices.
    Returns the last carry and the stacked carries. Every step's carry is
    also an output of the scan because Keras's TensorFlow `scan` under XLA
    fails to compile outputs that are never written when a size is unknown
    (such as the batch of a last, smaller batch); they are chunk-sized, so
    memory stays linear in the length.
    """

    def scan_step(carry, i):
        carry = step(carry, _chunk(xs, i))
        return carry, carry

    return ops.scan(scan_step, init, xs[-1])


def _fold(step, init, xs):
    """The last carry of `_scan_chunks`."""
    return _scan_chunks(step, init, xs)[0]


def _map_chunks(step, init, xs):
    """`[step(x) for x in xs]` stacked, one chunk at a time.

    `init` gives the output's structure (zeros of one step's shapes).
    """
    return _scan_chunks(lambda _, x: step(x), init, xs)[1]


def _chunk(xs, i):
    """Chunk `i` of each stacked tensor of `xs`, and `i`.

    The loops scan over the indices alone and read the chunks here:
    Keras's TensorFlow `scan` cannot take several inputs whose length is
    unknown when tracing.
    """
    return tuple(ops.take(t, i, axis=0) for t in xs[:-1]) + (i,)


class _ChunkedAttention:
    """The chunk loops of the forward and backward passes.

    Inputs are `(B, T, N, H)` (`"additive"`: `(B, T, N, A)` with `vector`
    `(N, A)`), in the working dtype. Chunk sizes shrink to the lengths.
    """

    def __init__(self, query, key, mask, band, query_chunk, key_chunk):
        self.length_q = ops.shape(query)[1]
        self.length_k = ops.shape(key)[1]
        self.query_chunk = _clamp(query_chunk, self.length_q)
        self.key_chunk = _clamp(key_chunk, self.length_k)
        self.band = band
        self.mask = mask
        self.negative = large_negative(query.dtype)

    def __call__(self, query, key, value, vector):
        if vector is None:
            return ops.custom_gradient(self._dot_forward)(query, key, value)
        return ops.custom_gradient(self._additive_forward)(
            query, key, value, vector
        )

    def _dot_forward(self, query, key, value):
        output, state = self._forward(query, key, value, None)

        def grad(*upstream):
            return self._backward(
                query, key, value, None, output, state, upstream
            )

        return output, grad

    def _additive_forward(self, query, key, value, vector):
        output, state = self._forward(query, key, value, vector)

        def grad(*upstream):
            return self._backward(
                query, key, value, vector, output, state, upstream
            )

        return output, grad

    # -- pieces shared by every pass ------------------------------------

    def _key_chunks(self, key, value):
        """The loop input over key chunks: `(keys, values, indices)`."""
        keys = _chunks(key, self.key_chunk)
        count = ops.shape(keys)[0]
        return keys, _chunks(value, self.key_chunk), ops.arange(count)

    def _scores(self, query, key, vector):
        """Scores `(B, N, Tq, Sk)` of one chunk, and tanh's output if any."""
        if vector is None:
            return ops.einsum("btnh,bsnh->bnts", query, key), None
        hidden = ops.tanh(ops.expand_dims(query, 2) + ops.expand_dims(key, 1))
        return ops.einsum("btsna,na->bnts", hidden, vector), hidden

    def _visible(self, i, j):
        """The mask of chunk `(i, j)`, broadcastable to `(B, N, Tq, Sk)`."""
        rows = i * self.query_chunk + ops.arange(self.query_chunk)
        cols = j * self.key_chunk + ops.arange(self.key_chunk)
        visible = ops.reshape(cols < self.length_k, (1, 1, 1, -1))
        band = self.band.mask(rows, cols)
        if band is not None:
            visible = ops.logical_and(visible, band[None, None])
        if self.mask is not None:
            visible = ops.logical_and(visible, self._mask_chunk(i, j))
        return visible

    def _mask_chunk(self, i, j):
        mask = self.mask
        if mask.shape[2] != 1:
            mask = ops.take(mask, _positions(i, self.query_chunk, mask, 2), 2)
        if mask.shape[3] != 1:
            mask = ops.take(mask, _positions(j, self.key_chunk, mask, 3), 3)
        return mask

    def _chunk_has_keys(self, i, j):
        """Whether the band leaves a key of chunk `j` to query chunk `i`."""
        qc, kc = self.query_chunk, self.key_chunk
        return self.band.any_visible(
            i * qc, i * qc + qc - 1, j * kc, j * kc + kc - 1
        )

    def _skip_hidden(self, i, j, compute, carry):
        """`compute()` unless the band hides chunk `(i, j)`; else `carry`."""
        if not self.band.active:
            return compute()
        return ops.cond(self._chunk_has_keys(i, j), compute, lambda: carry)

    # -- forward --------------------------------------------------------

    def _forward(self, query, key, value, vector):
        """Output `(B, T, N, H_v)`, and `(lse, sums)` for the backward pass."""
        keys = self._key_chunks(key, value)
        queries = _chunks(query, self.query_chunk)
        count = ops.shape(queries)[0]
        batch, heads = ops.shape(query)[0], ops.shape(query)[2]
        width = ops.shape(value)[3]
        shape = (batch, heads, self.query_chunk)
        out_init = ops.zeros(
            (batch, self.query_chunk, heads, width), query.dtype
        )

        def query_step(x):
            q_i, i = x

            def key_step(carry, y):
                k_j, v_j, j = y

                def compute():
                    return self._accumulate(q_i, k_j, v_j, vector, i, j, carry)

                return self._skip_hidden(i, j, compute, carry)

            init = (
                out_init,
                ops.full(shape, self.negative, query.dtype),
                ops.zeros(shape, query.dtype),
            )
            acc, top, total = _fold(key_step, init, keys)
            seen = total > 0
            safe_total = ops.where(seen, total, 1.0)
            out = acc / ops.expand_dims(
                ops.transpose(safe_total, (0, 2, 1)), -1
            )
            lse = ops.where(seen, top + ops.log(safe_total), 0.0)
            return out, lse

        outputs, lse = _map_chunks(
            query_step,
            (out_init, ops.zeros(shape, query.dtype)),
            (queries, ops.arange(count)),
        )
        return _unchunk(outputs, self.length_q), lse

    def _accumulate(self, q_i, k_j, v_j, vector, i, j, carry):
        """One online-softmax step: folds chunk `(i, j)` into the running
        output `acc (B, Tq, N, H_v)`, maximum and sum `(B, N, Tq)`."""
        acc, top, total = carry
        scores, _ = self._scores(q_i, k_j, vector)
        visible = self._visible(i, j)
        scores = ops.where(visible, scores, self.negative)
        new_top = ops.maximum(top, ops.max(scores, axis=-1))
        probs = ops.where(
            visible, ops.exp(scores - ops.expand_dims(new_top, -1)), 0.0
        )
        rescale = ops.exp(top - new_top)
        total = total * rescale + ops.sum(probs, axis=-1)
        acc = acc * ops.expand_dims(ops.transpose(rescale, (0, 2, 1)), -1)
        acc = acc + ops.einsum("bnts,bsnh->btnh", probs, v_j)
        return acc, new_top, total

    # -- backward -------------------------------------------------------

    def _backward(self, query, key, value, vector, output, lse, upstream):
        """Gradients for `(query, key, value[, vector])`, chunk by chunk.

        With `P` the weights, `dP = dO V^T` and `D = rowsum(dO * O)`, the
        scores get `dS = P (dP - D)` (FlashAttention's identity). One pass
        over query chunks gives `dQ` (and `d vector`), one over key chunks
        gives `dK` and `dV`; each recomputes `P` from the stored
        log-sum-exp.
        """
        (d_output,) = upstream
        d_output = ops.cast(d_output, output.dtype)
        delta = ops.transpose(ops.sum(d_output * output, axis=-1), (0, 2, 1))
        queries = (
            _chunks(query, self.query_chunk),
            _chunks(d_output, self.query_chunk),
            lse,
            _chunks(delta, self.query_chunk, axis=2),
            ops.arange(ops.shape(lse)[0]),
        )
        keys = self._key_chunks(key, value)
        d_query, d_vector = self._query_gradients(queries, keys, vector)
        d_key, d_value = self._key_gradients(queries, keys, vector)
        grads = (d_query, d_key, d_value)
        if vector is not None:
            grads = grads + (d_vector,)
        return grads

    def _chunk_gradient(
        self, q_i, do_i, lse_i, delta_i, k_j, v_j, vector, i, j
    ):
        """`(P, dS, hidden)` of chunk `(i, j)`, recomputed."""
        scores, hidden = self._scores(q_i, k_j, vector)
        probs = ops.where(
            self._visible(i, j),
            ops.exp(scores - ops.expand_dims(lse_i, -1)),
            0.0,
        )
        d_probs = ops.einsum("btnh,bsnh->bnts", do_i, v_j)
        d_scores = probs * (d_probs - ops.expand_dims(delta_i, -1))
        return probs, d_scores, hidden

    def _tanh_gradient(self, d_scores, hidden, vector):
        """`dL/d(q' + k')` of the additive score, `(B, Tq, Sk, N, A)`."""
        d_scores = ops.expand_dims(ops.transpose(d_scores, (0, 2, 3, 1)), -1)
        return d_scores * vector * (1.0 - hidden * hidden)

    def _query_gradients(self, queries, keys, vector):
        q_chunks = queries[0]
        zeros_q = ops.zeros_like(q_chunks[0])
        zeros_v = None if vector is None else ops.zeros_like(vector)

        def query_step(x):
            q_i, do_i, lse_i, delta_i, i = x

            def key_step(carry, y):
                k_j, v_j, j = y

                def compute():
                    d_q, d_vector = carry
                    _, d_scores, hidden = self._chunk_gradient(
                        q_i, do_i, lse_i, delta_i, k_j, v_j, vector, i, j
                    )
                    if vector is None:
                        d_q = d_q + ops.einsum("bnts,bsnh->btnh", d_scores, k_j)
                        return d_q, d_vector
                    d_hidden = self._tanh_gradient(d_scores, hidden, vector)
                    d_q = d_q + ops.sum(d_hidden, axis=2)
                    d_vector = d_vector + ops.einsum(
                        "bnts,btsna->na", d_scores, hidden
                    )
                    return d_q, d_vector

                return self._skip_hidden(i, j, compute, carry)

            init = (
                zeros_q,
                ops.zeros((), q_i.dtype) if vector is None else zeros_v,
            )
            return _fold(key_step, init, keys)

        init = (
            zeros_q,
            ops.zeros((), zeros_q.dtype) if vector is None else zeros_v,
        )
        d_query, d_vector = _map_chunks(query_step, init, queries)
        d_vector = None if vector is None else ops.sum(d_vector, axis=0)
        return _unchunk(d_query, self.length_q), d_vector

    def _key_gradients(self, queries, keys, vector):
        k_chunks, v_chunks = keys[0], keys[1]
        init = (ops.zeros_like(k_chunks[0]), ops.zeros_like(v_chunks[0]))

        def key_step(y):
            k_j, v_j, j = y

            def query_step(carry, x):
                q_i, do_i, lse_i, delta_i, i = x

                def compute():
                    d_k, d_v = carry
                    probs, d_scores, hidden = self._chunk_gradient(
                        q_i, do_i, lse_i, delta_i, k_j, v_j, vector, i, j
                    )
                    d_v = d_v + ops.einsum("bnts,btnh->bsnh", probs, do_i)
                    if vector is None:
                        d_k = d_k + ops.einsum("bnts,btnh->bsnh", d_scores, q_i)
                    else:
                        d_hidden = self._tanh_gradient(d_scores, hidden, vector)
                        d_k = d_k + ops.sum(d_hidden, axis=1)
                    return d_k, d_v

                return self._skip_hidden(i, j, compute, carry)

            return _fold(query_step, init, queries)

        d_key, d_value = _map_chunks(key_step, init, keys)
        return _unchunk(d_key, self.length_k), _unchunk(d_value, self.length_k)


def _clamp(chunk, length):
    """The chunk size, no larger than a static `length`."""
    return chunk if not isinstance(length, int) else max(1, min(chunk, length))


def _positions(index, size, tensor, axis):
    """Indices of chunk `index` along `axis`, clipped to the tensor's size
    (the padded tail reads the last entry; it is masked out elsewhere)."""
    positions = index * size + ops.arange(size)
    return ops.minimum(positions, ops.shape(tensor)[axis] - 1)
