"""Every model class of `keras_dlparts.models`, killed with SIGKILL mid-epoch
and resumed with `keras.callbacks.BackupAndRestore`, ends bit-identical to
an uninterrupted run: weights, optimizer state and random seed states."""

import inspect
import pathlib
import signal
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_dlparts import models

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from resume_worker import EPOCHS  # noqa: E402
from resume_worker import MODELS  # noqa: E402

WORKER = pathlib.Path(__file__).with_name("resume_worker.py")
KILL_EPOCH, KILL_BATCH = 1, 1


def test_every_model_class_is_covered():
    classes = {
        name
        for name, obj in vars(models).items()
        if inspect.isclass(obj) and issubclass(obj, keras.Model)
    }
    assert classes == set(MODELS)


def run_worker(name, tmp_path, **kill):
    args = [sys.executable, str(WORKER), "--model", name, "--backup-dir", str(tmp_path / "backup")]
    args += ["--log", str(tmp_path / "epochs.log")]
    args += ["--out", str(tmp_path / "resumed.npz"), "--reference", str(tmp_path / "reference.npz")]
    for key, value in kill.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(MODELS))
def test_sigkill_then_resume_is_bit_identical(name, tmp_path):
    killed = run_worker(name, tmp_path, kill_epoch=KILL_EPOCH, kill_batch=KILL_BATCH)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert (tmp_path / "backup" / "latest.weights.h5").exists()

    resumed = run_worker(name, tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    epochs = [int(line) for line in (tmp_path / "epochs.log").read_text().split()]
    assert epochs == list(range(EPOCHS))  # epoch 1 died half way, resumed there

    with np.load(tmp_path / "resumed.npz") as got, np.load(tmp_path / "reference.npz") as want:
        assert sorted(got.files) == sorted(want.files)
        assert any("seed" in key for key in want.files) or name in NO_RANDOMNESS
        for key in want.files:
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)


# Models whose training draws no random numbers (no SeedGenerator).
NO_RANDOMNESS = {"SiameseNetwork", "DualEncoder", "SOM", "PerceptronClassifier"}
