"""Benchmark: keras_dlparts `SOM` against MiniSom, time to the same error.

Every map gets the same data, map size (20x20, rectangular, Gaussian,
sigma0 = 3) and initial codebook (MiniSom's default random unit vectors).
At each data size:

- MiniSom online: `MiniSom.train(x, 5 * len(x))` (learning rate 0.5,
  asymptotic decay), one NumPy update per sample. Its final quantization
  error is the target for the other two.
- MiniSom batch: `MiniSom.train_batch_offline(x, D)`, the batch rule in
  NumPy (a Python loop over the samples in each iteration). Its decay
  horizon is its number of iterations, so `D` is the smallest number of
  iterations whose run reaches the target (found with our identical rule,
  untimed). Timed once per size: it is by far the slower peer.
- Ours: `models.SOM(update="batch", learning_rate=1.0, decay_steps=4)`
  trained by `model.map.train_batch(x, 200, target_error=target)`: the
  whole data set is one batch per epoch and all the epochs run in one
  compiled `keras.ops.while_loop` (XLA) that stops at the first epoch whose
  error is at or below the target. "first call" is a fresh model, so it
  includes tracing and compiling; "compiled" calls train the same model
  again from the initial codebook (the loop is cached), `--repeats` times,
  alternating with MiniSom online.

Medians of wall-clock and of process CPU time (the steadier figure on a
shared machine) are printed with the speed-up over the faster peer, with
and without compiling. Runs on the active Keras backend
(`KERAS_BACKEND=tensorflow`, the default, or `jax`); MiniSom is NumPy on
both.

Data: scikit-learn's 8x8 digits (ships with scikit-learn), scaled to
[0, 1] and enlarged N times with small Gaussian noise, for each N of
`--copies` (default 2 and 5: 3,594 and 8,985 samples).

Usage: python benchmarks/som.py [--copies 2 5 ...] [--repeats 3]
(`--quick`: 2 copies only).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import _steps  # noqa: E402
import numpy as np  # noqa: E402
from minisom import MiniSom  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from keras_dlparts.layers import SelfOrganizingMap  # noqa: E402
from keras_dlparts.models import SOM  # noqa: E402

ROWS = COLS = 20
SIGMA = 3.0
MINISOM_EPOCHS = 5
MAX_EPOCHS = 200


def make_data(copies, seed=0):
    digits = load_digits().data / 16.0
    rng = np.random.default_rng(seed)
    noisy = [digits + rng.normal(0, 0.05, digits.shape) for _ in range(copies)]
    return np.clip(np.concatenate(noisy), 0.0, 1.0).astype("float32")


def _timed(fn):
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn()
    return (
        time.perf_counter() - start,
        time.process_time() - start_cpu,
    ), result


def _minisom(x, codebook, **kwargs):
    som = MiniSom(ROWS, COLS, x.shape[1], sigma=SIGMA, random_seed=0, **kwargs)
    som._weights = codebook.astype("float64").copy()
    return som


def run_minisom_online(x, codebook):
    som = _minisom(x, codebook, learning_rate=0.5)
    elapsed, _ = _timed(lambda: som.train(x, MINISOM_EPOCHS * len(x)))
    return elapsed, float(som.quantization_error(x))


def batch_iterations(x, codebook, target):
    """Smallest D whose D-iteration batch run (decay over D) reaches target."""

    def reaches(d):
        som = SelfOrganizingMap(
            (ROWS, COLS),
            sigma=SIGMA,
            learning_rate=1.0,
            decay_steps=d,
            update="batch",
            codebook_initializer=codebook,
        )
        return float(np.asarray(som.train_batch(x, d))[-1]) <= target

    low, high = 1, 8
    while not reaches(high):
        low, high = high + 1, 2 * high
        if high > MAX_EPOCHS:
            raise SystemExit(f"the batch rule did not reach {target:.4f}")
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if reaches(middle) else (middle + 1, high)
    return high


def run_minisom_batch(x, codebook, iterations):
    som = _minisom(x, codebook, learning_rate=1.0)
    elapsed, _ = _timed(lambda: som.train_batch_offline(x, iterations))
    return elapsed, float(som.quantization_error(x))


def new_model(x, codebook):
    model = SOM(
        (ROWS, COLS),
        sigma=SIGMA,
        learning_rate=1.0,
        decay_steps=4,
        update="batch",
        codebook_initializer=codebook,
    )
    model.build((None, x.shape[1]))
    return model


def run_ours(model, x, codebook, target):
    model.map.codebook.assign(codebook)
    model.map.iterations.assign(0)
    elapsed, errors = _timed(
        lambda: np.asarray(
            model.map.train_batch(x, MAX_EPOCHS, target_error=target)
        )
    )
    epochs = int(np.sum(np.isfinite(errors))) - 1
    if errors[epochs] > target:
        raise SystemExit(
            f"our SOM did not reach {target:.4f} in {MAX_EPOCHS} epochs "
            f"(last {errors[epochs]:.4f})"
        )
    error = float(np.mean(model.map.quantization_error(x)))
    return elapsed, error, epochs


def _median(times, i):
    return statistics.median(t[i] for t in times)


def benchmark(copies, repeats):
    x = make_data(copies)
    codebook = MiniSom(ROWS, COLS, x.shape[1], random_seed=0).get_weights()
    codebook = codebook.astype("float32")
    print(
        f"\n{copies} copies: data {x.shape}, map {ROWS}x{COLS}; MiniSom "
        f"online {MINISOM_EPOCHS} epochs = {MINISOM_EPOCHS * len(x)} updates"
    )
    online, ours = [], []
    online_time, target = run_minisom_online(x, codebook)
    online.append(online_time)
    model = new_model(x, codebook)
    first, error, epochs = run_ours(model, x, codebook, target)
    iterations = batch_iterations(x, codebook, target)
    batch_time, batch_error = run_minisom_batch(x, codebook, iterations)
    print(
        f"MiniSom batch: {iterations} iterations, {batch_time[0]:.2f} s "
        f"wall, {batch_time[1]:.2f} s CPU (QE {batch_error:.4f})"
    )
    print(
        f"ours, first call (tracing/compiling included): {first[0]:.2f} s "
        f"wall, {first[1]:.2f} s CPU, {epochs} batch epochs (QE {error:.4f})"
    )
    for repeat in range(repeats):
        if repeat:
            online_time, target = run_minisom_online(x, codebook)
            online.append(online_time)
        our_time, error, epochs = run_ours(model, x, codebook, target)
        ours.append(our_time)
        print(
            f"run {repeat}: MiniSom online {online_time[0]:.2f} s wall, "
            f"{online_time[1]:.2f} s CPU (QE {target:.4f}); ours compiled "
            f"{our_time[0]:.3f} s wall, {our_time[1]:.3f} s CPU, {epochs} "
            f"batch epochs (QE {error:.4f})"
        )
    for i, kind in enumerate(("wall", "process CPU")):
        peer = min(_median(online, i), batch_time[i])
        name = "online" if _median(online, i) <= batch_time[i] else "batch"
        warm = _median(ours, i)
        print(
            f"median {kind}: MiniSom online {_median(online, i):.2f} s, "
            f"batch {batch_time[i]:.2f} s; ours compiled {warm:.3f} s, "
            f"first call {first[i]:.2f} s; speed-up over the faster peer "
            f"({name}): {peer / warm:.1f}x compiled, "
            f"{peer / first[i]:.1f}x with compiling"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[2, 5])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="2 copies only, 3 repeats"
    )
    args = _steps.parse_args(
        parser, None, {"quick": dict(copies=[2], repeats=3)}
    )
    print(_steps.describe())
    for copies in args.copies:
        benchmark(copies, args.repeats)


if __name__ == "__main__":
    main()
