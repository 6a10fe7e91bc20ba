"""Linear-chain conditional random fields: log-likelihood and Viterbi.

A linear-chain CRF over `num_tags` tags scores a tag path `y` of a
sequence with unary potentials `u` (one score per step and tag), a
transition matrix `A` and optional start and end scores `s`, `e`:

```
score(y) = s[y_1] + sum_t u_t[y_t] + sum_{t>1} A[y_{t-1}, y_t] + e[y_L]
p(y) = exp(score(y)) / Z,   Z = sum over every path y' of exp(score(y'))
```

Both functions below work on the pairwise form of these scores: one
`(num_tags, num_tags)` matrix per step, `psi_t[i, j]`, the score of tag `i`
at the previous real step followed by tag `j` at step `t`, with the start
scores folded into the first real step and the end scores into the last.
A masked (padding) step is the identity matrix in log space (0 on the
diagonal, -1e9 off it): it carries the chain over unchanged, so the loops
run over every step and any mask (padding on the right or anywhere) means
"skip this step". `keras_dlparts.layers.CRF` outputs this form so that
`keras_dlparts.losses.CRFLoss` needs no other input.

The loops are Keras loops (`keras.ops.scan`, and `keras.ops.while_loop`
with a bound for the differentiated ones on TensorFlow), so both functions
and their gradients compile with XLA on TensorFlow and JAX.
"""

import keras
from keras import ops

from keras_dlparts import _validation

#: The score of a forbidden transition in the pairwise form: exp() of it is
#: 0 in float32, and it is finite, so no inf - inf appears.
FORBIDDEN = -1e9


def _float_dtype(x):
    dtype = keras.backend.standardize_dtype(x.dtype)
    return "float32" if dtype in ("float16", "bfloat16") else dtype


def _check_potentials(potentials, transitions, start, end):
    _validation.check_layout(
        "potentials", potentials, ("batch", "steps", "num_tags")
    )
    num_tags = _validation.axis_size("potentials", potentials, -1)
    _validation.check_layout(
        "transitions", transitions, ("num_tags", "num_tags")
    )
    expected = (num_tags, num_tags)
    if _validation.static_shape(transitions) != expected:
        raise ValueError(
            f"Argument `transitions` must have shape {expected}, the number "
            "of tags of `potentials` on both axes. Received: "
            f"transitions.shape={_validation.static_shape(transitions)}"
        )
    for name, value in (("start_transitions", start), ("end_transitions", end)):
        if value is not None and _validation.static_shape(value) != (num_tags,):
            raise ValueError(
                f"Argument `{name}` must have shape ({num_tags},), one score "
                f"per tag. Received: {name}.shape="
                f"{_validation.static_shape(value)}"
            )
    return num_tags


def _step_mask(name, value, potentials):
    """A boolean `(batch, steps)` mask from lengths, a mask or None."""
    if value is None:
        return ops.ones_like(potentials[..., 0], dtype="bool")
    value = ops.convert_to_tensor(value)
    _validation.check_rank(name, value, (1, 2))
    shape = _validation.static_shape(value)
    if len(shape) == 1:
        _validation.same_batch_size((name, value), ("potentials", potentials))
        steps = ops.arange(ops.shape(potentials)[1], dtype="int32")
        return steps[None, :] < ops.cast(value, "int32")[:, None]
    _validation.same_shape(
        name, value, "potentials[..., 0]", tuple(potentials.shape[:2])
    )
    return ops.cast(value, "bool")


def pairwise_scores(potentials, mask, transitions, start=None, end=None):
    """The `(batch, steps, num_tags, num_tags)` pairwise form of a CRF.

    Args:
        potentials: float tensor `(batch, steps, num_tags)`, unary scores.
        mask: boolean tensor `(batch, steps)`, True at real steps.
        transitions: `(num_tags, num_tags)`, `A[i, j]` scores tag `i`
            followed by tag `j`.
        start, end: optional `(num_tags,)` scores of the first and last tag.

    Returns:
        `psi` with `psi[b, t, i, j]`: the score of tag `i` at the real step
        before `t` followed by tag `j` at `t` (rows all equal at the first
        real step, which adds `start`; the last real step adds `end`);
        identity steps (0 on the diagonal, `FORBIDDEN` off it) where
        `mask` is False.
    """
    dtype = _float_dtype(potentials)
    potentials = ops.cast(potentials, dtype)
    num_tags = potentials.shape[-1]
    real = ops.cast(mask, dtype)
    before = ops.cumsum(real, axis=1) - real
    after = ops.sum(real, axis=1, keepdims=True) - ops.cumsum(real, axis=1)
    first = ops.logical_and(mask, ops.equal(before, 0.0))
    last = ops.logical_and(mask, ops.equal(after, 0.0))
    unary = potentials[:, :, None, :]
    chained = ops.cast(transitions, dtype)[None, None] + unary
    opening = unary
    if start is not None:
        opening = opening + ops.cast(start, dtype)
    psi = ops.where(first[:, :, None, None], opening, chained)
    if end is not None:
        closing = ops.cast(last, dtype)[:, :, None, None]
        psi = psi + closing * ops.cast(end, dtype)
    identity = ops.where(
        ops.eye(num_tags, dtype="bool"),
        ops.zeros((num_tags, num_tags), dtype),
        ops.full((num_tags, num_tags), FORBIDDEN, dtype),
    )
    return ops.where(mask[:, :, None, None], psi, identity)


def padding_steps(psi):
    """True at the identity (padding) steps of a pairwise form `psi`."""
    if psi.shape[-1] == 1:  # one tag: every step is the identity
        return ops.zeros_like(psi[:, :, 0, 0], dtype="bool")
    return psi[:, :, 0, -1] <= FORBIDDEN / 2


def _initial(psi):
    """Log-space one-hot of tag 0: the state before the first real step."""
    num_tags = psi.shape[-1]
    row = ops.where(
        ops.arange(num_tags) == 0,
        ops.zeros((num_tags,), psi.dtype),
        ops.full((num_tags,), FORBIDDEN, psi.dtype),
    )
    return ops.zeros_like(psi[:, 0, 0, :]) + row[None, :]


def _fold(step, init, xs):
    """The last carry of `carry = step(carry, x)` over the first axis of `xs`.

    `keras.ops.scan` on JAX (`lax.scan`, reverse-differentiable). On
    TensorFlow a `while_loop` with `maximum_iterations`: XLA differentiates
    a TensorFlow loop only when its number of iterations is bounded, which
    `keras.ops.scan`'s loop is not.
    """
    if keras.backend.backend() != "tensorflow":
        return ops.scan(lambda c, x: (step(c, x), None), init, xs)[0]
    steps = ops.shape(keras.tree.flatten(xs)[0])[0]

    def body(i, carry):
        return i + 1, step(carry, keras.tree.map_structure(lambda a: a[i], xs))

    _, carry = ops.while_loop(
        lambda i, carry: i < steps, body, (0, init), maximum_iterations=steps
    )
    return carry


def log_partition(psi):
    """`log Z` of every sequence of a pairwise form: the forward algorithm."""

    def step(alpha, psi_t):
        return ops.logsumexp(alpha[:, :, None] + psi_t, axis=1)

    alpha = _fold(step, _initial(psi), ops.moveaxis(psi, 1, 0))
    return ops.logsumexp(alpha, axis=-1)


def path_score(psi, tags, padding):
    """The score of the tag paths `tags` under a pairwise form `psi`.

    At `padding` steps the path keeps its previous tag (whatever `tags`
    holds there), which the identity step scores 0.
    """
    num_tags = psi.shape[-1]
    tags = ops.clip(ops.cast(tags, "int32"), 0, num_tags - 1)

    def step(carry, inputs):
        previous, total = carry
        psi_t, tag_t, pad_t = inputs
        tag_t = ops.where(pad_t, previous, tag_t)
        before = ops.one_hot(previous, num_tags, dtype=psi.dtype)
        now = ops.one_hot(tag_t, num_tags, dtype=psi.dtype)
        score = ops.sum(before[:, :, None] * psi_t * now[:, None, :], (1, 2))
        return tag_t, total + score

    _, total = _fold(
        step,
        (ops.zeros_like(tags[:, 0]), ops.zeros_like(psi[:, 0, 0, 0])),
        (
            ops.moveaxis(psi, 1, 0),
            ops.moveaxis(tags, 1, 0),
            ops.moveaxis(padding, 1, 0),
        ),
    )
    return total


def best_paths(psi):
    """Viterbi on a pairwise form: the best tag paths and their scores."""
    if psi.shape[0] == 0:  # TensorFlow's eager `max` refuses empty tensors
        return ops.zeros(psi.shape[:2], "int32"), ops.zeros((0,), psi.dtype)

    def forward(delta, psi_t):
        candidates = delta[:, :, None] + psi_t
        # The pointers travel as floats: TensorFlow's scan gives every step
        # output the carry's dtype (small integers are exact in floats).
        pointers_t = ops.cast(ops.argmax(candidates, axis=1), delta.dtype)
        return ops.max(candidates, axis=1), pointers_t

    delta, pointers = ops.scan(forward, _initial(psi), ops.moveaxis(psi, 1, 0))
    pointers = ops.cast(pointers, "int32")

    def backward(tag, pointers_t):
        previous = ops.take_along_axis(pointers_t, tag[:, None], axis=1)
        return previous[:, 0], tag

    last = ops.cast(ops.argmax(delta, axis=-1), "int32")
    _, tags = ops.scan(backward, last, pointers, reverse=True)
    return ops.moveaxis(tags, 0, 1), ops.max(delta, axis=-1)


def _check_tags(tags, potentials):
    _validation.check_layout("tags", tags, ("batch", "steps"))
    _validation.same_shape(
        "tags", tags, "potentials[..., 0]", tuple(potentials.shape[:2])
    )


def crf_log_likelihood(
    potentials,
    tags,
    lengths_or_mask,
    transitions,
    start_transitions=None,
    end_transitions=None,
):
    """Log-likelihood of tag sequences under a linear-chain CRF.

    `log p(tags) = score(tags) - log Z`, with `log Z` from the forward
    algorithm in log space (see the module docstring for the score). Masked
    steps are skipped: the transition links the real steps on either side.

    Args:
        potentials: float tensor `(batch, steps, num_tags)`, the unary
            scores (e.g. a Dense layer over a sequence encoder).
        tags: integer tensor `(batch, steps)`, the tag of every step (any
            value at masked steps).
        lengths_or_mask: `None` (every step is real), integer lengths
            `(batch,)` (the first `length` steps are real), or a boolean
            mask `(batch, steps)`.
        transitions: `(num_tags, num_tags)`; `transitions[i, j]` scores tag
            `i` followed by tag `j`.
        start_transitions, end_transitions: optional `(num_tags,)` scores
            of the first and of the last tag of a sequence.

    Mixed precision: 16-bit potentials are computed, and returned, in
    float32.

    Returns:
        Float tensor `(batch,)`: `log p(tags)` per sequence (0 for a
            sequence with no real step).

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.ops import crf_log_likelihood
        >>> u = np.zeros((1, 3, 2), "float32")  # no preference: 8 paths
        >>> ll = crf_log_likelihood(u, np.array([[0, 1, 1]]), None,
        ...                         np.zeros((2, 2), "float32"))
        >>> bool(np.allclose(np.asarray(ll), [-np.log(8)]))
        True
    """
    potentials = ops.convert_to_tensor(potentials)
    tags = ops.convert_to_tensor(tags)
    num_tags = _check_potentials(
        potentials, transitions, start_transitions, end_transitions
    )
    _check_tags(tags, potentials)
    mask = _step_mask("lengths_or_mask", lengths_or_mask, potentials)
    _check_tag_values(tags, mask, num_tags)
    psi = pairwise_scores(
        potentials, mask, transitions, start_transitions, end_transitions
    )
    return path_score(psi, tags, ops.logical_not(mask)) - log_partition(psi)


def _check_tag_values(tags, mask, num_tags):
    """Raises ValueError if a known tag at a real step is not in range."""
    import numpy as np

    values = _validation.concrete_value(tags)
    real = _validation.concrete_value(mask)
    if values is None or real is None:
        return
    bad = real & ((values < 0) | (values >= num_tags))
    if np.any(bad):
        raise ValueError(
            f"Argument `tags` must hold tags in [0, {num_tags}) at the real "
            f"steps. Received: {np.unique(values[bad])[:5].tolist()}"
        )


def viterbi_decode(
    potentials,
    transitions,
    mask=None,
    start_transitions=None,
    end_transitions=None,
):
    """The most likely tag sequence of a linear-chain CRF (Viterbi).

    Args:
        potentials: float tensor `(batch, steps, num_tags)`, unary scores.
        transitions: `(num_tags, num_tags)`; `transitions[i, j]` scores tag
            `i` followed by tag `j`.
        mask: `None` (every step is real), a boolean mask `(batch, steps)`,
            or integer lengths `(batch,)`. Masked steps are skipped.
        start_transitions, end_transitions: optional `(num_tags,)` scores
            of the first and of the last tag.

    Returns:
        A pair: int32 tags `(batch, steps)` (0 at masked steps), and the
            score of each best path `(batch,)` (float32 for 16-bit
            potentials).

    Examples:

        >>> import numpy as np
        >>> from keras_dlparts.ops import viterbi_decode
        >>> u = np.array([[[2.0, 0.0], [0.0, 1.0], [2.0, 0.0]]], "float32")
        >>> stay = np.array([[0.0, -5.0], [-5.0, 0.0]], "float32")
        >>> tags, score = viterbi_decode(u, stay)
        >>> np.asarray(tags).tolist(), float(np.asarray(score)[0])
        ([[0, 0, 0]], 4.0)
    """
    potentials = ops.convert_to_tensor(potentials)
    _check_potentials(
        potentials, transitions, start_transitions, end_transitions
    )
    mask = _step_mask("mask", mask, potentials)
    psi = pairwise_scores(
        potentials, mask, transitions, start_transitions, end_transitions
    )
    tags, scores = best_paths(psi)
    return ops.where(mask, tags, 0), scores
