"""Benchmark: memory-efficient attention on long sequences vs Keras's layer.

One training step (forward, mean squared error, backward, Adam update) of
a single self-attention layer, batch 1, model dim 256, 8 heads, at lengths
1024 to 65536: ours is `keras_dlparts.layers.MultiHeadAttention(...,
memory_efficient=True)` with the chunk sizes docs/attention.md recommends
(1024 queries x 4096 keys), the peer `keras.layers.MultiHeadAttention`.
Both are compiled the way `fit` compiles them (XLA on TensorFlow and JAX)
through `benchmarks/_steps.py`.

Each (layer, length) runs in a fresh process, which prints:
- peak memory: the kernel's peak resident set size during the first step
  at that length minus the resident size just before it (the layer built,
  the step warmed up at length 64 and traced, on JAX also compiled, at the
  full length; TensorFlow compiles XLA during the first run, so its
  compiler's memory is counted for both layers);
- step time: the median of the steps after the first (up to `--steps`,
  at most `--budget` seconds of them).

Keras's layer is not run at a length where its memory, extrapolated
quadratically from the longest length it ran, would exceed `--max-gib`
(default: 60% of the machine's available memory); the table then gives the
extrapolation. Run: `python benchmarks/long_attention.py` (about 30 minutes
on 2 CPU cores, most of it the 65536-token step); `--quick` for lengths
256 and 1024.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import _steps  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

LENGTHS = (1024, 4096, 8192, 16384, 65536)
QUICK = {"lengths": [256, 1024], "steps": 2}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=LENGTHS)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--query-chunk", type=int, default=1024)
    parser.add_argument("--key-chunk", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--max-gib", type=float, default=None)
    parser.add_argument(
        "--ours-only",
        action="store_true",
        help="skip Keras's layer (lengths it cannot run on this machine)",
    )
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    return _steps.parse_args(parser, argv, {"quick": QUICK})


def make_layer(kind, args):
    if kind == "keras":
        return keras.layers.MultiHeadAttention(
            args.heads, args.dim // args.heads
        )
    from keras_dlparts.layers import MultiHeadAttention

    return MultiHeadAttention(
        args.heads,
        args.dim // args.heads,
        memory_efficient=True,
        query_chunk_size=args.query_chunk,
        key_chunk_size=args.key_chunk,
    )


def child(kind, length, args):
    """Measures one layer at one length; prints `RESULT <bytes> <seconds>`."""
    rng = np.random.default_rng(0)
    layer = make_layer(kind, args)

    def data(n):
        x = rng.normal(size=(1, n, args.dim)).astype("float32")
        return keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(x)

    short = data(64)
    layer(short[0], short[0])
    step = _steps.TrainStep(layer, lambda t: layer(t, t), jit_compile=True)
    step.run(*short)  # the runtime's one-off start-up costs
    x, y = data(length)
    step.prepare(x, y)
    before = _steps.rss_bytes()
    _steps.reset_peak_rss()
    began = time.perf_counter()
    step.run(x, y)
    first = time.perf_counter() - began
    peak = _steps.peak_rss_since_reset() - before
    times, start = [], time.perf_counter()
    while len(times) < args.steps - 1 and time.perf_counter() - start < (
        args.budget
    ):
        began = time.perf_counter()
        step.run(x, y)
        times.append(time.perf_counter() - began)
    # With no step after the first, the first one's time (on TensorFlow,
    # XLA compilation included), marked `*` in the table.
    seconds = statistics.median(times) if times else -first
    print(f"RESULT {peak} {seconds}")


def run_child(kind, length, args):
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        str(length),
        f"--dim={args.dim}",
        f"--heads={args.heads}",
        f"--query-chunk={args.query_chunk}",
        f"--key-chunk={args.key_chunk}",
        f"--steps={args.steps}",
        f"--budget={args.budget}",
    ]
    done = subprocess.run(command, capture_output=True, text=True)
    lines = [s for s in done.stdout.splitlines() if s.startswith("RESULT")]
    if not lines:
        return None, done.stderr.strip().splitlines()[-1:]
    _, peak, seconds = lines[0].split()
    return (int(peak), float(seconds)), None


def available_gib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2**20
    return float("inf")


def main(argv=None):
    args = parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), args)
        return
    limit = args.max_gib or 0.6 * available_gib()
    print(_steps.describe())
    print(
        f"one training step, batch 1, dim {args.dim}, {args.heads} heads; "
        f"ours: memory_efficient=True, chunks {args.query_chunk} x "
        f"{args.key_chunk}; peak RSS over the baseline, median step time"
    )
    print(
        f"{'length':>7} | {'keras MiB':>10} | {'ours MiB':>9} | "
        f"{'memory ratio':>12} | {'keras s':>8} | {'ours s':>8} | "
        f"{'time ratio':>10}"
    )
    last_keras = None  # (length, bytes) of Keras's longest run
    for length in args.lengths:
        keras_result = None
        estimate = None
        if last_keras is not None:
            estimate = last_keras[1] * (length / last_keras[0]) ** 2
        fits = estimate is None or estimate / 2**30 < limit
        if fits and not args.ours_only:
            keras_result, error = run_child("keras", length, args)
            if keras_result is None:
                print(f"  keras failed at {length}: {error}")
            else:
                last_keras = (length, keras_result[0])
        ours, error = run_child("ours", length, args)
        if ours is None:
            print(f"  ours failed at {length}: {error}")
            continue
        ours_s = f"{ours[1]:8.3f}" if ours[1] > 0 else f"{-ours[1]:7.1f}*"
        if keras_result is None and estimate is None:
            print(
                f"{length:7d} | {'not run':>10} | {ours[0] / 2**20:9.1f} | "
                f"{'':>12} | {'':>8} | {ours_s} |"
            )
            continue
        if keras_result is not None:
            keras_mib = f"{keras_result[0] / 2**20:10.1f}"
            keras_s = f"{keras_result[1]:8.3f}"
            memory = keras_result[0] / max(ours[0], 1)
            ratio = (
                f"{ours[1] / keras_result[1]:10.2f}"
                if ours[1] > 0 and keras_result[1] > 0
                else f"{'n/a':>10}"
            )
        else:
            keras_mib = f"~{estimate / 2**20:9.0f}"
            keras_s = f"{'n/a':>8}"
            memory = estimate / max(ours[0], 1)
            ratio = f"{'n/a':>10}"
        print(
            f"{length:7d} | {keras_mib} | {ours[0] / 2**20:9.1f} | "
            f"{memory:11.1f}x | {keras_s} | {ours_s} | {ratio}"
        )
    print(
        "~: Keras not run (extrapolated quadratically from its longest "
        f"run, above the {limit:.1f} GiB limit); memory ratio keras/ours, "
        "time ratio ours/keras; *: only one step was run (the first, "
        "XLA compilation included on TensorFlow)"
    )


if __name__ == "__main__":
    main()
