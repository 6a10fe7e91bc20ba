"""Siamese network: a shared encoder compared by distance; few-shot accuracy."""

import keras
import numpy as np
from keras import ops

from keras_dlparts._validation import boolean
from keras_dlparts._validation import check_rank
from keras_dlparts._validation import data_batch
from keras_dlparts._validation import fits_input
from keras_dlparts._validation import keras_object
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import same_batch_size
from keras_dlparts._validation import sequence
from keras_dlparts.models._nested import deserialize_models
from keras_dlparts.models._nested import serialize_models
from keras_dlparts.models._resume import SeedState
from keras_dlparts.ops.similarity import l2_normalize
from keras_dlparts.ops.similarity import safe_sqrt

DISTANCES = ("euclidean", "cosine")
_MODELS = ("encoder",)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class SiameseNetwork(SeedState, keras.Model):
    """A shared encoder whose embeddings are compared by distance.

    Called on a batch `x` it returns the embeddings `f(x)` (L2-normalised
    when `normalize=True`), ready for `keras_dlparts.losses.TripletLoss`
    with integer labels as `y`. Called on a pair `(a, b)` it returns the
    distance `d(f(a), f(b))` per pair (Euclidean, or cosine distance
    `1 - cos`), ready for `keras_dlparts.losses.ContrastiveLoss` with pair
    labels (1 similar, 0 dissimilar) as `y`. Both encoders are one network:
    the weights are shared.

    Built at construction when its networks are (functional, or
    `Sequential` with a `keras.Input`), so `keras.callbacks.BackupAndRestore`
    can resume its training; with networks of unknown input shape, call
    the model on a batch first. Weights files (`.keras`,
    `save_weights`, backups) also hold its random seed states, so a
    resumed run draws the same numbers as an uninterrupted one.

    Args:
        encoder: a `keras.Model` (or layer) from inputs to vectors.
        normalize: whether embeddings are scaled to unit length.
        distance: `"euclidean"` or `"cosine"`, used for pairs and
            `few_shot_accuracy`.

    Call arguments:
        inputs: a batch, or a pair `(a, b)` of batches of the same size.

    Returns:
        Embeddings `(n, dim)` for a batch, distances `(n,)` for a pair
        (float32 under every dtype policy, finite for equal pairs).

    Examples:

        >>> import numpy as np
        >>> encoder = keras.Sequential(
        ...     [keras.Input((4,)), keras.layers.Dense(3)])
        >>> model = SiameseNetwork(encoder)
        >>> tuple(model(np.ones((2, 4))).shape)
        (2, 3)
        >>> tuple(model((np.ones((2, 4)), np.ones((2, 4)))).shape)
        (2,)
    """

    def __init__(self, encoder, normalize=True, distance="euclidean", **kwargs):
        keras_object("encoder", encoder, keras.layers.Layer)
        boolean("normalize", normalize)
        one_of("distance", distance, DISTANCES)
        super().__init__(**kwargs)
        self.encoder = encoder
        self.normalize = normalize
        self.distance = distance
        self.built = encoder.built  # no weights of its own

    def embed(self, x, training=False):
        """The (normalised) embeddings of a batch."""
        fits_input("inputs", x, self.encoder)
        embeddings = self.encoder(x, training=training)
        return l2_normalize(embeddings) if self.normalize else embeddings

    def pair_distance(self, a, b):
        """Distance between matching rows of two embedding batches, in float32.

        16-bit embeddings (mixed precision) are compared in float32, and the
        Euclidean distance of equal rows is 0 with a zero gradient (never
        NaN or infinite).
        """
        a, b = ops.cast(a, "float32"), ops.cast(b, "float32")
        if self.distance == "cosine":
            return 1.0 - ops.sum(l2_normalize(a) * l2_normalize(b), axis=-1)
        return safe_sqrt(ops.sum(ops.square(a - b), axis=-1))

    def call(self, inputs, training=False):
        if isinstance(inputs, (tuple, list)):
            a, b = sequence("inputs", inputs, (2,), "a batch or a pair (a, b)")
            fits_input("a", a, self.encoder)
            fits_input("b", b, self.encoder)
            same_batch_size(("a", a), ("b", b))
            return self.pair_distance(
                self.embed(a, training), self.embed(b, training)
            )
        return self.embed(inputs, training)

    def get_config(self):
        return {
            **super().get_config(),
            **serialize_models(self, _MODELS),
            "normalize": self.normalize,
            "distance": self.distance,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**deserialize_models(config, _MODELS))


def few_shot_accuracy(
    model, x, y, n_way=5, k_shot=1, queries_per_class=5, episodes=200, seed=0
):
    """Accuracy of n-way k-shot classification by nearest class prototype.

    Each episode draws `n_way` classes of `y`, then `k_shot` support and
    `queries_per_class` query examples of each; a query is given the class
    whose prototype (mean support embedding) is nearest under the model's
    distance. Chance is `1 / n_way`.

    Args:
        model: a `SiameseNetwork` (anything with `embed` and
            `pair_distance`).
        x, y: examples and integer labels, each class with at least
            `k_shot + queries_per_class` examples.
        n_way, k_shot, queries_per_class, episodes: the episode design.
        seed: seed of the episode draws.

    Returns:
        The mean accuracy over all queries of all episodes, a float.
    """
    if not all(
        callable(getattr(model, m, None)) for m in ("embed", "pair_distance")
    ):
        raise TypeError(
            "Argument `model` must be a SiameseNetwork (with `embed` and "
            f"`pair_distance`). Received: model={model!r}"
        )
    positive_int("n_way", n_way, minimum=2)
    for name, value in (
        ("k_shot", k_shot),
        ("queries_per_class", queries_per_class),
        ("episodes", episodes),
    ):
        positive_int(name, value)
    random_seed("seed", seed)
    check_rank("y", y, (1, 2))
    same_batch_size(("x", x), ("y", y))
    fits_input("x", x, getattr(model, "encoder", None))
    data_batch("y", y)
    y = np.asarray(y).reshape(-1)
    classes = np.unique(y)
    # Episodes need enough classes in `y`, and enough examples of each.
    if n_way > len(classes):
        raise ValueError(
            f"Argument `n_way` must be in [2, {len(classes)}] (the classes in "
            f"`y`). Received: n_way={n_way}"
        )
    needed = k_shot + queries_per_class
    smallest = min(int(np.sum(y == c)) for c in classes)
    if smallest < needed:
        raise ValueError(
            "Argument `y` must hold k_shot + queries_per_class = "
            f"{needed} examples of every class. Received: its smallest class "
            f"has {smallest}"
        )
    embeddings = ops.convert_to_numpy(model.embed(x))
    rng = np.random.default_rng(seed)
    correct = 0
    for _ in range(episodes):
        chosen = rng.choice(classes, n_way, replace=False)
        prototypes, queries, answers = [], [], []
        for index, label in enumerate(chosen):
            members = rng.permutation(np.flatnonzero(y == label))[:needed]
            prototypes.append(embeddings[members[:k_shot]].mean(axis=0))
            queries.append(embeddings[members[k_shot:]])
            answers += [index] * queries_per_class
        queries = np.concatenate(queries)
        prototypes = np.stack(prototypes)
        distances = ops.convert_to_numpy(
            model.pair_distance(queries[:, None, :], prototypes[None, :, :])
        )
        correct += int(np.sum(distances.argmin(axis=1) == np.asarray(answers)))
    return correct / (episodes * n_way * queries_per_class)
