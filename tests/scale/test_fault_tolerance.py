"""A training process killed with SIGKILL mid-epoch resumes from its last
saved epoch with `keras.callbacks.BackupAndRestore` and runs exactly the
planned number of epochs; a half-written checkpoint is never used. The
killed run is a subprocess; the resumed one runs in the test's process,
which never trained (a second subprocess would only add a Python, Keras
and backend start)."""

import json
import pathlib
import signal
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from backup_worker import train  # noqa: E402

WORKER = pathlib.Path(__file__).with_name("backup_worker.py")
EPOCHS = 5


def run_worker(backup_dir, log, **kill):
    args = [
        sys.executable,
        str(WORKER),
        "--backup-dir",
        str(backup_dir),
        "--log",
        str(log),
    ]
    for key, value in kill.items():
        args += [f"--{key.replace('_', '-')}", str(value)]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def logged_epochs(log):
    return [int(line.split()[0]) for line in log.read_text().splitlines()]


def logged_losses(log):
    return [float(line.split()[1]) for line in log.read_text().splitlines()]


def assert_complete_backup(backup_dir, epoch):
    """The backup holds whole files only: readable metadata, loadable
    weights."""
    names = sorted(p.name for p in backup_dir.iterdir())
    assert "latest.weights.h5" in names and "training_metadata.json" in names, (
        names
    )
    assert not [n for n in names if n.endswith((".tmp", ".partial"))], names
    metadata = json.loads((backup_dir / "training_metadata.json").read_text())
    assert metadata["epoch"] == epoch
    import h5py

    with h5py.File(backup_dir / "latest.weights.h5", "r") as weights:
        assert len(weights.keys()) > 0


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume(tmp_path):
    backup, log = tmp_path / "backup", tmp_path / "epochs.log"
    killed = run_worker(backup, log, kill_epoch=2, kill_batch=10)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert logged_epochs(log) == [0, 1]  # epoch 2 died half way
    assert_complete_backup(backup, epoch=2)

    train(str(backup), str(log))  # resumed by a process that never trained
    assert logged_epochs(log) == [
        0,
        1,
        2,
        3,
        4,
    ]  # resumed at 2, same epoch count
    losses = logged_losses(log)
    assert (
        losses[2] < losses[0]
    )  # resumed from trained weights, not from scratch
    assert not backup.exists()  # BackupAndRestore deletes its backup on success


@pytest.mark.slow
def test_half_written_checkpoint_falls_back_to_the_previous_one(tmp_path):
    backup, log = tmp_path / "backup", tmp_path / "epochs.log"
    killed = run_worker(backup, log, kill_epoch=3, kill_batch=5)
    assert killed.returncode == -signal.SIGKILL
    # Simulate a crash during the save: the newest weights file is cut short.
    latest = backup / "latest.weights.h5"
    latest.write_bytes(latest.read_bytes()[:100])
    train(str(backup), str(log))
    # The previous checkpoint (end of epoch 2) was used: epoch 2 runs again.
    assert logged_epochs(log) == [0, 1, 2, 2, 3, 4]
