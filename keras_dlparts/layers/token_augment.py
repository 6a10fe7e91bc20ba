"""Token-level text augmentation on padded integer id sequences.

The layers work on integer token ids of shape `(batch, length)` (or a single
sequence `(length,)`, as in a `tf.data` map before batching) in which id 0 is
padding and the padding sits at the end of each sequence. They keep the
length and the dtype, keep the padding at the end and never touch it: the
EDA-style augmentations (Wei and Zou, 2019) random deletion, random swap and
random insertion, on ids instead of words.

All three are written with `keras.ops` only: moving the surviving tokens of a
sequence to its front ("compaction") is an `argsort` of the keys
`position` (kept) and `length + position` (dropped), followed by a gather,
so no scatter and no Python loop is needed and the layers trace under XLA.
"""

import keras
from keras import ops

from keras_dlparts._validation import fraction
from keras_dlparts._validation import positive_int
from keras_dlparts.layers.random_augmentation import RandomAugmentation


def _positions(tokens):
    length = ops.shape(tokens)[-1]
    return ops.expand_dims(ops.arange(length, dtype="int32"), 0)


def _compact(tokens, keep):
    """Moves the kept tokens of each row to its front, in order; pads with 0."""
    pos = _positions(tokens)
    length = ops.shape(tokens)[-1]
    order = ops.argsort(ops.where(keep, pos, pos + length), axis=-1)
    gathered = ops.take_along_axis(tokens, order, axis=-1)
    count = ops.sum(ops.cast(keep, "int32"), axis=-1, keepdims=True)
    return ops.where(pos < count, gathered, ops.zeros_like(gathered))


class _TokenAugmentation(RandomAugmentation):
    """Shared rank handling of the token layers: rank 1 runs as a batch of 1."""

    allowed_ranks = (1, 2)

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        fraction("rate", rate)
        self.rate = rate

    def augment(self, inputs):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if "int" not in dtype:
            raise ValueError(
                "Argument `inputs` must hold integer token ids. "
                f"Received: inputs.dtype={dtype}"
            )
        if len(inputs.shape) == 1:
            return ops.squeeze(self.augment_batch(inputs[None]), 0)
        return self.augment_batch(inputs)

    def augment_batch(self, tokens):
        raise NotImplementedError

    def uniform(self, tokens):
        return keras.random.uniform(ops.shape(tokens), seed=self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RandomTokenDeletion(_TokenAugmentation):
    """Deletes each non-padding token with probability `rate`.

    The surviving tokens keep their order and move to the front; the
    sequence is refilled with padding (id 0) at the end, so its length does
    not change. Outside training the layer is the identity.

    Args:
        rate: float in [0, 1], the deletion probability per token.
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: integer ids, `(batch, length)` or `(length,)`, padding 0 at
            the end.
        training: Python boolean; augment only when `True`.

    Returns:
        Integer ids with the shape and dtype of `inputs`.

    Examples:

        >>> import numpy as np
        >>> layer = RandomTokenDeletion(rate=1.0)
        >>> ids = np.array([[5, 6, 7, 0, 0]], "int32")
        >>> np.asarray(layer(ids, training=True)).tolist()
        [[0, 0, 0, 0, 0]]
        >>> np.asarray(layer(ids)).tolist()
        [[5, 6, 7, 0, 0]]
    """

    def augment_batch(self, tokens):
        keep = ops.logical_and(tokens != 0, self.uniform(tokens) >= self.rate)
        return _compact(tokens, keep)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RandomTokenSwap(_TokenAugmentation):
    """Swaps randomly selected tokens among themselves.

    Each non-padding token is selected with probability `rate`; the selected
    tokens are then put back into the selected positions in a uniformly
    random order (a random permutation of the selected positions; with two
    selected tokens, a swap). Unselected tokens and the padding stay where
    they are, so the multiset of ids, the length and the padding are kept.
    A random permutation leaves on average one selected token in place, so
    the share of moved tokens is slightly below `rate`.

    Args:
        rate: float in [0, 1], the selection probability per token.
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: integer ids, `(batch, length)` or `(length,)`, padding 0 at
            the end.
        training: Python boolean; augment only when `True`.

    Returns:
        Integer ids with the shape and dtype of `inputs`.

    Examples:

        >>> import numpy as np
        >>> layer = RandomTokenSwap(rate=1.0, seed=0)
        >>> ids = np.array([[5, 6, 7, 0]], "int32")
        >>> out = np.asarray(layer(ids, training=True))
        >>> sorted(out[0, :3].tolist()), out[0, 3].item()
        ([5, 6, 7], 0)
    """

    def augment_batch(self, tokens):
        pos = _positions(tokens)
        length = ops.shape(tokens)[-1]
        u = self.uniform(tokens)
        selected = ops.logical_and(tokens != 0, u < self.rate)
        # Selected positions in ascending order first, then the others.
        by_position = ops.argsort(ops.where(selected, pos, pos + length))
        # Selected positions in random order first, then the others in the
        # same ascending order as above.
        shuffle_key = ops.where(
            selected,
            keras.random.uniform(ops.shape(tokens), seed=self.seed_generator),
            2.0 + ops.cast(pos, "float32"),
        )
        by_random = ops.argsort(shuffle_key)
        # out[p] = tokens[by_random[rank of p in by_position]].
        shuffled = ops.take_along_axis(tokens, by_random, axis=-1)
        return ops.take_along_axis(shuffled, ops.argsort(by_position), axis=-1)


@keras.saving.register_keras_serializable(package="keras_dlparts")
class RandomTokenInsertion(_TokenAugmentation):
    """Inserts a random token before each non-padding token, with rate `rate`.

    The inserted id is drawn uniformly from `[1, vocabulary_size)` when
    `vocabulary_size` is given, and otherwise copied from a uniformly chosen
    non-padding token of the same sequence (EDA inserts a synonym of a word
    of the sentence; a copied id is its id-level stand-in). The sequence
    keeps its length: inserted tokens use up padding, and tokens pushed past
    the end are cut off.

    Args:
        rate: float in [0, 1], the insertion probability per token.
        vocabulary_size: `None`, or an integer > 1: draw inserted ids from
            `[1, vocabulary_size)`.
        seed: optional integer seed.
        **kwargs: base `Layer` arguments.

    Call arguments:
        inputs: integer ids, `(batch, length)` or `(length,)`, padding 0 at
            the end.
        training: Python boolean; augment only when `True`.

    Returns:
        Integer ids with the shape and dtype of `inputs`.

    Examples:

        >>> import numpy as np
        >>> layer = RandomTokenInsertion(rate=1.0, seed=0)
        >>> ids = np.array([[4, 4, 0, 0, 0, 0]], "int32")
        >>> np.asarray(layer(ids, training=True)).tolist()
        [[4, 4, 4, 4, 0, 0]]
    """

    def __init__(self, rate, vocabulary_size=None, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)
        if vocabulary_size is not None:
            positive_int("vocabulary_size", vocabulary_size, minimum=2)
        self.vocabulary_size = vocabulary_size

    def augment_batch(self, tokens):
        present = tokens != 0
        insert = ops.logical_and(present, self.uniform(tokens) < self.rate)
        if self.vocabulary_size is not None:
            new = keras.random.randint(
                ops.shape(tokens),
                1,
                self.vocabulary_size,
                seed=self.seed_generator,
                dtype="int32",
            )
        else:
            count = ops.sum(ops.cast(present, "float32"), -1, keepdims=True)
            index = ops.cast(ops.floor(self.uniform(tokens) * count), "int32")
            index = ops.clip(
                index, 0, ops.maximum(ops.cast(count, "int32") - 1, 0)
            )
            new = ops.take_along_axis(tokens, index, axis=-1)
        new = ops.cast(new, tokens.dtype)
        length = ops.shape(tokens)[-1]
        # Interleave [new_0, tok_0, new_1, tok_1, ...], keep what is
        # inserted or present, compact, and cut back to `length`.
        batch = ops.shape(tokens)[0]
        # (batch, 2 * length), not (batch, -1): -1 is ambiguous in an empty
        # batch.
        both = ops.reshape(
            ops.stack([new, tokens], axis=-1), (batch, 2 * length)
        )
        keep = ops.reshape(
            ops.stack([insert, present], axis=-1), (batch, 2 * length)
        )
        return _compact(both, keep)[:, :length]

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size}
