"""Random search, Hyperband and Bayesian optimisation of an MLP on 8x8 digits.

Tunes `keras_dlparts.tuning.MLPHyperModel` (depth, width, dropout, L2
strength, optimizer, learning rate, momentum, batch size) with each of
KerasTuner's three tuners for a few trials, keeping a fifth of the training
split for validation, then scores each tuner's best model on the test split.
Every trial is logged to TensorBoard's HParams dashboard: passing a
`keras.callbacks.TensorBoard` to `tuner.search` makes KerasTuner give each
trial its own log directory and write the trial's hyperparameters there
with `tensorboard.plugins.hparams.api.KerasCallback`. KerasTuner does that
on the TensorFlow backend only; on the others (JAX) the tuners below do the
same in `run_trial`.

Usage: python examples/tuning_digits.py [--trials 6] [--epochs 9]
(a few minutes on a 2-core CPU). Then: tensorboard --logdir logs/tuning_digits
and open the HPARAMS tab.
"""

import argparse
import copy
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


def with_hparams_logging(tuner_class):
    """`tuner_class` logging every trial to HParams on every backend.

    KerasTuner gives each trial's `TensorBoard` callback the directory
    `<log_dir>/<trial id>/execution<i>` and adds an HParams callback only
    on TensorFlow; elsewhere this subclass does it (one execution a trial).
    """

    class HParamsLogging(tuner_class):
        def run_trial(self, trial, *args, **kwargs):
            if keras.backend.backend() != "tensorflow":
                kwargs["callbacks"] = trial_callbacks(
                    kwargs.get("callbacks", []), trial
                )
            return super().run_trial(trial, *args, **kwargs)

    HParamsLogging.__name__ = tuner_class.__name__
    return HParamsLogging


def trial_callbacks(callbacks, trial):
    """`callbacks`, TensorBoard ones moved to the trial's own directory."""
    hparams = {
        name: value
        for name, value in trial.hyperparameters.values.items()
        if value is not None
    }
    result = []
    for callback in callbacks:
        callback = copy.deepcopy(callback)
        result.append(callback)
        if isinstance(callback, keras.callbacks.TensorBoard):
            callback.log_dir = os.path.join(
                str(callback.log_dir), str(trial.trial_id), "execution0"
            )
            result.append(HParams(callback.log_dir, hparams, trial.trial_id))
    return result


class HParams(keras.callbacks.Callback):
    """Writes a trial's hyperparameters for the HParams dashboard.

    Holds only plain values until `fit` starts, so KerasTuner can deep-copy
    it; the writing is `tensorboard.plugins.hparams.api.KerasCallback`'s.
    """

    def __init__(self, log_dir, hparams, trial_id):
        super().__init__()
        self.log_dir, self.hparams, self.trial_id = log_dir, hparams, trial_id
        self._writer = None

    def on_train_begin(self, logs=None):
        from tensorboard.plugins.hparams import api as hparams_api

        self._writer = hparams_api.KerasCallback(
            writer=self.log_dir, hparams=self.hparams, trial_id=self.trial_id
        )
        self._writer.on_train_begin(logs)

    def on_train_end(self, logs=None):
        self._writer.on_train_end(logs)
        self._writer = None


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
        tuner = with_hparams_logging(keras_tuner.RandomSearch)
        return tuner(hypermodel, max_trials=trials, **common)
    if kind == "bayesian":
        tuner = with_hparams_logging(keras_tuner.BayesianOptimization)
        return tuner(
            hypermodel, max_trials=trials, num_initial_points=2, **common
        )
    if kind == "hyperband":
        tuner = with_hparams_logging(keras_tuner.Hyperband)
        return tuner(
            hypermodel,
            max_epochs=epochs,
            factor=3,
            hyperband_iterations=1,
            **common,
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
            kind,
            hypermodel,
            args.trials,
            args.epochs,
            os.path.join(args.logdir, "tuner_state"),
        )
        start = time.perf_counter()
        tuner.search(
            x_train,
            y_train,
            epochs=args.epochs,
            validation_split=0.2,
            callbacks=[
                keras.callbacks.TensorBoard(os.path.join(args.logdir, kind))
            ],
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
