"""A training process for the fault-tolerance test (run as a subprocess;
the test resumes it in its own process with `train`).

Trains a digits classifier built from keras_dlparts parts for EPOCHS epochs
with `keras.callbacks.BackupAndRestore`. With `--kill-epoch E --kill-batch B`
it SIGKILLs itself in the middle of epoch E, as a crash would. Each epoch it
finishes is appended to `--log` as "epoch loss".
"""

import argparse
import os
import signal

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402

from keras_dlparts.data import load_digits  # noqa: E402
from keras_dlparts.models import build_mlp  # noqa: E402

EPOCHS = 5


class KillMidEpoch(keras.callbacks.Callback):
    def __init__(self, epoch, batch):
        super().__init__()
        self.kill_epoch, self.kill_batch, self.epoch = epoch, batch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.kill_epoch and batch == self.kill_batch:
            os.kill(os.getpid(), signal.SIGKILL)


class EpochLog(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        with open(self.path, "a") as f:
            f.write(f"{epoch} {logs['loss']:.6f}\n")


def train(backup_dir, log, kill_epoch=-1, kill_batch=-1):
    """EPOCHS epochs of a digits MLP with `BackupAndRestore` (resuming from
    `backup_dir` if it holds a backup), killed mid-epoch `kill_epoch`."""
    keras.utils.set_random_seed(0)
    (x, y), _ = load_digits(as_images=False)
    model = build_mlp(
        (64,), hidden_units=(32,), num_outputs=10, output_activation="softmax"
    )
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    callbacks = [
        keras.callbacks.BackupAndRestore(backup_dir, double_checkpoint=True),
        EpochLog(log),
        KillMidEpoch(kill_epoch, kill_batch),
    ]
    model.fit(
        x,
        y,
        epochs=EPOCHS,
        batch_size=64,
        shuffle=False,
        callbacks=callbacks,
        verbose=0,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--backup-dir", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--kill-epoch", type=int, default=-1)
    parser.add_argument("--kill-batch", type=int, default=-1)
    args = parser.parse_args()
    train(args.backup_dir, args.log, args.kill_epoch, args.kill_batch)


if __name__ == "__main__":
    main()
