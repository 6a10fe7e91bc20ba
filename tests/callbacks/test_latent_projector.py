import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from support.tensorboard_events import read_events
from tensorboard.plugins import projector

from keras_dlparts.callbacks.latent_projector import TENSOR_NAME
from keras_dlparts.callbacks.latent_projector import LatentSpaceProjector
from keras_dlparts.data import load_digits


@pytest.mark.slow
def test_writes_checkpoint_metadata_and_config(tmp_path):
    keras.utils.set_random_seed(0)
    (x, y), _ = load_digits(as_images=False)
    x, y = x[:100], y[:100]
    model = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dense(3, name="code"),
            keras.layers.Dense(10),
        ]
    )
    model.compile("adam", "sparse_categorical_crossentropy", run_eagerly=True)
    names = [f"digit {i}" for i in range(10)]
    log_dir = str(tmp_path)
    callback = LatentSpaceProjector(
        log_dir,
        x[:40],
        labels=y[:40],
        layer_name="code",
        class_names=names,
        every_n_epochs=1,
    )
    model.fit(x, y, epochs=2, batch_size=50, verbose=0, callbacks=[callback])
    # The latest checkpoint holds the encoder outputs after training.
    encoder = keras.Model(model.inputs, model.get_layer("code").output)
    expected = np.asarray(encoder(x[:40]))
    checkpoint = tf.train.latest_checkpoint(log_dir)
    assert checkpoint.endswith("embedding.ckpt-2")  # epochs 1 and 2; no repeat
    stored = tf.train.load_checkpoint(checkpoint).get_tensor(TENSOR_NAME)
    np.testing.assert_allclose(stored, expected, atol=1e-6)
    with open(os.path.join(log_dir, "metadata.tsv")) as f:
        assert f.read().splitlines() == [f"digit {label}" for label in y[:40]]
    config = projector.ProjectorConfig()
    with open(os.path.join(log_dir, "projector_config.pbtxt")) as f:
        text_format.Parse(f.read(), config)
    assert config.embeddings[0].tensor_name == TENSOR_NAME
    assert config.embeddings[0].metadata_path == "metadata.tsv"
    info = read_events(log_dir)["latent_space/info"]
    assert [s for s, _ in info] == [1, 2]
    assert b"40 points of dimension 3" in info[-1][1].item()


def test_model_output_without_labels(tmp_path):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)])
    data = np.random.default_rng(0).normal(size=(7, 5)).astype("float32")
    callback = LatentSpaceProjector(str(tmp_path), data)
    callback.set_model(model)
    values = callback.write(step=0)
    np.testing.assert_allclose(values, np.asarray(model(data)), atol=1e-6)
    assert not os.path.exists(os.path.join(str(tmp_path), "metadata.tsv"))


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="labels"):
        LatentSpaceProjector(str(tmp_path), np.ones((4, 2)), labels=[0, 1])
    with pytest.raises(ValueError, match="every_n_epochs"):
        LatentSpaceProjector(str(tmp_path), np.ones((4, 2)), every_n_epochs=0)


def _model():
    return keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(2, name="code")]
    )


DATA = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
LABELS = np.array([0, 1, 2, 0, 1, 2])


def _fit(model, callback, epochs=3):
    model.compile("sgd", "mse")
    model.fit(
        DATA,
        np.zeros((6, 2)),
        epochs=epochs,
        batch_size=3,
        verbose=0,
        callbacks=[callback],
    )


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        # data=None used to fail only at the end of training.
        ({"data": None}, TypeError, "data"),
        ({"data": np.ones((0, 4))}, ValueError, "data"),
        # A too short class_names used to raise IndexError after training.
        (
            {"labels": LABELS, "class_names": ["a", "b"]},
            ValueError,
            "class_names",
        ),
        (
            {"labels": None, "class_names": ["a", "b", "c"]},
            ValueError,
            "class_names",
        ),
        (
            {"labels": LABELS - 1, "class_names": ["a", "b", "c"]},
            ValueError,
            "labels",
        ),
        (
            {"labels": LABELS + 0.5, "class_names": ["a", "b", "c"]},
            ValueError,
            "labels",
        ),
        ({"class_names": "abc", "labels": LABELS}, TypeError, "class_names"),
        ({"layer_name": 3}, TypeError, "layer_name"),
        ({"every_n_epochs": 1.5}, TypeError, "every_n_epochs"),
        ({"max_to_keep": 0}, ValueError, "max_to_keep"),
        ({"overwrite": None}, TypeError, "overwrite"),
        ({"log_dir": None}, TypeError, "log_dir"),
    ],
)
def test_bad_arguments_refused_at_construction(kwargs, error, name, tmp_path):
    with pytest.raises(error, match=name):
        LatentSpaceProjector(
            **{"log_dir": str(tmp_path), "data": DATA, **kwargs}
        )


def _checkpoints(log_dir):
    return sorted(
        f for f in os.listdir(log_dir) if f.startswith("embedding.ckpt")
    )


@pytest.mark.parametrize("max_to_keep, kept", [(1, [3]), (2, [2, 3])])
def test_keeps_the_latest_checkpoints(max_to_keep, kept, tmp_path):
    log_dir = tmp_path / "logs"
    callback = LatentSpaceProjector(
        str(log_dir), DATA, LABELS, every_n_epochs=1, max_to_keep=max_to_keep
    )
    _fit(_model(), callback)
    assert _checkpoints(log_dir) == sorted(
        f"embedding.ckpt-{step}{ext}"
        for step in kept
        for ext in (".index", ".data-00000-of-00001")
    )
    state = tf.train.get_checkpoint_state(str(log_dir))
    assert state.model_checkpoint_path.endswith("embedding.ckpt-3")
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        f"embedding.ckpt-{step}" for step in kept
    ]
    assert os.listdir(tmp_path) == ["logs"]  # nothing outside log_dir


def test_never_replaces_files_of_another_run(tmp_path):
    log_dir = str(tmp_path)
    model = _model()
    first = LatentSpaceProjector(log_dir, DATA, LABELS, every_n_epochs=1)
    _fit(model, first)
    _fit(model, first, epochs=1)  # its own files: replaced without a word
    metadata = os.path.join(log_dir, "metadata.tsv")
    with open(metadata, "w") as f:
        f.write("mine\n")
    weights = [w.numpy().copy() for w in model.weights]
    second = LatentSpaceProjector(log_dir, DATA, LABELS, every_n_epochs=1)
    with pytest.raises(FileExistsError, match=r"metadata\.tsv.*overwrite=True"):
        _fit(model, second)
    for old, new in zip(weights, model.weights):
        np.testing.assert_array_equal(
            old, new.numpy()
        )  # refused before training
    with open(metadata) as f:
        assert f.read() == "mine\n"
    # Also when writing by hand, and for the config and checkpoints.
    os.remove(metadata)
    second.set_model(model)
    with pytest.raises(FileExistsError, match="projector_config.pbtxt"):
        second.write(step=0)
    # overwrite=True replaces the files, and deletes only its own checkpoints.
    with open(os.path.join(log_dir, "embedding.ckpt-7.index"), "w") as f:
        f.write("someone else's")
    third = LatentSpaceProjector(
        log_dir, DATA, LABELS, every_n_epochs=1, overwrite=True
    )
    _fit(model, third, epochs=2)
    assert _checkpoints(log_dir) == [
        "embedding.ckpt-2.data-00000-of-00001",
        "embedding.ckpt-2.index",
        "embedding.ckpt-7.index",
    ]
    with open(metadata) as f:
        assert f.read().splitlines() == [str(label) for label in LABELS]
