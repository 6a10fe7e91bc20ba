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
