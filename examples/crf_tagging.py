"""Sequence tagging with a CRF head against a per-token softmax head.

The data come from a hidden Markov chain: each sequence's tags are sticky
(a tag stays with probability `STAY`), and each token is one of its tag's
own words with probability `CLEAR`, else any word. Both models share the
same per-token encoder (an embedding, masked at the padding); the softmax
head must tag every token on its own, while `layers.CRF` also learns the
transitions and decodes whole sequences with Viterbi, so it reads an
ambiguous word from its neighbours' tags. Accuracy counts the real
(unpadded) tokens of held-out sequences.

Usage: python examples/crf_tagging.py   (a few seconds on a CPU)
"""

import keras
import numpy as np

from keras_dlparts.layers import CRF
from keras_dlparts.losses import CRFLoss

NUM_TAGS, WORDS_PER_TAG = 4, 3
VOCABULARY = NUM_TAGS * WORDS_PER_TAG + 1  # id 0 is the padding
STAY, CLEAR = 0.85, 0.5


def make_data(count, max_length=20, seed=0):
    """Token ids and tags `(count, max_length)`, padded with id 0 and tag 0.

    Lengths are uniform in [max_length // 2, max_length].
    """
    rng = np.random.default_rng(seed)
    tokens = np.zeros((count, max_length), "int32")
    tags = np.zeros((count, max_length), "int32")
    for row in range(count):
        tag = rng.integers(NUM_TAGS)
        for t in range(rng.integers(max_length // 2, max_length + 1)):
            if t and rng.random() > STAY:
                tag = (tag + rng.integers(1, NUM_TAGS)) % NUM_TAGS
            if rng.random() < CLEAR:
                word = tag * WORDS_PER_TAG + rng.integers(WORDS_PER_TAG)
            else:
                word = rng.integers(VOCABULARY - 1)
            tokens[row, t], tags[row, t] = word + 1, tag
    return tokens, tags


def _encoder():
    inputs = keras.Input((None,), dtype="int32")
    features = keras.layers.Embedding(VOCABULARY, 16, mask_zero=True)(inputs)
    return inputs, features


def build_softmax_tagger():
    inputs, features = _encoder()
    outputs = keras.layers.Dense(NUM_TAGS, activation="softmax")(features)
    model = keras.Model(inputs, outputs, name="softmax_tagger")
    model.compile(
        keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy"
    )
    return model


def build_crf_tagger():
    inputs, features = _encoder()
    model = keras.Model(inputs, CRF(NUM_TAGS)(features), name="crf_tagger")
    model.compile(keras.optimizers.Adam(1e-2), CRFLoss())
    return model


def predict_tags(model, tokens):
    outputs = model.predict(tokens, batch_size=256, verbose=0)
    if model.name == "crf_tagger":
        return keras.ops.convert_to_numpy(CRF.decode(outputs))
    return outputs.argmax(-1)


def token_accuracy(predicted, tags, tokens):
    real = tokens > 0
    return float(np.mean(predicted[real] == tags[real]))


def main(train=2000, test=500, epochs=8):
    keras.utils.set_random_seed(0)
    x_train, y_train = make_data(train, seed=0)
    x_test, y_test = make_data(test, seed=1)
    accuracies = {}
    for model in (build_softmax_tagger(), build_crf_tagger()):
        model.fit(x_train, y_train, epochs=epochs, batch_size=64, verbose=0)
        predicted = predict_tags(model, x_test)
        accuracies[model.name] = token_accuracy(predicted, y_test, x_test)
        print(f"{model.name}: test token accuracy {accuracies[model.name]:.3f}")
    return accuracies


if __name__ == "__main__":
    main()
