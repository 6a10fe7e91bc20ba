import os

import keras
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.neighbors import KNeighborsClassifier

from keras_dlparts.retrieval.classifier import NearestNeighborClassifier
from keras_dlparts.testing import check_model


def identity_encoder(features):
    return keras.Sequential([keras.Input((features,)), keras.layers.Identity()])


def numpy_knn(queries, references, labels, k, metric, weighting, classes):
    """Class probabilities of a k-NN vote, from the formulas."""
    if metric == "cosine":
        q = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        r = references / np.linalg.norm(references, axis=1, keepdims=True)
        distances = 1.0 - q @ r.T
    elif metric == "euclidean":
        diff = queries[:, None, :] - references[None, :, :]
        distances = np.sqrt(np.sum(diff**2, axis=-1))
    else:
        distances = -(queries @ references.T)
    order = np.argsort(distances, axis=1, kind="stable")[:, :k]
    nearest = np.take_along_axis(distances, order, axis=1)
    probabilities = np.zeros((len(queries), classes))
    for row, (ids, d) in enumerate(zip(order, nearest)):
        if weighting == "uniform":
            weights = np.ones(k)
        elif np.any(d <= 0):
            weights = (d <= 0).astype(float)
        else:
            weights = 1.0 / d
        np.add.at(probabilities[row], labels[ids], weights)
    return probabilities / probabilities.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    x = x.astype("float32")
    # A small test split (the last 297 digits) against 1,500 references.
    return x[:1500], y[:1500], x[1500:], y[1500:]


@pytest.mark.parametrize(
    "metric, weighting",
    [
        ("cosine", "uniform"),
        ("cosine", "distance"),
        ("euclidean", "uniform"),
        ("euclidean", "distance"),
        ("dot", "uniform"),
    ],
)
@pytest.mark.slow
def test_matches_numpy_knn(metric, weighting):
    rng = np.random.default_rng(0)
    references = rng.normal(size=(40, 6)).astype("float32")
    labels = rng.integers(0, 4, size=40)
    queries = rng.normal(size=(9, 6)).astype("float32")
    model = NearestNeighborClassifier(
        identity_encoder(6),
        k=7,
        metric=metric,
        weighting=weighting,
        reference_chunk_size=16,  # several chunks, the last one padded
    )
    model.fit_index(references, labels, batch_size=16)
    assert model.num_classes == 4 and model.index_size == 40
    expected = numpy_knn(queries, references, labels, 7, metric, weighting, 4)
    got = model.predict(queries, batch_size=4, verbose=0)  # partial batch
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(queries)), expected, atol=1e-5
    )


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("weighting", ["uniform", "distance"])
@pytest.mark.slow
def test_matches_scikit_learn_on_digits(digits, metric, weighting):
    x_ref, y_ref, x_test, _ = digits
    model = NearestNeighborClassifier(
        identity_encoder(64), k=5, metric=metric, weighting=weighting
    )
    model.fit_index(x_ref, y_ref)
    peer = KNeighborsClassifier(
        5, algorithm="brute", metric=metric, weights=weighting
    ).fit(x_ref, y_ref)
    got = model.predict(x_test, batch_size=64, verbose=0)
    np.testing.assert_allclose(got, peer.predict_proba(x_test), atol=1e-5)
    np.testing.assert_array_equal(got.argmax(-1), peer.predict(x_test))


def test_evaluate_accuracy_on_digits(digits):
    x_ref, y_ref, x_test, y_test = digits
    model = NearestNeighborClassifier(identity_encoder(64), k=5)
    model.fit_index(x_ref, y_ref)
    model.compile(
        loss="sparse_categorical_crossentropy",
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
    )
    result = model.evaluate(
        x_test, y_test, batch_size=64, verbose=0, return_dict=True
    )
    assert result["sparse_categorical_accuracy"] > 0.9


def test_distance_weighting_exact_match_votes_alone():
    references = np.array([[1.0, 0.0], [1.1, 0.0], [1.2, 0.0]], "float32")
    model = NearestNeighborClassifier(
        identity_encoder(2), k=3, metric="euclidean", weighting="distance"
    )
    model.fit_index(references, [2, 0, 0])
    probabilities = model.predict(references[:1], verbose=0)
    np.testing.assert_array_equal(probabilities, [[0.0, 0.0, 1.0]])


@pytest.mark.slow
def test_save_load_safe_mode_keeps_index(tmp_path):
    rng = np.random.default_rng(1)
    references = rng.normal(size=(20, 5)).astype("float32")
    labels = rng.integers(0, 3, size=20)
    queries = rng.normal(size=(6, 5)).astype("float32")
    encoder = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)])
    model = NearestNeighborClassifier(
        encoder, k=3, metric="euclidean", weighting="distance"
    )
    model.fit_index(references, labels)
    path = os.path.join(tmp_path, "knn.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(reloaded, NearestNeighborClassifier)
    assert reloaded.num_classes == 3 and reloaded.index_size == 20
    assert not reloaded.encoder.trainable
    np.testing.assert_array_equal(
        reloaded.predict(queries, verbose=0), model.predict(queries, verbose=0)
    )

    # A weights file fills the index of a new, empty classifier.
    weights = os.path.join(tmp_path, "knn.weights.h5")
    model.save_weights(weights)
    empty = NearestNeighborClassifier(
        keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)]),
        k=3,
        metric="euclidean",
        weighting="distance",
        num_classes=3,
    )
    empty.load_weights(weights)
    np.testing.assert_array_equal(
        empty.predict(queries, verbose=0), model.predict(queries, verbose=0)
    )

    def build():
        fresh = NearestNeighborClassifier(
            keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)]), k=3
        )
        fresh.fit_index(references, labels)
        return fresh

    check_model(
        build,
        queries,
        labels[:6],
        loss="sparse_categorical_crossentropy",
        only=["keras_file", "checkpoint"],
    )


@pytest.mark.slow
def test_frozen_encoder_and_refit_replaces_index():
    encoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model = NearestNeighborClassifier(encoder, k=1, metric="euclidean")
    assert not encoder.trainable
    with pytest.raises(ValueError, match="empty index"):
        model.predict(np.zeros((1, 2), "float32"), verbose=0)
    with pytest.raises(ValueError, match="empty index"):
        model(np.zeros((1, 2), "float32"))
    points = np.eye(2, dtype="float32")
    model.fit_index(points, [0, 1])
    query = points[:1]
    assert model.predict(query, verbose=0).argmax() == 0
    assert model.trainable_weights == []
    assert len(model.non_trainable_weights) == 2 + len(encoder.weights)
    # A new index of another size replaces the old one, compiled steps too.
    model.fit_index(np.concatenate([points, points]), [1, 0, 1, 0])
    assert model.index_size == 4
    assert len(model.non_trainable_weights) == 2 + len(encoder.weights)
    assert model.predict(query, verbose=0).argmax() == 1


def test_bad_arguments():
    encoder = identity_encoder(2)
    with pytest.raises(ValueError, match="weighting"):
        NearestNeighborClassifier(encoder, metric="dot", weighting="distance")
    with pytest.raises(ValueError, match="metric"):
        NearestNeighborClassifier(encoder, metric="manhattan")
    with pytest.raises(TypeError, match="encoder"):
        NearestNeighborClassifier("encoder")
    model = NearestNeighborClassifier(encoder, k=3, num_classes=2)
    x = np.ones((4, 2), "float32")
    with pytest.raises(ValueError, match="k=3"):
        model.fit_index(x[:2], [0, 1])
    with pytest.raises(ValueError, match="y"):
        model.fit_index(x, [0, 1, 2, 1])  # label 2 with num_classes=2
    with pytest.raises(ValueError, match="y"):
        model.fit_index(x, [0, 1, 1])
    with pytest.raises(ValueError, match="batch_size"):
        model.fit_index(x, [0, 1, 1, 0], batch_size=0)


def test_mixed_precision_keeps_a_float32_index():
    references = np.array(
        [[0, 0], [0, 1], [1, 0], [5, 5], [5, 6], [6, 5]], "float32"
    )
    labels = np.array([0, 0, 1, 1, 1, 0])
    queries = np.array([[0.2, 0.3], [5.5, 5.0]], "float32")
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        model = NearestNeighborClassifier(
            identity_encoder(2), k=3, metric="euclidean", weighting="distance"
        )
        model.fit_index(references, labels)
        got = model.predict(queries, verbose=0)
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    assert model.reference_embeddings.dtype == "float32"
    assert got.dtype == np.float32
    expected = numpy_knn(
        queries, references, labels, 3, "euclidean", "distance", 2
    )
    np.testing.assert_allclose(got, expected, atol=2e-3)
