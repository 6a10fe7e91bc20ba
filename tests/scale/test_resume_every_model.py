"""Every model class of `keras_dlparts.models`, killed with SIGKILL mid-epoch
and resumed with `keras.callbacks.BackupAndRestore`, ends bit-identical to
an uninterrupted run: weights, optimizer state and random seed states."""

import inspect
import json
import pathlib
import select
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_dlparts import models
from keras_dlparts.models._resume import seed_states

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from resume_worker import EPOCHS  # noqa: E402
from resume_worker import MODELS  # noqa: E402
from resume_worker import EpochLog  # noqa: E402
from resume_worker import train  # noqa: E402

WORKER = pathlib.Path(__file__).with_name("resume_worker.py")
KILL_EPOCH, KILL_BATCH = 1, 1


def test_every_model_class_is_covered():
    classes = {
        name
        for name, obj in vars(models).items()
        if inspect.isclass(obj) and issubclass(obj, keras.Model)
    }
    assert classes == set(MODELS)


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.slow
def test_backup_and_restore_accepts_every_model(name, tmp_path):
    """No "model must be built before you call fit()": built at construction
    (or, for a model sized by its data, by `fit` before any callback)."""
    keras.utils.set_random_seed(0)
    model, data = MODELS[name]()
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    model.fit(
        *data, epochs=1, batch_size=len(data[0]), callbacks=[backup], verbose=0
    )
    assert model.built


def _small_gan(seed=0):
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    discriminator = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dropout(0.5), keras.layers.Dense(1)]
    )
    return models.GAN(generator, discriminator, latent_dim=2, seed=seed)


def _states(model):
    return [
        np.asarray(keras.ops.convert_to_numpy(v)) for v in seed_states(model)
    ]


def test_networks_built_at_construction():
    assert _small_gan().built
    assert not models.SiameseNetwork(
        keras.layers.Dense(3)
    ).built  # input size unknown


def test_seed_states_are_saved_with_the_weights(tmp_path):
    model = _small_gan()
    assert len(seed_states(model)) == 2  # the GAN's codes and the Dropout
    keras.random.normal((2,), seed=model.seed_generator)
    saved = _states(model)
    model.save_weights(tmp_path / "gan.weights.h5")
    keras.random.normal((2,), seed=model.seed_generator)
    assert not np.array_equal(_states(model)[0], saved[0])
    model.load_weights(tmp_path / "gan.weights.h5")
    for got, want in zip(_states(model), saved):
        np.testing.assert_array_equal(got, want)


def test_a_file_without_seed_states_still_loads(tmp_path):
    import h5py

    model = _small_gan()
    path = tmp_path / "gan.weights.h5"
    model.save_weights(path)
    with h5py.File(path, "r+") as f:
        own = f["vars"]
        keys = [k for k in own if k.startswith("seed_state_")]
        assert len(keys) == 2
        for key in keys:
            del own[key]
    fresh = _small_gan(seed=1)
    before = _states(fresh)
    fresh.load_weights(path)
    for got, want in zip(fresh.weights, model.weights):
        np.testing.assert_array_equal(
            keras.ops.convert_to_numpy(got), keras.ops.convert_to_numpy(want)
        )
    for got, want in zip(_states(fresh), before):  # left as they were
        np.testing.assert_array_equal(got, want)


def test_a_file_with_other_seed_states_is_refused(tmp_path):
    model = _small_gan()
    path = tmp_path / "gan.weights.h5"
    model.save_weights(path)
    generator = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    discriminator = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    other = models.GAN(generator, discriminator, latent_dim=2)  # no Dropout
    with pytest.raises(ValueError, match="random seed states"):
        other.load_weights(path)


@pytest.fixture(scope="module")
def kill_run(tmp_path_factory):
    """`kill_run(name, tmp_path) -> (returncode, stderr)`: a process that
    trains `name` with BackupAndRestore into tmp_path / "backup" dies by
    SIGKILL mid-epoch. One worker imports Keras for all of them and forks
    each from that import (see resume_worker.py)."""
    stderr = tmp_path_factory.mktemp("resume_worker") / "stderr.txt"
    with open(stderr, "w") as err:
        worker = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )

    def run(name, tmp_path):
        request = {
            "model": name,
            "backup_dir": str(tmp_path / "backup"),
            "log": str(tmp_path / "epochs.log"),
            "kill_epoch": KILL_EPOCH,
            "kill_batch": KILL_BATCH,
        }
        worker.stdin.write(json.dumps(request) + "\n")
        worker.stdin.flush()
        ready, _, _ = select.select([worker.stdout], [], [], 300)
        reply = worker.stdout.readline() if ready else ""
        tail = stderr.read_text()[-3000:]
        assert reply, f"no answer from the worker: {tail}"
        return json.loads(reply)["returncode"], tail

    yield run
    worker.stdin.close()
    worker.wait(timeout=60)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
def test_sigkill_then_resume_is_bit_identical(name, tmp_path, kill_run):
    returncode, stderr = kill_run(name, tmp_path)
    assert returncode == -signal.SIGKILL, stderr
    assert (tmp_path / "backup" / "latest.weights.h5").exists()

    # The resumed run and the uninterrupted reference run in this process
    # (a process that never trained this model): a second worker would only
    # add a Python, Keras and backend start.
    got = train(
        name,
        [
            keras.callbacks.BackupAndRestore(str(tmp_path / "backup")),
            EpochLog(str(tmp_path / "epochs.log")),
        ],
    )
    epochs = [
        int(line) for line in (tmp_path / "epochs.log").read_text().split()
    ]
    assert epochs == list(range(EPOCHS))  # epoch 1 died half way, resumed there

    want = train(name, [])
    assert sorted(got) == sorted(want)
    assert any("seed" in key for key in want) or name in NO_RANDOMNESS
    for key in want:
        np.testing.assert_array_equal(got[key], want[key], err_msg=key)


# Models whose training draws no random numbers (no SeedGenerator).
# CycleGAN and SRGAN translate their inputs: no latent noise to draw.
NO_RANDOMNESS = {
    "SiameseNetwork",
    "DualEncoder",
    "SOM",
    "PerceptronClassifier",
    "CycleGAN",
    "SRGAN",
}
