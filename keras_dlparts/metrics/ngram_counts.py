"""N-gram overlap counts and LCS over padded token id sequences (keras.ops).

Shared by `BLEU` and `ROUGE`. Sequences are integer ids with padding id 0 at
the end. N-gram counting without hashing or dictionaries: two n-grams are
equal when their n aligned tokens are equal, so the pairwise equality of all
candidate n-grams with all reference n-grams is the AND of `n` shifted
token-equality matrices. For the candidate n-gram at position `i`,

```
count_c(i) = #{j : cand n-gram j == cand n-gram i}
count_r(i) = #{k : ref  n-gram k == cand n-gram i}
clipped    = sum_i min(count_c(i), count_r(i)) / count_c(i)
```

gives the clipped ("modified") match count `sum_g min(count_c(g),
count_r(g))` of BLEU and ROUGE-N, since each distinct n-gram `g` occurs
`count_c(g)` times in the sum. Memory is `O(batch * length^2)` per order.
"""

from keras import ops

from keras_dlparts import _validation


def prepare_ids(y_true, y_pred, true_ranks):
    """Casts ids to int32; takes the argmax of scores `(batch, length, vocab)`.

    Raises ValueError naming the argument when `y_pred` is not of rank 2 or
    3, `y_true` not of a rank in `true_ranks`, or their batch sizes differ.
    """
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred)
    _validation.check_layout(
        "y_pred", y_pred, ("batch", "length"), ("batch", "length", "vocabulary")
    )
    _validation.check_rank("y_true", y_true, true_ranks)
    _validation.same_batch_size(("y_true", y_true), ("y_pred", y_pred))
    if len(y_pred.shape) == 3:
        y_pred = ops.argmax(y_pred, axis=-1)
    return ops.cast(y_true, "int32"), ops.cast(y_pred, "int32")


def sentence_weights(sample_weight, y_true):
    """`sample_weight` as float32 `(batch,)`, or 1.0 when it is `None`.

    `(batch,)` and `(batch, 1)` are accepted; another batch size than
    `y_true`'s raises a ValueError naming `sample_weight`.
    """
    if sample_weight is None:
        return 1.0
    sample_weight = ops.convert_to_tensor(sample_weight)
    _validation.same_batch_size(
        ("y_true", y_true), ("sample_weight", sample_weight)
    )
    return ops.cast(ops.reshape(sample_weight, (-1,)), "float32")


def lengths(ids):
    """Number of non-padding tokens along the last axis, as float32."""
    return ops.sum(ops.cast(ids != 0, "float32"), axis=-1)


def ngram_counts(candidates, references, max_order):
    """Clipped n-gram matches against one or several references.

    Args:
        candidates: int ids `(batch, length_c)`.
        references: int ids `(batch, num_refs, length_r)`; an n-gram's count
            is clipped by its largest count in any single reference.
        max_order: the largest n.

    Returns:
        `(clipped, candidate_total, reference_total)`: lists over `n = 1 ..
        max_order` of float32 tensors `(batch,)`, `(batch,)` and
        `(batch, num_refs)`: the clipped matches, the number of candidate
        n-grams and the number of n-grams of each reference.
    """
    present = candidates != 0
    # Token equality: candidate-reference (B, R, Lc, Lr), candidate-candidate
    # (B, Lc, Lc); a padding candidate token matches nothing.
    ref_equal = ops.logical_and(
        candidates[:, None, :, None] == references[:, :, None, :],
        present[:, None, :, None],
    )
    self_equal = ops.logical_and(
        candidates[:, :, None] == candidates[:, None, :], present[:, :, None]
    )
    ref_n, self_n = ref_equal, self_equal
    clipped, cand_total, ref_total = [], [], []
    for n in range(1, max_order + 1):
        if n > 1:
            ref_n = ops.logical_and(
                ref_n[:, :, :-1, :-1], ref_equal[:, :, n - 1 :, n - 1 :]
            )
            self_n = ops.logical_and(
                self_n[:, :-1, :-1], self_equal[:, n - 1 :, n - 1 :]
            )
        valid = ops.cast(
            present[:, n - 1 :], "float32"
        )  # last token not padding
        count_c = ops.sum(ops.cast(self_n, "float32"), axis=-1)
        count_r = ops.max(
            ops.sum(ops.cast(ref_n, "float32"), axis=-1), axis=1, initial=0.0
        )
        share = ops.minimum(count_c, count_r) / ops.maximum(count_c, 1.0)
        clipped.append(ops.sum(share * valid, axis=-1))
        cand_total.append(ops.sum(valid, axis=-1))
        ref_total.append(
            ops.sum(
                ops.cast(references[:, :, n - 1 :] != 0, "float32"), axis=-1
            )
        )
    return clipped, cand_total, ref_total


def lcs_length(candidates, references):
    """Length of the longest common subsequence of each pair (float32).

    The dynamic programme `L[i][j] = L[i-1][j-1] + 1` on a match, else
    `max(L[i-1][j], L[i][j-1])`, runs one candidate position per
    `ops.fori_loop` step. Within a row, `L[i][j] = max_{j' <= j} g(j')`
    with `g(j) = L[i-1][j-1] + 1` on a match and `L[i-1][j]` otherwise (an
    LCS grows by at most one per added token), a running maximum computed
    with a triangular mask, so each step is a few tensor ops.
    """
    length_c = candidates.shape[1]
    length_r = references.shape[1]
    match = ops.cast(
        ops.logical_and(
            candidates[:, :, None] == references[:, None, :],
            (candidates != 0)[:, :, None],
        ),
        "float32",
    )
    upper = ops.triu(ops.ones((length_r, length_r), "float32"))  # j' <= j
    batch = ops.shape(candidates)[0]

    def step(i, previous):
        row_match = ops.take(match, i, axis=1)  # (B, Lr)
        g = ops.where(row_match > 0, previous[:, :-1] + 1.0, previous[:, 1:])
        row = ops.max(g[:, :, None] * upper[None], axis=1, initial=0.0)
        return ops.concatenate([ops.zeros((batch, 1), "float32"), row], axis=1)

    table = ops.fori_loop(
        0, length_c, step, ops.zeros((batch, length_r + 1), "float32")
    )
    return table[:, -1]
