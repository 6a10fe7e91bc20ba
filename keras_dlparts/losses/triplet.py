"""Triplet loss on labels and embeddings, with online triplet mining."""

import keras
from keras import ops

from keras_dlparts import _validation
from keras_dlparts.losses._in_batch import cosine_matrix
from keras_dlparts.losses._in_batch import labels_vector
from keras_dlparts.losses._in_batch import masked_mean
from keras_dlparts.losses._in_batch import not_self
from keras_dlparts.ops.distance import pairwise_squared_distance
from keras_dlparts.ops.similarity import safe_sqrt

#: The ways `TripletLoss` picks triplets from a batch.
MINING_STRATEGIES = ("batch_hard", "semi_hard", "batch_all")
#: The distances `TripletLoss` measures between embeddings.
DISTANCES = ("l2", "squared_l2", "cosine")


def pairwise_distances(embeddings, distance):
    """`(batch, batch)` matrix of distances, exactly zero on the diagonal."""
    n = ops.shape(embeddings)[0]
    off_diagonal = 1.0 - ops.eye(n, dtype=embeddings.dtype)
    if distance == "cosine":
        cosine = cosine_matrix(embeddings)
        return ops.maximum(1.0 - cosine, 0.0) * off_diagonal
    squared = pairwise_squared_distance(embeddings, embeddings) * off_diagonal
    if distance == "squared_l2":
        return squared
    return safe_sqrt(squared)


def batch_hard_loss(dist, positive, negative, margin):
    """Hermans et al. (2017): hardest positive and negative per anchor."""
    big = ops.max(dist, initial=0.0) + 1.0
    hardest_positive = ops.max(ops.where(positive, dist, 0.0), axis=1)
    hardest_negative = ops.min(ops.where(negative, dist, big), axis=1)
    valid = ops.logical_and(
        ops.any(positive, axis=1), ops.any(negative, axis=1)
    )
    return masked_mean(
        ops.relu(margin + hardest_positive - hardest_negative), valid
    )


def semi_hard_loss(dist, positive, negative, margin):
    """Schroff et al. (2015) as in TensorFlow Addons' `TripletSemiHardLoss`.

    For each positive pair `(a, p)`: the closest negative farther from `a`
    than `p`; if there is none, the farthest negative of `a`.
    """
    big = ops.max(dist, initial=0.0) + 1.0
    d_ap = dist[:, :, None]  # [a, p, 1]
    d_an = dist[:, None, :]  # [a, 1, n]
    semi_hard = ops.logical_and(negative[:, None, :], ops.greater(d_an, d_ap))
    closest_outside = ops.min(ops.where(semi_hard, d_an, big), axis=2)
    farthest_inside = ops.max(ops.where(negative, dist, 0.0), axis=1)
    chosen = ops.where(
        ops.any(semi_hard, axis=2), closest_outside, farthest_inside[:, None]
    )
    return masked_mean(ops.relu(margin + dist - chosen), positive)


def batch_all_loss(dist, positive, negative, margin):
    """Every valid triplet; the mean over those with a positive loss."""
    losses = ops.relu(margin + dist[:, :, None] - dist[:, None, :])
    valid = ops.logical_and(positive[:, :, None], negative[:, None, :])
    active = ops.logical_and(valid, ops.greater(losses, 0.0))
    return masked_mean(losses, active)


_MINERS = {
    "batch_hard": batch_hard_loss,
    "semi_hard": semi_hard_loss,
    "batch_all": batch_all_loss,
}


@keras.saving.register_keras_serializable(package="keras_dlparts")
class TripletLoss(keras.losses.Loss):
    """Triplet loss with online mining, on integer labels and embeddings.

    For an anchor `a`, a positive `p` (same label, `p != a`) and a negative
    `n` (other label) from the batch, with `d` the chosen distance:

    ```
    loss(a, p, n) = max(d(a, p) - d(a, n) + margin, 0)
    ```

    `mining` decides which triplets count:

    - `"semi_hard"` (Schroff et al., 2015; TensorFlow Addons'
      `TripletSemiHardLoss`): for every positive pair `(a, p)`, the closest
      negative that is farther from `a` than `p`, or the farthest negative
      of `a` when there is none; the mean over positive pairs.
    - `"batch_hard"` (Hermans et al., 2017): for every anchor, its farthest
      positive and its closest negative; the mean over anchors that have
      both (TFA's `TripletHardLoss` also counts anchors with no positive).
    - `"batch_all"`: every valid triplet; the mean over the triplets whose
      loss is positive (Hermans et al.'s "batch all").

    `distance` is `"l2"` (Euclidean, TFA's default `"L2"`), `"squared_l2"`
    or `"cosine"` (`1 - cos`, on L2-normalised embeddings). The Euclidean
    distance has a safe square root: coincident embeddings have distance 0
    and gradient 0, never NaN, also under XLA and with float16 inputs
    (which are computed in float32); the cosine distance normalises with
    the same safe `keras_dlparts.ops.similarity.l2_normalize` (a zero
    embedding stays zero, with gradient 0). A batch with no positive pair,
    or an empty batch, gives a loss of 0 rather than TFA's 0/0.

    The loss is one value for the whole batch (a batch of embeddings is one
    sample of the mining), so `sample_weight` is not meaningful.

    Args:
        margin: non-negative finite float. Defaults to `1.0`.
        mining: one of `"semi_hard"` (default), `"batch_hard"`, `"batch_all"`.
        distance: one of `"l2"` (default), `"squared_l2"`, `"cosine"`.
        reduction: the `keras.losses.Loss` reduction (of the batch's single
            value).
        name: optional name.
        dtype: dtype of the computation (default `float32`).

    Call arguments:
        y_true: integer class labels, shape `(batch,)` or `(batch, 1)`.
        y_pred: embeddings, shape `(batch, features)`.

    Returns:
        The loss, a scalar.

    Raises:
        ValueError: when `y_pred` is not `(batch, features)`, `y_true` not
            `(batch,)` or `(batch, 1)`, or their batch sizes differ.

    Examples:

        >>> import numpy as np
        >>> loss = TripletLoss(margin=1.0, mining="batch_hard")
        >>> labels = np.array([0, 0, 1, 1])
        >>> embeddings = np.array([[0.0], [0.5], [1.0], [3.0]])
        >>> # per anchor: 0.5+1-1, 0.5+1-0.5, 2+1-0.5, 2+1-2.5 -> mean 1.125
        >>> float(loss(labels, embeddings))
        1.125
    """

    def __init__(
        self,
        margin=1.0,
        mining="semi_hard",
        distance="l2",
        reduction="sum_over_batch_size",
        name="triplet_loss",
        dtype=None,
    ):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.margin = _validation.non_negative_number("margin", margin)
        self.mining = _validation.one_of("mining", mining, MINING_STRATEGIES)
        self.distance = _validation.one_of("distance", distance, DISTANCES)
        self._dtype_argument = dtype

    def call(self, y_true, y_pred):
        embeddings = ops.convert_to_tensor(y_pred, dtype=self.dtype)
        _validation.check_layout("y_pred", embeddings, ("batch", "features"))
        labels = labels_vector(y_true)
        _validation.same_batch_size(("y_true", labels), ("y_pred", embeddings))
        if _validation.batch_size(embeddings) == 0:
            return ops.zeros((), embeddings.dtype)  # no triplet in the batch
        dist = pairwise_distances(embeddings, self.distance)
        same = ops.equal(labels[:, None], labels[None, :])
        positive = ops.logical_and(same, not_self(ops.shape(labels)[0]))
        negative = ops.logical_not(same)
        return _MINERS[self.mining](dist, positive, negative, self.margin)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "margin": self.margin,
                "mining": self.mining,
                "distance": self.distance,
                "dtype": self._dtype_argument,
            }
        )
        return config
