import numpy as np
import pytest

from keras_dlparts.data import Vocabulary
from keras_dlparts.data import cbow_examples
from keras_dlparts.data import skipgram_pairs
from keras_dlparts.data import standardize


def test_standardize_lowercases_and_strips_punctuation():
    assert standardize("Hello, World! It's 3pm.") == [
        "hello",
        "world",
        "it",
        "s",
        "3pm",
    ]
    with pytest.raises(TypeError, match="`text` must be a string"):
        standardize(3)


def test_vocabulary_keeps_most_frequent_and_maps_rest_to_unk():
    vocab = Vocabulary(["b a b c", "c b d"], max_size=4)
    # counts: b=3, c=2, a=1, d=1 -> keep b, c; a and d are UNK.
    assert vocab.words == ["", "[UNK]", "b", "c"]
    assert vocab.counts == [0, 2, 3, 2]
    assert vocab.encode("a b c d zzz") == [1, 2, 3, 1, 1]
    assert vocab.decode([2, 3, 0, 0]) == "b c"
    with pytest.raises(ValueError, match="`max_size`"):
        Vocabulary(["a"], max_size=2)


@pytest.mark.parametrize(
    "texts, match",
    [
        (
            "hello world",
            r"`texts` must be a list of strings.*"
            r"did you mean \['hello world'\]",
        ),
        (None, "`texts` must be a list of strings"),
        (["a b", 3], "`texts` must hold strings only"),
    ],
)
def test_vocabulary_refuses_what_is_not_a_list_of_texts(texts, match):
    with pytest.raises(TypeError, match=match):
        Vocabulary(texts)


def test_vocabulary_takes_any_iterable_of_texts():
    assert Vocabulary(t for t in ["a b", "b"]).words == ["", "[UNK]", "b", "a"]
    assert Vocabulary(np.array(["a b", "b"])).words == ["", "[UNK]", "b", "a"]


@pytest.mark.parametrize(
    "kwargs, error, argument",
    [
        ({"max_size": 3.5}, TypeError, "max_size"),
        ({"max_size": True}, TypeError, "max_size"),
    ],
)
def test_vocabulary_bad_sizes(kwargs, error, argument):
    with pytest.raises(error, match=f"`{argument}`"):
        Vocabulary(["a"], **kwargs)


def test_encode_batch_checks_its_arguments():
    vocab = Vocabulary(["a b"])
    with pytest.raises(TypeError, match="`texts`"):
        vocab.encode_batch("a b", length=2)
    with pytest.raises(ValueError, match="`length`"):
        vocab.encode_batch(["a b"], length=0)


@pytest.mark.parametrize("make", [skipgram_pairs, cbow_examples])
@pytest.mark.parametrize(
    "sequences, error",
    [
        ("abc", TypeError),
        ([[1, 2.5]], TypeError),
        ([[1, -2]], ValueError),
        ([3], TypeError),
    ],
)
def test_window_examples_refuse_bad_sequences(make, sequences, error):
    # Word ids are named by position: `sequences[0][1]`.
    with pytest.raises(error, match=r"`sequences(\[\d+\]\[\d+\])?`"):
        make(sequences, window_size=1)


@pytest.mark.parametrize("make", [skipgram_pairs, cbow_examples])
def test_window_examples_take_numpy_ids(make):
    np.testing.assert_array_equal(
        make([np.array([5, 6, 7])], window_size=1)[1],
        make([[5, 6, 7]], window_size=1)[1],
    )


def test_skipgram_pairs_match_a_hand_worked_window():
    targets, contexts = skipgram_pairs([[1, 2, 3, 4]], window_size=2)
    expected = [
        (1, 2),
        (1, 3),
        (2, 1),
        (2, 3),
        (2, 4),
        (3, 1),
        (3, 2),
        (3, 4),
        (4, 2),
        (4, 3),
    ]
    assert list(zip(targets.tolist(), contexts.tolist())) == expected
    with pytest.raises(ValueError, match="`window_size`"):
        skipgram_pairs([[1, 2]], window_size=0)


def test_cbow_examples_pad_short_windows_with_zero():
    contexts, targets = cbow_examples([[4, 5, 6, 7]], window_size=2)
    np.testing.assert_array_equal(targets, [4, 5, 6, 7])
    np.testing.assert_array_equal(
        contexts, [[5, 6, 0, 0], [4, 6, 7, 0], [4, 5, 7, 0], [5, 6, 0, 0]]
    )
