import keras
import numpy as np
import pytest

from keras_dlparts.data import load_digits
from keras_dlparts.losses import ContrastiveLoss
from keras_dlparts.losses import TripletLoss
from keras_dlparts.models import SiameseNetwork
from keras_dlparts.models import few_shot_accuracy
from keras_dlparts.testing import check_model

SEEN, UNSEEN = [0, 1, 2, 3, 4], [5, 6, 7, 8, 9]


def encoder(width=32, input_dim=64):
    return keras.Sequential(
        [
            keras.Input((input_dim,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(width),
        ]
    )


@pytest.mark.slow
def test_embeddings_and_pair_distances_match_numpy():
    enc = encoder(5, input_dim=4)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 6, 4)).astype("float32")
    fa, fb = enc.predict(a, verbose=0), enc.predict(b, verbose=0)
    na, nb = (f / np.linalg.norm(f, axis=1, keepdims=True) for f in (fa, fb))
    model = SiameseNetwork(enc)
    np.testing.assert_allclose(model(a), na, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        model((a, b)), np.linalg.norm(na - nb, axis=1), rtol=1e-5, atol=1e-6
    )
    raw = SiameseNetwork(enc, normalize=False, distance="cosine")
    np.testing.assert_allclose(
        raw((a, b)), 1 - np.sum(na * nb, axis=1), rtol=1e-5, atol=1e-6
    )
    np.testing.assert_allclose(raw(a), fa, rtol=1e-6)


def test_few_shot_accuracy_on_hand_made_clusters():
    # Identity encoder over well separated clusters: every query is right.
    identity = keras.Sequential([keras.Input((2,)), keras.layers.Identity()])
    centres = np.array([[10, 0], [0, 10], [-10, 0], [0, -10]], "float32")
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), 10)
    x = centres[y] + rng.normal(scale=0.1, size=(40, 2)).astype("float32")
    model = SiameseNetwork(identity, normalize=False)
    assert few_shot_accuracy(model, x, y, n_way=4, k_shot=1, episodes=20) == 1.0
    # Labels unrelated to the inputs: accuracy near chance (1/4).
    shuffled = rng.permutation(y)
    assert (
        abs(few_shot_accuracy(model, x, shuffled, n_way=4, episodes=200) - 0.25)
        < 0.08
    )
    with pytest.raises(ValueError, match="`n_way`"):
        few_shot_accuracy(model, x, y, n_way=5)
    with pytest.raises(ValueError, match="smallest class"):
        few_shot_accuracy(model, x, y, n_way=2, k_shot=8, queries_per_class=5)
    with pytest.raises(ValueError, match="`n_way` must be an integer >= 2"):
        few_shot_accuracy(model, x, y, n_way=1)
    with pytest.raises(ValueError, match="`y` must have a batch axis"):
        few_shot_accuracy(model, x[:0], y[:0], n_way=2)


def digits_split():
    (x_train, y_train), (x_test, y_test) = load_digits(as_images=False)
    seen = np.isin(y_train, SEEN)
    unseen = np.isin(y_test, UNSEEN)
    return (x_train[seen], y_train[seen]), (x_test[unseen], y_test[unseen])


def digits_split_with_seen_test():
    (x_train, y_train), (x_test, y_test) = load_digits(as_images=False)
    seen_train, seen_test = np.isin(y_train, SEEN), np.isin(y_test, SEEN)
    return (x_train[seen_train], y_train[seen_train]), (
        x_test[seen_test],
        y_test[seen_test],
    )


@pytest.mark.slow
@pytest.mark.learning
def test_triplet_training_gives_five_way_one_shot_on_unseen_digit_classes():
    (x_train, y_train), (x_unseen, y_unseen) = digits_split()
    _, (x_seen, y_seen) = digits_split_with_seen_test()
    keras.utils.set_random_seed(0)
    model = SiameseNetwork(encoder())
    model.compile(keras.optimizers.Adam(1e-3), loss=TripletLoss(margin=0.5))
    model.fit(x_train, y_train, batch_size=128, epochs=10, verbose=0)
    seen = few_shot_accuracy(model, x_seen, y_seen, n_way=5, k_shot=1)
    unseen = few_shot_accuracy(model, x_unseen, y_unseen, n_way=5, k_shot=1)
    print(
        f"5-way 1-shot on held-out images: seen classes {seen:.3f}, "
        f"unseen classes {unseen:.3f}"
    )
    assert seen > 0.95  # the metric learned on the training classes
    assert unseen > 0.4  # classes never trained on; chance is 0.2


@pytest.mark.slow
def test_contrastive_training_on_pairs():
    (x_train, y_train), (x_test, y_test) = digits_split()
    rng = np.random.default_rng(0)
    first = rng.integers(len(x_train), size=4000)
    second = np.where(
        rng.random(4000) < 0.5,
        [rng.choice(np.flatnonzero(y_train == y_train[i])) for i in first],
        rng.integers(len(x_train), size=4000),
    )
    same = (y_train[first] == y_train[second]).astype("float32")
    keras.utils.set_random_seed(0)
    model = SiameseNetwork(encoder())
    model.compile(keras.optimizers.Adam(1e-3), loss=ContrastiveLoss(margin=1.0))
    history = model.fit(
        (x_train[first], x_train[second]),
        same,
        batch_size=128,
        epochs=10,
        verbose=0,
    )
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    _, (x_seen, y_seen) = digits_split_with_seen_test()
    seen = few_shot_accuracy(model, x_seen, y_seen, n_way=5, k_shot=1)
    unseen = few_shot_accuracy(model, x_test, y_test, n_way=5, k_shot=1)
    print(
        f"contrastive, 5-way 1-shot: seen classes {seen:.3f}, "
        f"unseen classes {unseen:.3f}"
    )
    assert seen > 0.9
    assert unseen > 0.3  # chance is 0.2


@pytest.mark.slow
def test_contract():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6)).astype("float32")
    y = np.repeat(np.arange(4), 4)
    check_model(
        lambda: SiameseNetwork(encoder(4, input_dim=6)),
        x,
        y,
        loss=TripletLoss(margin=1.0, mining="batch_all"),
    )


def test_bad_config():
    with pytest.raises(ValueError, match="`distance`"):
        SiameseNetwork(encoder(), distance="manhattan")
    with pytest.raises(ValueError, match="a batch or a pair"):
        SiameseNetwork(encoder(4, 2))((np.ones((1, 2)),) * 3)
