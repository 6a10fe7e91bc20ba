"""Random search, Hyperband and Bayesian optimisation of an MLP on the 8x8 digits.

Tunes `keras_dlparts.tuning.MLPHyperModel` (depth, width, dropout, L2
strength, optimizer, learning rate, momentum, batch size) with each of
KerasTuner's three tuners for a few trials, keeping a fifth of the training
split for validation, then scores each tuner's best model on the test split.
Every trial is logged to TensorBoard's HParams dashboard: passing a
`keras.callbacks.TensorBoard` to `tuner.search` makes KerasTuner give each
trial its own log directory and write the trial's hyperparameters there
with `tensorboard.plugins.hparams.api.KerasCallback`.

Usage: python examples/tuning_digits.py [--trials 6] [--epochs 9]
(a few minutes on a 2-core CPU). Then: tensorboard --logdir logs/tuning_digits
and open the HPARAMS tab.
"""

import argparse
import os
import time
import warnings

import keras
import keras_tuner

from keras_dlparts.data import load_digits
from keras_dlparts.tuning import Choice
from keras_dlparts.tuning import Int
from keras_dlparts.tuning import MLPHyperModel

TUNERS = ("random", "hyperband", "bayesian")

#: Updates of MLPHyperModel's default ranges, small enough for a quick run.
SEARCH_SPACE = {
    "depth": Int(1, 2),
    "width": Int(32, 128, step=32),
    "batch_norm": None,
    "batch_size": Choice([32, 64]),
}


def make_tuner(kind, hypermodel, trials, epochs, directory):
    """The KerasTuner tuner named `kind`, maximising validation accuracy."""
    common = dict(
        objective="val_accuracy",
        directory=directory,
        project_name=kind,
        overwrite=True,
        seed=0,
    )
    if kind == "random":
        return keras_tuner.RandomSearch(hypermodel, max_trials=trials, **common)
    if kind == "bayesian":
        return keras_tuner.BayesianOptimization(
            hypermodel, max_trials=trials, num_initial_points=2, **common
        )
    if kind == "hyperband":
        return keras_tuner.Hyperband(
            hypermodel, max_epochs=epochs, factor=3, hyperband_iterations=1, **common
        )
    raise ValueError(f"Unknown tuner {kind!r}; expected one of {TUNERS}.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=9)
    parser.add_argument("--tuners", default=",".join(TUNERS))
    parser.add_argument("--logdir", default="logs/tuning_digits")
    args = parser.parse_args(argv)

    # Reloaded checkpoints (Hyperband's next rounds, the best models) start
    # with fresh optimizer slots, which Keras warns about; that is expected.
    warnings.filterwarnings("ignore", "Skipping variable loading for optimizer")
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits()
    hypermodel = MLPHyperModel((8, 8, 1), 10, search_space=SEARCH_SPACE)
    results = {}
    for kind in args.tuners.split(","):
        tuner = make_tuner(
            kind, hypermodel, args.trials, args.epochs,
            os.path.join(args.logdir, "tuner_state"),
        )
        start = time.perf_counter()
        tuner.search(
            x_train,
            y_train,
            epochs=args.epochs,
            validation_split=0.2,
            callbacks=[keras.callbacks.TensorBoard(os.path.join(args.logdir, kind))],
            verbose=0,
        )
        best_hp = tuner.get_best_hyperparameters(1)[0]
        best = tuner.get_best_models(1)[0]
        _, accuracy = best.evaluate(x_test, y_test, verbose=0)
        results[kind] = accuracy
        trials = len(tuner.oracle.trials)
        print(
            f"{kind}: {trials} trials in {time.perf_counter() - start:.0f} s, "
            f"test accuracy of the best {accuracy:.3f} with {best_hp.values}"
        )
    print(f"HParams logs in {args.logdir}: tensorboard --logdir {args.logdir}")
    return results


if __name__ == "__main__":
    main()
