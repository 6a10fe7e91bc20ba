"""A small word-level text pipeline: standardise, build a vocabulary, make
skip-gram and CBOW training examples.

Pure Python and NumPy (no TensorFlow), for corpora that fit in memory, as in
a course. Index 0 is padding and index 1 the unknown-word token, as in
`keras.layers.TextVectorization`.
"""

import collections
import re
import string

import numpy as np

from keras_dlparts import _validation

PAD_TOKEN = ""
UNK_TOKEN = "[UNK]"
_PUNCTUATION = re.compile(f"[{re.escape(string.punctuation)}]")


def standardize(text):
    """Lower-cases `text`, strips punctuation and splits it into words.

    Examples:

        >>> standardize("The cat, the DOG!")
        ['the', 'cat', 'the', 'dog']
    """
    _validation.string("text", text, allow_empty=True)
    return _PUNCTUATION.sub(" ", text.lower()).split()


class Vocabulary:
    """The `max_size` most frequent words of a corpus, with padding and UNK.

    Index 0 is the padding token `""`, index 1 `"[UNK]"` (every word outside
    the vocabulary), then the words by decreasing frequency (ties broken
    alphabetically, so the order is reproducible).

    Args:
        texts: a list (or other iterable) of strings; a bare string is
            refused (it would be read as a list of letters).
        max_size: largest vocabulary size, padding and UNK included (>= 3),
            or `None` for every word.

    Examples:

        >>> vocab = Vocabulary(["a b b c", "b c"], max_size=4)
        >>> vocab.words
        ['', '[UNK]', 'b', 'c']
        >>> vocab.encode("b a d")
        [2, 1, 1]
    """

    def __init__(self, texts, max_size=None):
        if max_size is not None:
            # Padding, UNK and at least one word.
            max_size = _validation.positive_int("max_size", max_size, minimum=3)
        texts = _validation.strings("texts", texts)
        counts = collections.Counter(
            word for text in texts for word in standardize(text)
        )
        ranked = sorted(counts, key=lambda w: (-counts[w], w))
        if max_size is not None:
            ranked = ranked[: max_size - 2]
        self.words = [PAD_TOKEN, UNK_TOKEN] + ranked
        self.index = {word: i for i, word in enumerate(self.words)}
        unknown = sum(c for w, c in counts.items() if w not in self.index)
        self.counts = [0, unknown] + [counts[w] for w in ranked]

    def __len__(self):
        return len(self.words)

    def encode(self, text):
        """Word ids of `text`; unknown words map to 1."""
        return [self.index.get(word, 1) for word in standardize(text)]

    def encode_batch(self, texts, length):
        """Word ids of each text, cut or padded with 0 to `length`.

        Returns an int32 array `(n, length)`.

        Examples:

            >>> vocab = Vocabulary(["a b c"])
            >>> vocab.encode_batch(["a b c", "c"], length=2).tolist()
            [[2, 3], [4, 0]]
        """
        texts = _validation.strings("texts", texts)
        length = _validation.positive_int("length", length)
        ids = np.zeros((len(texts), length), dtype="int32")
        for row, text in enumerate(texts):
            encoded = self.encode(text)[:length]
            ids[row, : len(encoded)] = encoded
        return ids

    def decode(self, ids):
        """The words of `ids`, padding dropped."""
        return " ".join(self.words[i] for i in ids if i != 0)


def _sequences(sequences):
    """`sequences` as a list of lists of word ids (integers >= 0)."""
    if isinstance(sequences, (str, bytes)) or not hasattr(
        sequences, "__iter__"
    ):
        raise TypeError(
            "Argument `sequences` must be a list of lists of word ids. "
            f"Received: sequences={sequences!r}"
        )
    return [_word_ids(row, sequence) for row, sequence in enumerate(sequences)]


def _word_ids(row, sequence):
    if isinstance(sequence, (str, bytes)) or not hasattr(sequence, "__iter__"):
        raise TypeError(
            "Argument `sequences` must hold lists of word ids. Received an "
            f"item {sequence!r} of type {type(sequence).__name__}"
        )
    return [
        _validation.positive_int(f"sequences[{row}][{col}]", i, minimum=0)
        for col, i in enumerate(sequence)
    ]


def _windows(sequence, window_size):
    for position, target in enumerate(sequence):
        low = max(0, position - window_size)
        context = (
            sequence[low:position]
            + sequence[position + 1 : position + 1 + window_size]
        )
        yield target, context


def skipgram_pairs(sequences, window_size=2):
    """(target, context) id pairs for every word and every neighbour.

    Args:
        sequences: iterable of lists of word ids.
        window_size: how many words on each side count as context.

    Returns:
        `(targets, contexts)`, two int32 arrays of the same length.

    Examples:

        >>> skipgram_pairs([[5, 6, 7]], window_size=1)
        (array([5, 6, 6, 7], dtype=int32), array([6, 5, 7, 6], dtype=int32))
    """
    window_size = _validation.positive_int("window_size", window_size)
    pairs = [
        (target, word)
        for sequence in _sequences(sequences)
        for target, context in _windows(sequence, window_size)
        for word in context
    ]
    pairs = np.asarray(pairs, dtype="int32").reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def cbow_examples(sequences, window_size=2):
    """(context window, target) examples for continuous bag-of-words.

    Each row of `contexts` holds the up to `2 * window_size` neighbours of
    one target word, padded with id 0 (which the model ignores).

    Returns:
        `(contexts, targets)`: int32 arrays shaped `(n, 2 * window_size)`
        and `(n,)`.

    Examples:

        >>> contexts, targets = cbow_examples([[5, 6, 7]], window_size=1)
        >>> contexts.tolist(), targets.tolist()
        ([[6, 0], [5, 7], [6, 0]], [5, 6, 7])
    """
    window_size = _validation.positive_int("window_size", window_size)
    contexts, targets = [], []
    for sequence in _sequences(sequences):
        for target, context in _windows(sequence, window_size):
            contexts.append(context + [0] * (2 * window_size - len(context)))
            targets.append(target)
    return (
        np.asarray(contexts, dtype="int32").reshape(-1, 2 * window_size),
        np.asarray(targets, dtype="int32"),
    )
