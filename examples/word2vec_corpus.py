"""Word2Vec on a small generated corpus, with its embeddings in TensorBoard.

The corpus is built from templates whose slots take words of three groups
(animals, foods, colours), so words of one group share their contexts.
Skip-gram with negative sampling puts them next to each other; the word
vectors go to TensorBoard's projector (./logs/word2vec, "Projector" tab).

Run:  python examples/word2vec_corpus.py   (about 20 seconds)
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_dlparts.callbacks import LatentSpaceProjector  # noqa: E402
from keras_dlparts.data import Vocabulary  # noqa: E402
from keras_dlparts.data import skipgram_pairs  # noqa: E402
from keras_dlparts.models import Word2Vec  # noqa: E402

GROUPS = {
    "animal": ["cat", "dog", "cow", "horse"],
    "food": ["fish", "meat", "grass", "bread"],
    "colour": ["red", "blue", "green", "yellow"],
}
TEMPLATES = [
    "the {animal} eats {food} slowly",
    "a hungry {animal} likes {food}",
    "my {colour} ball is bright {colour2}",
    "paint it {colour} please",
]


def generated_corpus(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    pick = {group: (lambda g=group: rng.choice(GROUPS[g])) for group in GROUPS}
    sentences = []
    for _ in range(n):
        template = TEMPLATES[rng.integers(len(TEMPLATES))]
        sentences.append(
            template.format(
                animal=pick["animal"](),
                food=pick["food"](),
                colour=pick["colour"](),
                colour2=pick["colour"](),
            )
        )
    return sentences


def main(log_dir="logs/word2vec"):
    keras.utils.set_random_seed(0)
    corpus = generated_corpus()
    vocab = Vocabulary(corpus)
    targets, contexts = skipgram_pairs(
        [vocab.encode(s) for s in corpus], window_size=2
    )
    model = Word2Vec(
        len(vocab),
        16,
        negative_samples=4,
        word_counts=vocab.counts,
        vocabulary=vocab.words,
        seed=1,
    )
    model.compile(optimizer=keras.optimizers.Adam(0.02))
    model.fit(
        (targets, contexts),
        batch_size=256,
        epochs=6,
        verbose=2,
        callbacks=[keras.callbacks.TensorBoard(log_dir)],
    )
    for word in ("cat", "fish", "red"):
        print(
            word,
            "->",
            [(w, round(s, 3)) for w, s in model.most_similar(word, k=3)],
        )
    ids = np.arange(2, len(vocab))  # skip padding and UNK
    projector = LatentSpaceProjector(
        log_dir, ids, labels=np.array(vocab.words)[ids], overwrite=True
    )
    projector.set_model(
        keras.Sequential(
            [keras.Input((), dtype="int32"), model.center_embedding]
        )
    )
    projector.write(step=0)
    return model


if __name__ == "__main__":
    main()
