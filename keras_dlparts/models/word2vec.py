"""Word2Vec: skip-gram and CBOW word embeddings with negative sampling."""

import keras
import numpy as np
from keras import ops

from keras_dlparts._validation import check_rank
from keras_dlparts._validation import non_negative_number
from keras_dlparts._validation import number
from keras_dlparts._validation import one_of
from keras_dlparts._validation import positive_int
from keras_dlparts._validation import random_seed
from keras_dlparts._validation import same_batch_size
from keras_dlparts._validation import sequence
from keras_dlparts._validation import strings
from keras_dlparts.models._resume import SeedState
from keras_dlparts.ops.similarity import cosine_similarity

MODES = ("skipgram", "cbow")


def _per_word(name, value, vocabulary_size):
    """`value` as a tuple of `vocabulary_size` entries (an array counts)."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    return sequence(
        name,
        value,
        (vocabulary_size,),
        f"None or a list of `vocabulary_size`={vocabulary_size} entries",
    )


@keras.saving.register_keras_serializable(package="keras_dlparts")
class Word2Vec(SeedState, keras.Model):
    """Word2Vec (Mikolov et al., 2013) with negative sampling.

    Two embedding tables, `V` for centre words and `U` for context words.
    Skip-gram scores a (target, context) pair by `s = U[c] . V[t]`; CBOW
    scores a target against the mean of its context window,
    `s = U[t] . mean_j V[c_j]` (padding id 0 excluded). Each positive pair
    is trained against `negative_samples` ids drawn from the unigram
    distribution raised to 3/4 (uniform when `word_counts` is not given):

    `loss = -log sigmoid(s_pos) - sum_n log sigmoid(-s_n)`.

    Trains with a plain `fit`: skip-gram on `x=(targets, contexts)`, CBOW
    on `x=(contexts, targets)`, no `y` (see `keras_dlparts.data.text` for
    the pair generators). The word vectors are `V`.

    Weights files (`.keras`, `save_weights`, backups) also hold its
    random seed states, so a resumed run draws the same numbers as an
    uninterrupted one.

    Args:
        vocabulary_size: number of word ids (id 0 is padding).
        embedding_dim: width of the word vectors.
        mode: `"skipgram"` or `"cbow"`.
        negative_samples: negatives per positive pair.
        word_counts: `None` or the corpus count of every id (a list of
            `vocabulary_size` numbers) for the noise distribution.
        vocabulary: `None` or the list of words, so that `most_similar`
            takes and returns words rather than ids.
        seed: seed of the negative sampling.

    Call arguments:
        inputs: `(targets, contexts)` for skip-gram, shaped `(batch,)` each;
            `(contexts, targets)` for CBOW, shaped `(batch, window)` and
            `(batch,)`. Ids must be in `[0, vocabulary_size)`; only their values
            can tell, so they are not checked (an id out of range fails
            inside the embedding lookup on TensorFlow and is clamped on
            JAX).
        training: fresh negatives when `True`; a fixed, seeded set
            otherwise, so that evaluation repeats.

    Returns:
        Logits `(batch, 1 + negative_samples)`: the positive pair first.

    Examples:

        >>> import numpy as np
        >>> model = Word2Vec(vocabulary_size=10, embedding_dim=4, seed=0)
        >>> model.compile(optimizer="adam")
        >>> targets = np.array([2, 3, 4, 5]); contexts = np.array([3, 2, 5, 4])
        >>> history = model.fit((targets, contexts), epochs=2, verbose=0)
        >>> model.word_vectors().shape
        (10, 4)
    """

    def __init__(
        self,
        vocabulary_size,
        embedding_dim,
        mode="skipgram",
        negative_samples=5,
        word_counts=None,
        vocabulary=None,
        seed=None,
        **kwargs,
    ):
        positive_int("vocabulary_size", vocabulary_size, minimum=2)
        positive_int("embedding_dim", embedding_dim)
        positive_int("negative_samples", negative_samples)
        one_of("mode", mode, MODES)
        if word_counts is not None:
            counts = _per_word("word_counts", word_counts, vocabulary_size)
            for index, count in enumerate(counts):
                non_negative_number(f"word_counts[{index}]", count)
        if vocabulary is not None:
            _per_word("vocabulary", vocabulary, vocabulary_size)
            strings("vocabulary", vocabulary)
        if word_counts is not None and not sum(word_counts[1:]) > 0:
            raise ValueError(
                "Argument `word_counts` must count at least one word besides "
                f"padding (id 0). Received: word_counts={word_counts!r}"
            )
        random_seed("seed", seed)
        super().__init__(**kwargs)
        self.vocabulary_size = vocabulary_size
        self.embedding_dim = embedding_dim
        self.mode = mode
        self.negative_samples = negative_samples
        self.word_counts = (
            None if word_counts is None else [float(c) for c in word_counts]
        )
        self.vocabulary = None if vocabulary is None else list(vocabulary)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.center_embedding = keras.layers.Embedding(
            vocabulary_size,
            embedding_dim,
            embeddings_initializer="uniform",
            name="center",
        )
        self.context_embedding = keras.layers.Embedding(
            vocabulary_size,
            embedding_dim,
            embeddings_initializer="uniform",
            name="context",
        )
        self.build()

    def build(self, input_shape=None):
        """Creates both embedding tables (their shapes ignore the input)."""
        self.center_embedding.build((None,))
        self.context_embedding.build((None,))
        self.built = True

    def _noise_logits(self):
        if self.word_counts is None:
            weights = ops.ones((self.vocabulary_size,))
        else:
            weights = ops.power(ops.convert_to_tensor(self.word_counts), 0.75)
        weights = ops.concatenate(
            [ops.zeros((1,)), weights[1:]]
        )  # never padding
        return ops.log(ops.maximum(weights, 1e-30))[None, :]

    def _center_and_positive(self, inputs):
        first, second = inputs
        if self.mode == "skipgram":
            return self.center_embedding(first), ops.cast(second, "int32")
        window = self.center_embedding(first)
        keep = ops.cast(ops.not_equal(first, 0), window.dtype)[..., None]
        count = ops.maximum(ops.sum(keep, axis=1), 1.0)
        return ops.sum(window * keep, axis=1) / count, ops.cast(second, "int32")

    def call(self, inputs, training=False):
        inputs = sequence(
            "inputs",
            inputs,
            (2,),
            "(targets, contexts) for skip-gram or (contexts, targets) for CBOW",
        )
        self._check_inputs(*inputs)
        center, positive = self._center_and_positive(inputs)
        batch = ops.shape(positive)[0]
        # Fresh negatives in training; a fixed set otherwise, so that
        # `evaluate` and `predict` repeat.
        negatives = keras.random.categorical(
            self._noise_logits(),
            batch * self.negative_samples,
            seed=self.seed_generator if training else (self.seed or 0),
        )
        negatives = ops.reshape(negatives, (batch, self.negative_samples))
        candidates = ops.concatenate(
            [ops.reshape(positive, (-1, 1)), ops.cast(negatives, "int32")],
            axis=1,
        )
        return ops.einsum(
            "bd,bkd->bk", center, self.context_embedding(candidates)
        )

    def _check_inputs(self, first, second):
        """Checks the static ranks and batch sizes of the two id tensors."""
        if self.mode == "skipgram":
            names, first_rank = ("targets", "contexts"), 1
        else:
            names, first_rank = ("contexts", "targets"), 2
        check_rank(names[0], first, first_rank)
        check_rank(names[1], second, 1)
        same_batch_size((names[0], first), (names[1], second))

    def compute_loss(
        self, x=None, y=None, y_pred=None, sample_weight=None, training=True
    ):
        """Negative-sampling loss; `y` is unused (the positive comes first)."""
        labels = ops.concatenate(
            [ops.ones_like(y_pred[:, :1]), ops.zeros_like(y_pred[:, 1:])],
            axis=1,
        )
        per_pair = ops.sum(
            ops.binary_crossentropy(labels, y_pred, from_logits=True), axis=1
        )
        loss = ops.mean(per_pair)
        return loss + ops.sum(self.losses) if self.losses else loss

    def word_vectors(self):
        """The learned word vectors `V` (the center embedding table).

        Returns:
            A NumPy array of shape `(vocabulary_size, embedding_dim)`.
        """
        return ops.convert_to_numpy(self.center_embedding.embeddings)

    def context_vectors(self):
        """The learned context vectors `U` (the context embedding table).

        A pair scores `U[c] . V[t]`: `word_vectors()[t] @
        context_vectors()[c]` is the logit of context `c` for target `t`.
        Some uses add `U` to `V` or concatenate the two.

        Returns:
            A NumPy array of shape `(vocabulary_size, embedding_dim)`.

        Examples:

            >>> model = Word2Vec(vocabulary_size=10, embedding_dim=4, seed=0)
            >>> model.context_vectors().shape
            (10, 4)
        """
        return ops.convert_to_numpy(self.context_embedding.embeddings)

    def most_similar(self, word, k=5, exclude=("[UNK]",)):
        """The `k` words (or ids) whose vectors are closest in cosine to `word`.

        Args:
            word: a word of `vocabulary`, or an id.
            k: how many neighbours to return.
            exclude: words never returned (the unknown-word token).

        Returns:
            A list of `(word or id, cosine similarity)`, most similar first,
            excluding `word` itself, padding (id 0) and `exclude`.
        """
        positive_int("k", k)
        index = self._index_of(word)
        vectors = self.center_embedding.embeddings
        similarity = ops.convert_to_numpy(
            cosine_similarity(vectors, vectors[index][None, :])
        )
        names = self.vocabulary or list(range(self.vocabulary_size))
        excluded = [0, index] + [i for i, n in enumerate(names) if n in exclude]
        similarity[excluded] = -float("inf")
        order = [i for i in similarity.argsort()[::-1] if i not in excluded][:k]
        return [(names[i], float(similarity[i])) for i in order]

    def _index_of(self, word):
        if isinstance(word, str):
            if self.vocabulary is None or word not in self.vocabulary:
                raise ValueError(
                    "Argument `word` must be a word of this model's "
                    f"`vocabulary` or an id. Received: unknown word={word!r}"
                )
            return self.vocabulary.index(word)
        word = positive_int("word", word, minimum=0)
        number(
            "word", word, low=0, high=self.vocabulary_size, include_high=False
        )
        return word

    def get_config(self):
        return {
            **super().get_config(),
            "vocabulary_size": self.vocabulary_size,
            "embedding_dim": self.embedding_dim,
            "mode": self.mode,
            "negative_samples": self.negative_samples,
            "word_counts": self.word_counts,
            "vocabulary": self.vocabulary,
            "seed": self.seed,
        }
