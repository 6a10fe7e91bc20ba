import keras
import numpy as np
import pytest
from support.examples import load_example

from keras_dlparts.data import Vocabulary
from keras_dlparts.data import cbow_examples
from keras_dlparts.data import skipgram_pairs
from keras_dlparts.models import Word2Vec
from keras_dlparts.testing import check_model

# The example's corpus: words of one group share every context.
example = load_example("word2vec_corpus")
GROUPS, generated_corpus = example.GROUPS, example.generated_corpus


def numpy_negative_sampling_loss(model, x):
    """The loss from the formula, with the model's own evaluation negatives."""
    logits = keras.ops.convert_to_numpy(model(x, training=False)).astype(
        "float64"
    )
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    per_pair = -np.log(sig(logits[:, 0])) - np.log(sig(-logits[:, 1:])).sum(
        axis=1
    )
    # The positive logit itself: V[target] . U[context].
    v = model.center_embedding.embeddings.numpy()
    u = model.context_embedding.embeddings.numpy()
    targets, contexts = x
    np.testing.assert_allclose(
        logits[:, 0],
        np.sum(v[targets] * u[contexts], axis=1),
        rtol=1e-5,
        atol=1e-6,
    )
    return per_pair.mean()


@pytest.mark.parametrize("mode", ["skipgram", "cbow"])
@pytest.mark.slow
@pytest.mark.learning
def test_words_sharing_contexts_become_nearest_neighbours(mode):
    corpus = generated_corpus()
    vocab = Vocabulary(corpus)
    sequences = [vocab.encode(s) for s in corpus]
    if mode == "skipgram":
        x = skipgram_pairs(sequences, window_size=2)
    else:
        x = cbow_examples(sequences, window_size=2)
    keras.utils.set_random_seed(0)
    model = Word2Vec(
        len(vocab),
        16,
        mode=mode,
        negative_samples=4,
        word_counts=vocab.counts,
        vocabulary=vocab.words,
        seed=1,
    )
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    model.fit(x, batch_size=256, epochs=6, verbose=0)
    for words in GROUPS.values():
        for word in words:
            neighbours = [w for w, _ in model.most_similar(word, k=3)]
            assert set(neighbours) <= set(words), (mode, word, neighbours)


def test_loss_equals_the_negative_sampling_formula():
    model = Word2Vec(12, 4, negative_samples=3, seed=3)
    x = (np.array([2, 3, 4, 5, 6]), np.array([3, 2, 5, 4, 7]))
    model.compile(optimizer="sgd")
    expected = numpy_negative_sampling_loss(model, x)
    np.testing.assert_allclose(
        model.evaluate(x, verbose=0, batch_size=5), expected, rtol=1e-5
    )


@pytest.mark.slow
def test_cbow_ignores_padding_in_the_window():
    model = Word2Vec(12, 4, mode="cbow", negative_samples=2, seed=0)
    padded = (np.array([[3, 4, 0, 0]]), np.array([5]))
    unpadded = (np.array([[3, 4]]), np.array([5]))
    np.testing.assert_allclose(
        model(padded)[:, 0], model(unpadded)[:, 0], rtol=1e-6
    )
    v = model.center_embedding.embeddings.numpy()
    u = model.context_embedding.embeddings.numpy()
    np.testing.assert_allclose(
        model(padded)[0, 0], (v[3] + v[4]) / 2 @ u[5], rtol=1e-5
    )


@pytest.mark.slow
def test_word_and_context_vectors_are_the_trained_tables():
    model = Word2Vec(12, 4, negative_samples=2, seed=0)
    x = (np.array([2, 3, 4, 5]), np.array([3, 2, 5, 4]))
    before = model.context_vectors()
    model.compile(optimizer=keras.optimizers.SGD(0.5))
    model.fit(x, batch_size=4, epochs=2, verbose=0)
    v, u = model.word_vectors(), model.context_vectors()
    assert u.shape == v.shape == (12, 4)
    np.testing.assert_array_equal(u, model.context_embedding.embeddings)
    assert not np.allclose(u[[2, 3, 4, 5]], before[[2, 3, 4, 5]])
    # The positive logit of a skip-gram pair (target t, context c) is
    # U[c] . V[t], from the two tables.
    logits = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(
        logits[:, 0], np.sum(v[x[0]] * u[x[1]], axis=1), rtol=1e-5
    )


@pytest.mark.slow
def test_negatives_follow_the_three_quarter_unigram_distribution():
    counts = [
        0,
        0,
        1,
        16,
        81,
    ]  # ^0.75 -> 1, 8, 27: probabilities 1/36, 8/36, 27/36
    model = Word2Vec(5, 2, negative_samples=2000, word_counts=counts, seed=0)
    logits = model((np.array([2]), np.array([3])), training=True)
    assert logits.shape == (1, 2001)
    # Recover the sampled ids from their distinct context vectors.
    u = model.context_embedding.embeddings.numpy()
    v = model.center_embedding.embeddings.numpy()[2]
    scores = u @ v
    sampled = np.argmin(
        np.abs(
            keras.ops.convert_to_numpy(logits)[0, 1:, None] - scores[None, :]
        ),
        axis=1,
    )
    freq = np.bincount(sampled, minlength=5) / 2000
    np.testing.assert_allclose(freq, [0, 0, 1 / 36, 8 / 36, 27 / 36], atol=0.03)


@pytest.mark.slow
def test_contract():
    x = skipgram_pairs([[2, 3, 4, 5, 6, 7, 2, 4]], window_size=2)

    def build():
        return Word2Vec(8, 4, negative_samples=2, seed=0)

    check_model(
        build,
        x,
        compile_fn=lambda m, jit: m.compile(
            keras.optimizers.Adam(0.05), jit_compile=jit
        ),
    )


def test_most_similar_and_bad_config():
    model = Word2Vec(4, 2, vocabulary=["", "[UNK]", "a", "b"], seed=0)
    assert [w for w, _ in model.most_similar("a", k=3)] == ["b"]
    with pytest.raises(ValueError, match="`word`.*unknown word='z'"):
        model.most_similar("z")
    with pytest.raises(ValueError, match=r"`word` .*\[0, 4\).*word=4"):
        model.most_similar(4)
    with pytest.raises(TypeError, match="`word`"):
        model.most_similar(1.5)
    with pytest.raises(ValueError, match="`k`"):
        model.most_similar("a", k=0)
    with pytest.raises(TypeError, match="`vocabulary` must hold strings"):
        Word2Vec(4, 2, vocabulary=["", "[UNK]", "a", 3])
    with pytest.raises(ValueError, match=r"`word_counts\[2\]`"):
        Word2Vec(4, 2, word_counts=[0, 1, -1, 1])
    with pytest.raises(ValueError, match="`inputs` must be"):
        model((np.array([2]),))
    with pytest.raises(ValueError, match="`mode`"):
        Word2Vec(4, 2, mode="glove")
    with pytest.raises(ValueError, match="`embedding_dim`"):
        Word2Vec(4, 0)
    with pytest.raises(
        ValueError, match="`word_counts`.*`vocabulary_size`=4.*length 2"
    ):
        Word2Vec(4, 2, word_counts=[1, 2])
