"""Tests of keras_dlparts.callbacks.ImageSampleLogger."""

import io
import os

import keras
import numpy as np
import pytest
from PIL import Image
from support.tensorboard_events import read_events

from keras_dlparts.callbacks import ImageSampleLogger
from keras_dlparts.callbacks.image_samples import image_grid
from keras_dlparts.models import VAE
from keras_dlparts.models import ConditionalGAN
from keras_dlparts.models import build_dcgan_discriminator
from keras_dlparts.models import build_dcgan_generator

X = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")


def _vae():
    inputs = keras.Input((8, 8, 1))
    flat = keras.layers.Flatten()(inputs)
    encoder = keras.Model(
        inputs, [keras.layers.Dense(2)(flat), keras.layers.Dense(2)(flat)]
    )
    codes = keras.Input((2,))
    out = keras.layers.Dense(64, activation="sigmoid")(codes)
    decoder = keras.Model(codes, keras.layers.Reshape((8, 8, 1))(out))
    vae = VAE(encoder, decoder, seed=0)
    vae.compile(optimizer="adam")
    return vae


def _decode_event(image_event):
    png = image_event[2]  # [width, height, png, ...]
    return np.asarray(Image.open(io.BytesIO(png)), "float32") / 255.0


def test_grid_layout_against_numpy():
    images = np.arange(5 * 2 * 3, dtype="float32").reshape(5, 2, 3, 1) / 30.0
    grid = image_grid(images, columns=3, scale=2)
    assert grid.shape == (2 * 2 * 2, 3 * 3 * 2, 1)
    # Image 4 sits in row 1, column 1; each pixel is a 2x2 block.
    np.testing.assert_allclose(grid[4:8:2, 6:12:2, 0], images[4, :, :, 0])
    np.testing.assert_array_equal(grid[4:, 12:], 0.0)  # the empty cell
    signed = image_grid(
        np.array([[[[-1.0, 0.0, 1.0]]]]).reshape(1, 1, 3, 1),
        value_range=(-1.0, 1.0),
    )
    np.testing.assert_allclose(signed[0, :, 0], [0.0, 0.5, 1.0])
    padded = image_grid(np.ones((4, 2, 2, 1)), columns=2, padding=1)
    assert padded.shape == (5, 5, 1)
    np.testing.assert_array_equal(padded[2, :, 0], 0.5)  # the grey gaps
    np.testing.assert_array_equal(padded[:, 2, 0], 0.5)
    np.testing.assert_array_equal(padded[3:, 3:, 0], 1.0)


@pytest.mark.slow
def test_writes_event_images_and_pngs_every_n_epochs(tmp_path):
    log_dir, png_dir = str(tmp_path / "logs"), str(tmp_path / "png")
    vae = _vae()
    logger = ImageSampleLogger(
        log_dir,
        every_n_epochs=2,
        num_samples=6,
        seed=3,
        png_dir=png_dir,
        scale=2,
        padding=1,
    )
    vae.fit(X, epochs=4, batch_size=8, verbose=0, callbacks=[logger])
    events = read_events(log_dir)["samples"]
    assert [step for step, _ in events] == [2, 4]
    assert sorted(os.listdir(png_dir)) == [
        "samples_epoch_0002.png",
        "samples_epoch_0004.png",
    ]
    # The last grid is the decoder's output on the seeded codes, tiled.
    expected = image_grid(
        np.asarray(vae.generate(6, seed=3)), None, 2, padding=1
    )
    np.testing.assert_allclose(logger.last_grid, expected, atol=1e-6)
    from_event = _decode_event(events[-1][1])
    assert from_event.shape == expected.shape[:2]  # 3 columns x 2 rows
    np.testing.assert_allclose(from_event, expected[..., 0], atol=1 / 255)
    png = np.asarray(
        Image.open(os.path.join(png_dir, "samples_epoch_0004.png")), "float32"
    )
    np.testing.assert_allclose(png / 255.0, expected[..., 0], atol=1 / 255)


@pytest.mark.slow
def test_conditional_models_get_labels(tmp_path):
    gan = ConditionalGAN(
        build_dcgan_generator(4, (8, 8, 1), filters=(4,), num_classes=3),
        build_dcgan_discriminator((8, 8, 1), filters=(4,), num_classes=3),
        latent_dim=4,
        num_classes=3,
    )
    logger = ImageSampleLogger(
        str(tmp_path), num_samples=6, seed=1, scale=1, padding=0
    )
    logger.set_model(gan)
    grid = logger.log(step=7)
    assert grid.shape == (16, 24, 1)  # num_classes columns
    expected = gan.generate(6, seed=1, labels=[0, 1, 2, 0, 1, 2])
    np.testing.assert_allclose(grid, image_grid(expected, 3), atol=1e-6)
    fixed = ImageSampleLogger(
        str(tmp_path),
        num_samples=3,
        seed=1,
        labels=[2, 2, 2],
        scale=1,
        padding=0,
    )
    fixed.set_model(gan)
    expected = gan.generate(3, seed=1, labels=[2, 2, 2])
    np.testing.assert_allclose(fixed.log(1), image_grid(expected, 3), atol=1e-6)
    # Two writers, two event files: their order on disk is not the order
    # of writing (TensorFlow numbers the files with a process-wide counter).
    steps = [s for s, _ in read_events(str(tmp_path))["samples"]]
    assert sorted(steps) == [1, 7]


def test_bad_arguments_and_models(tmp_path):
    with pytest.raises(ValueError, match="every_n_epochs"):
        ImageSampleLogger(str(tmp_path), every_n_epochs=0)
    with pytest.raises(ValueError, match="labels"):
        ImageSampleLogger(str(tmp_path), num_samples=4, labels=[1, 2])
    with pytest.raises(ValueError, match="value_range"):
        ImageSampleLogger(str(tmp_path), value_range=(1.0, 0.0))
    with pytest.raises(ValueError, match="padding"):
        ImageSampleLogger(str(tmp_path), padding=-1)
    with pytest.raises(TypeError, match="seed"):
        ImageSampleLogger(str(tmp_path), seed=None)
    logger = ImageSampleLogger(str(tmp_path))
    logger.set_model(
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    )
    with pytest.raises(ValueError, match="generate"):
        logger.log(step=1)


class _Gray(keras.Model):
    """A model with `generate`: grey images, no weights, no training."""

    def generate(self, n, seed=None):
        return np.full((n, 2, 2, 1), 0.5, "float32")


def _files_under(path):
    return sorted(
        os.path.relpath(os.path.join(root, f), path)
        for root, _, files in os.walk(path)
        for f in files
    )


@pytest.mark.parametrize(
    "tag, png_name",
    [
        # Used to abort `fit` with FileNotFoundError (no folder "gan").
        ("gan/samples", "gan_samples_epoch_0001.png"),
        # Used to write outside png_dir.
        ("../x", "__x_epoch_0001.png"),
        ("/tmp/abs", "_tmp_abs_epoch_0001.png"),
        (".hidden", "_hidden_epoch_0001.png"),
    ],
)
def test_tags_become_safe_file_names_inside_png_dir(tag, png_name, tmp_path):
    log_dir, png_dir = tmp_path / "run" / "logs", tmp_path / "run" / "png"
    logger = ImageSampleLogger(log_dir, num_samples=2, png_dir=png_dir, tag=tag)
    logger.set_model(_Gray())
    logger.on_train_begin()
    logger.on_epoch_end(0)
    logger.on_train_end()
    assert os.listdir(png_dir) == [png_name]
    assert list(read_events(str(log_dir))) == [tag]  # TensorBoard keeps the tag
    # Nothing outside the two directories the user gave.
    outside = [f for f in _files_under(tmp_path) if not f.startswith("run")]
    assert outside == []


@pytest.mark.slow
def test_nested_tag_in_fit(tmp_path):
    png_dir = tmp_path / "png"
    logger = ImageSampleLogger(
        str(tmp_path / "logs"),
        num_samples=4,
        seed=1,
        png_dir=str(png_dir),
        tag="vae/samples",
    )
    _vae().fit(X, epochs=1, batch_size=8, verbose=0, callbacks=[logger])
    assert os.listdir(png_dir) == ["vae_samples_epoch_0001.png"]


@pytest.mark.slow
def test_never_replaces_pngs_of_another_run(tmp_path):
    png_dir = tmp_path / "png"
    vae = _vae()

    def fit(**kwargs):
        logger = ImageSampleLogger(
            str(tmp_path / "logs"),
            num_samples=4,
            png_dir=str(png_dir),
            **kwargs,
        )
        vae.fit(X, epochs=1, batch_size=8, verbose=0, callbacks=[logger])
        return logger

    logger = fit()
    first = (png_dir / "samples_epoch_0001.png").read_bytes()
    # The same callback may replace its own files in a later `fit`.
    vae.fit(X, epochs=1, batch_size=8, verbose=0, callbacks=[logger])
    # A new run refuses before training, naming the file and the argument.
    weights = [w.numpy().copy() for w in vae.weights]
    refused = r"samples_epoch_0001\.png.*overwrite=True"
    with pytest.raises(FileExistsError, match=refused):
        fit()
    for old, new in zip(weights, vae.weights):
        np.testing.assert_array_equal(old, new.numpy())
    (png_dir / "samples_epoch_0001.png").write_bytes(first)
    fit(tag="other")  # other names: no conflict
    fit(overwrite=True)
    assert sorted(os.listdir(png_dir)) == [
        "other_epoch_0001.png",
        "samples_epoch_0001.png",
    ]
    assert (png_dir / "samples_epoch_0001.png").read_bytes() != first


def test_labels_checked_against_the_model_before_training(tmp_path):
    gan = ConditionalGAN(
        build_dcgan_generator(4, (8, 8, 1), filters=(4,), num_classes=3),
        build_dcgan_discriminator((8, 8, 1), filters=(4,), num_classes=3),
        latent_dim=4,
        num_classes=3,
    )
    logger = ImageSampleLogger(str(tmp_path), num_samples=2, labels=[0, 3])
    logger.set_model(gan)
    with pytest.raises(ValueError, match="labels.*num_classes=3"):
        logger.on_train_begin()
    logger = ImageSampleLogger(str(tmp_path))
    logger.set_model(
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    )
    with pytest.raises(ValueError, match="generate"):
        logger.on_train_begin()


@pytest.mark.parametrize(
    "kwargs, error, name",
    [
        ({"tag": ""}, ValueError, "tag"),
        ({"tag": None}, TypeError, "tag"),
        ({"png_dir": 3}, TypeError, "png_dir"),
        ({"labels": [-1, 0], "num_samples": 2}, ValueError, "labels"),
        ({"labels": [0.5, 1.0], "num_samples": 2}, ValueError, "labels"),
        ({"labels": ["a", "b"], "num_samples": 2}, TypeError, "labels"),
        ({"value_range": (0.0, float("nan"))}, ValueError, "value_range"),
        ({"value_range": "x"}, TypeError, "value_range"),
        ({"padding": 1.5}, TypeError, "padding"),
        ({"columns": 0}, ValueError, "columns"),
        ({"overwrite": "yes"}, TypeError, "overwrite"),
        ({"log_dir": None}, TypeError, "log_dir"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, error, name, tmp_path):
    with pytest.raises(error, match=name):
        ImageSampleLogger(**{"log_dir": str(tmp_path), **kwargs})
