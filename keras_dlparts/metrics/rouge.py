"""ROUGE-N and ROUGE-L over token ids as a stateful Keras metric."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.metrics.ngram_counts import lcs_length
from keras_dlparts.metrics.ngram_counts import lengths
from keras_dlparts.metrics.ngram_counts import ngram_counts
from keras_dlparts.metrics.ngram_counts import prepare_ids
from keras_dlparts.metrics.ngram_counts import sentence_weights

_SCORES = ("f1", "precision", "recall")


@keras.saving.register_keras_serializable(package="keras_dlparts")
class ROUGE(keras.metrics.Metric):
    """ROUGE-N or ROUGE-L (Lin, 2004) of token ids, averaged over sentences.

    For each candidate/reference pair (padding id 0 ignored),

    ```
    ROUGE-N:  overlap = sum_g min(count_cand(g), count_ref(g)) over n-grams g
              P = overlap / #cand n-grams,   R = overlap / #ref n-grams
    ROUGE-L:  P = LCS / len(cand),           R = LCS / len(ref)
    F1 = 2 P R / (P + R)                     (0 when P + R = 0)
    ```

    with LCS the longest common subsequence. The metric returns the mean of
    the per-sentence `score` (F1 by default) over every sentence seen, as
    the `rouge-score` package's aggregation does.

    Args:
        variant: `"n"` (n-gram overlap) or `"l"` (longest common
            subsequence).
        order: positive int, the `N` of ROUGE-N (ignored for `"l"`).
        score: `"f1"`, `"precision"` or `"recall"`.
        name, dtype: base `Metric` arguments.

    Call arguments (`update_state`):
        y_true: reference ids `(batch, length)`.
        y_pred: candidate ids `(batch, length)` or scores `(batch, length,
            vocab)` (their argmax is taken).
        sample_weight: optional `(batch,)` weights of the sentences.

    Ids must be non-negative (0 is padding); their values are not checked.
    `update_state` raises a `ValueError` naming the argument when a rank is
    wrong or the batch sizes differ; an empty batch adds nothing.

    Returns:
        `result()`: the mean score in [0, 1].

    Examples:

        >>> import numpy as np
        >>> rouge = ROUGE(variant="l")
        >>> references = np.array([[1, 2, 3, 4]])
        >>> rouge.update_state(references, np.array([[1, 3, 4, 0]]))
        >>> round(float(rouge.result()), 4)  # LCS 3: P = 3/3, R = 3/4
        0.8571
    """

    def __init__(self, variant="n", order=2, score="f1", name=None, dtype=None):
        _validation.one_of("variant", variant, ("n", "l"))
        order = _validation.positive_int("order", order)
        _validation.one_of("score", score, _SCORES)
        if name is None:
            name = f"rouge_{order if variant == 'n' else 'l'}"
        super().__init__(name=name, dtype=dtype)
        self.variant = variant
        self.order = order
        self.score = score
        self.total = self.add_variable((), "zeros", "float32", name="total")
        self.count = self.add_variable((), "zeros", "float32", name="count")

    def sentence_scores(self, y_true, y_pred):
        """Per-sentence `score`, `(batch,)`."""
        references, candidates = prepare_ids(y_true, y_pred, 2)
        if self.variant == "n":
            clipped, cand_total, ref_total = ngram_counts(
                candidates, references[:, None, :], self.order
            )
            overlap, cand, ref = (
                clipped[-1],
                cand_total[-1],
                ref_total[-1][:, 0],
            )
        else:
            overlap = lcs_length(candidates, references)
            cand, ref = lengths(candidates), lengths(references)
        precision = overlap / ops.maximum(cand, 1.0)
        recall = overlap / ops.maximum(ref, 1.0)
        if self.score == "precision":
            return precision
        if self.score == "recall":
            return recall
        both = precision + recall
        return ops.where(
            both > 0, 2.0 * precision * recall / ops.maximum(both, 1e-30), 0.0
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        scores = self.sentence_scores(y_true, y_pred)
        weight = ops.ones_like(scores)
        weight = weight * sentence_weights(sample_weight, y_true)
        self.total.assign_add(ops.sum(scores * weight))
        self.count.assign_add(ops.sum(weight))

    def result(self):
        return ops.cast(self.total / ops.maximum(self.count, 1e-30), self.dtype)

    def reset_state(self):
        self.total.assign(0.0)
        self.count.assign(0.0)

    def get_config(self):
        return {
            **super().get_config(),
            "variant": self.variant,
            "order": self.order,
            "score": self.score,
        }
