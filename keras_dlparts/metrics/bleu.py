"""Corpus BLEU over token ids as a stateful Keras metric."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.metrics.ngram_counts import lengths
from keras_dlparts.metrics.ngram_counts import ngram_counts
from keras_dlparts.metrics.ngram_counts import prepare_ids
from keras_dlparts.metrics.ngram_counts import sentence_weights


@keras.saving.register_keras_serializable(package="keras_dlparts")
class BLEU(keras.metrics.Metric):
    """Corpus-level BLEU (Papineni et al., 2002) over integer token ids.

    Accumulates over every batch seen, as `nltk.translate.bleu_score.
    corpus_bleu` does over a corpus:

    ```
    p_n  = sum_s clipped_n(s) / sum_s max(1, candidate_ngrams_n(s))
    BP   = 1 if c > r else exp(1 - r / c)      (0 if c = 0)
    BLEU = BP * exp(sum_{n=1..N} log(p_n) / N)
    ```

    with `c` the total candidate length and `r` the total length of the
    reference closest in length to each candidate (ties: the shorter).
    `clipped_n` counts candidate n-grams, each clipped by its largest
    count in one reference. Padding id 0 is ignored. Without smoothing a
    zero `p_n` makes BLEU 0; `smooth=True` adds one to the numerator and
    the denominator of `p_n` for `n >= 2` (Lin and Och, 2004; nltk's
    `SmoothingFunction().method2`).

    Args:
        max_order: positive int, the largest n-gram order `N`.
        smooth: bool, add-one smoothing of the orders `n >= 2`.
        name, dtype: base `Metric` arguments.

    Call arguments (`update_state`):
        y_true: reference ids `(batch, length)` or several references
            `(batch, num_refs, length)` (an all-padding reference is
            ignored).
        y_pred: candidate ids `(batch, length)` or scores `(batch, length,
            vocab)` (their argmax is taken).
        sample_weight: optional `(batch,)` weights of the sentences' counts.

    Ids must be non-negative (0 is padding); their values are not checked.
    `update_state` raises a `ValueError` naming the argument when a rank is
    wrong or the batch sizes differ; an empty batch adds nothing.

    Returns:
        `result()`: the BLEU score in [0, 1].

    Examples:

        >>> import numpy as np
        >>> bleu = BLEU(max_order=2)
        >>> references = np.array([[1, 2, 3, 4, 0]])
        >>> bleu.update_state(references, np.array([[1, 2, 3, 5, 0]]))
        >>> round(float(bleu.result()), 4)  # p1 = 3/4, p2 = 2/3
        0.7071
    """

    def __init__(self, max_order=4, smooth=False, name="bleu", dtype=None):
        super().__init__(name=name, dtype=dtype)
        max_order = _validation.positive_int("max_order", max_order)
        smooth = _validation.boolean("smooth", smooth)
        self.max_order = max_order
        self.smooth = smooth
        self.matches = self.add_variable(
            (max_order,), "zeros", "float32", name="matches"
        )
        self.possible = self.add_variable(
            (max_order,), "zeros", "float32", name="possible"
        )
        self.candidate_length = self.add_variable(
            (), "zeros", "float32", name="candidate_length"
        )
        self.reference_length = self.add_variable(
            (), "zeros", "float32", name="reference_length"
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        references, candidates = prepare_ids(y_true, y_pred, (2, 3))
        if len(references.shape) == 2:
            references = references[:, None, :]
        clipped, cand_total, _ = ngram_counts(
            candidates, references, self.max_order
        )
        weight = sentence_weights(sample_weight, references)
        self.matches.assign_add(
            ops.stack([ops.sum(c * weight) for c in clipped])
        )
        self.possible.assign_add(
            ops.stack(
                [ops.sum(ops.maximum(t, 1.0) * weight) for t in cand_total]
            )
        )
        hyp = lengths(candidates)  # (B,)
        refs = lengths(references)  # (B, R)
        # Closest reference length, ties to the shorter; empty refs ignored.
        distance = ops.abs(refs - hyp[:, None]) + ops.where(refs > 0, 0.0, 1e9)
        key = distance * 1e4 + refs
        closest = ops.take_along_axis(
            refs, ops.argmin(key, axis=1)[:, None], axis=1
        )[:, 0]
        self.candidate_length.assign_add(ops.sum(hyp * weight))
        self.reference_length.assign_add(ops.sum(closest * weight))

    def result(self):
        matches, possible = self.matches, self.possible
        if self.smooth and self.max_order > 1:
            bonus = ops.concatenate(
                [ops.zeros((1,)), ops.ones((self.max_order - 1,))]
            )
            matches, possible = matches + bonus, possible + bonus
        precision = matches / ops.maximum(possible, 1.0)
        log_mean = ops.mean(ops.log(ops.maximum(precision, 1e-30)))
        c, r = self.candidate_length, self.reference_length
        penalty = ops.where(
            c > r, 1.0, ops.exp(1.0 - r / ops.maximum(c, 1e-30))
        )
        score = penalty * ops.exp(log_mean)
        score = ops.where(ops.min(matches) > 0, score, 0.0)
        return ops.cast(ops.where(c > 0, score, 0.0), self.dtype)

    def reset_state(self):
        for v in self.variables:
            v.assign(ops.zeros(v.shape, v.dtype))

    def get_config(self):
        return {
            **super().get_config(),
            "max_order": self.max_order,
            "smooth": self.smooth,
        }
