"""Benchmark: keras_dlparts `SOM` against MiniSom, time to the same error.

Both maps get the same data, map size and initial codebook (MiniSom's
default random initialisation). MiniSom trains with its usual online rule
(`MiniSom.train`, `--minisom-epochs` passes over the data, one NumPy update
per sample); its final quantization error is the target. Our `SOM` trains
with the vectorised batch rule (`update="batch"`, one update per pass over
the whole data set) inside `fit` and stops at the first epoch whose
quantization error is at or below the target. The times are wall-clock,
from the start of training to the target, and ours includes building and
tracing the `fit` function (the data come as one whole batch per step,
`steps_per_epoch=1`: `_steps.repeated_batch`). The error `fit` reports for an epoch is
the whole data set's, measured before that epoch's update, so our time
includes one update more than needed. The runs alternate (MiniSom, ours, MiniSom,
ours, ...) `--repeats` times; the medians and their ratio are printed, of
wall-clock time and of process CPU time (the steadier figure on a shared
machine).

Runs on the active Keras backend (`KERAS_BACKEND=tensorflow`, the default,
or `jax`); MiniSom is NumPy on both.

Data: scikit-learn's 8x8 digits (ships with scikit-learn), scaled to
[0, 1] and enlarged `--copies` times with small Gaussian noise.

Usage: python benchmarks/som.py [--rows 20 --cols 20 --copies 5 ...]
(`--quick`: two copies of the data, three repeats).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import _steps  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from minisom import MiniSom  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_dlparts.models import SOM  # noqa: E402


def make_data(copies, seed=0):
    digits = load_digits().data / 16.0
    rng = np.random.default_rng(seed)
    noisy = [digits + rng.normal(0, 0.05, digits.shape) for _ in range(copies)]
    return np.clip(np.concatenate(noisy), 0.0, 1.0).astype("float32")


def run_minisom(x, codebook, args):
    som = MiniSom(
        args.rows,
        args.cols,
        x.shape[1],
        sigma=args.sigma,
        learning_rate=0.5,
        random_seed=0,
    )
    som._weights = codebook.astype("float64").copy()
    start, start_cpu = time.perf_counter(), time.process_time()
    som.train(x, args.minisom_epochs * len(x))
    elapsed = time.perf_counter() - start, time.process_time() - start_cpu
    return elapsed, float(som.quantization_error(x))


class _StopAtTarget(keras.callbacks.Callback):
    def __init__(self, target):
        super().__init__()
        self.target = target
        self.epochs = None
        self.error = None
        self.first_epoch_end = None

    def on_epoch_end(self, epoch, logs=None):
        if self.first_epoch_end is None:
            self.first_epoch_end = time.perf_counter()
        # The logged error is measured before the epoch's update: it is the
        # error after `epoch` updates (and this epoch's update is wasted).
        self.error = float(logs["quantization_error"])
        if self.error <= self.target:
            self.epochs = epoch
            self.model.stop_training = True


def run_ours(x, codebook, target, args):
    model = SOM(
        (args.rows, args.cols),
        sigma=args.sigma,
        learning_rate=1.0,
        decay_steps=args.decay_epochs,
        update="batch",
    )
    model.build((None, x.shape[1]))
    model.map.codebook.assign(codebook)
    model.compile(jit_compile=model_jit(args))
    stop = _StopAtTarget(target)
    start, start_cpu = time.perf_counter(), time.process_time()
    # The whole data set is one batch: one update per epoch.
    model.fit(
        _steps.repeated_batch(x),
        steps_per_epoch=1,
        epochs=args.max_epochs,
        callbacks=[stop],
        verbose=0,
    )
    elapsed = time.perf_counter() - start, time.process_time() - start_cpu
    return elapsed, stop.error, stop.epochs, stop.first_epoch_end - start


def model_jit(args):
    return args.jit or keras.backend.backend() != "tensorflow"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--cols", type=int, default=20)
    parser.add_argument("--sigma", type=float, default=3.0)
    parser.add_argument("--copies", type=int, default=5)
    parser.add_argument("--minisom-epochs", type=int, default=5)
    parser.add_argument("--decay-epochs", type=int, default=4)
    parser.add_argument("--max-epochs", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--jit",
        action="store_true",
        help="XLA on TensorFlow (JAX always compiles with XLA)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="two copies of the data, three repeats",
    )
    args = _steps.parse_args(parser, None, {"quick": dict(copies=2, repeats=3)})

    x = make_data(args.copies)
    # MiniSom's own initial codebook (random unit vectors). Samples of the
    # data would not do: their error is already below the target.
    codebook = MiniSom(args.rows, args.cols, x.shape[1], random_seed=0)
    codebook = codebook.get_weights().astype("float32")
    print(_steps.describe())
    print(
        f"data {x.shape}, map {args.rows}x{args.cols}, MiniSom "
        f"{args.minisom_epochs} epochs online = "
        f"{args.minisom_epochs * len(x)} updates; ours "
        f"{'XLA' if model_jit(args) else 'graph'}"
    )
    peer_times, our_times = [], []
    for repeat in range(args.repeats):
        peer_time, target = run_minisom(x, codebook, args)
        our_time, error, epochs, first = run_ours(x, codebook, target, args)
        if epochs is None:
            raise SystemExit(
                f"our SOM did not reach {target:.4f} in {args.max_epochs} "
                f"epochs (last {error:.4f})"
            )
        peer_times.append(peer_time)
        our_times.append(our_time)
        print(
            f"run {repeat}: MiniSom {peer_time[0]:.2f} s wall, "
            f"{peer_time[1]:.2f} s CPU (QE {target:.4f}); ours "
            f"{our_time[0]:.2f} s wall, {our_time[1]:.2f} s CPU, {epochs} "
            f"batch epochs (QE {error:.4f}; first epoch, with "
            f"tracing/compiling: {first:.2f} s wall)"
        )
    for i, kind in enumerate(("wall", "process CPU")):
        peer = statistics.median(t[i] for t in peer_times)
        ours = statistics.median(t[i] for t in our_times)
        print(
            f"median {kind}: MiniSom {peer:.2f} s, ours {ours:.2f} s, "
            f"speed-up {peer / ours:.1f}x"
        )


if __name__ == "__main__":
    main()
