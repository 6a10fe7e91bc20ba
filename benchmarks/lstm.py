"""Benchmark: `keras.layers.RNN` over our LSTMCell vs over Keras's.

Ours is `keras.layers.RNN(keras_dlparts.layers.LSTMCell(...))`, the peer
`keras.layers.RNN(keras.layers.LSTMCell(...))`.

Runs on the active Keras backend (`KERAS_BACKEND=tensorflow`, the default,
or `jax`). Times one training step (forward over the sequence, MSE loss,
backpropagation through time, Adam update) of each RNN with the same shapes
and the same initial weights (both options of our cell off), in one
process, interleaving the RNNs repeat by repeat (the order rotating), in
every compiled mode of the backend (TensorFlow: `tf.function` graph mode and
XLA; JAX: `jax.jit`), through `benchmarks/_steps.py`. Prints the median
wall-clock and process-CPU time per step and the ratios ours/keras (target
<= 1.1); on a shared machine the CPU-time ratio is the steadier figure.
Also times our cell with `layer_norm=True, peephole=True` for reference,
and says whether the traced steps of the two plain cells have the same
operations.

Run: `python benchmarks/lstm.py` (about two minutes on 2 CPU cores;
`--quick` for a short run at small shapes); `--help` lists the shapes and
repeats.
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

from keras_dlparts.layers import LSTMCell  # noqa: E402

QUICK = dict(batch=16, length=20, features=16, units=64, repeats=5, steps=3)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small shapes and few repeats: {QUICK}",
    )
    return _steps.parse_args(parser, argv, {"quick": QUICK})


def time_steps(step, x, y, steps):
    """(wall-clock, process-CPU) seconds per step."""
    start, start_cpu = time.perf_counter(), time.process_time()
    step.run(x, y, steps)
    return (
        (time.perf_counter() - start) / steps,
        (time.process_time() - start_cpu) / steps,
    )


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    x = keras.ops.convert_to_tensor(
        rng.normal(size=(args.batch, args.length, args.features)), "float32"
    )
    y = keras.ops.convert_to_tensor(
        rng.normal(size=(args.batch, args.length, args.units)), "float32"
    )
    print(_steps.describe())
    print(
        f"shapes: batch={args.batch} length={args.length} "
        f"features={args.features} units={args.units}; "
        f"median of {args.repeats} repeats x {args.steps} steps"
    )
    for mode, jit in _steps.MODES:
        rnns = {
            "ours": keras.layers.RNN(
                LSTMCell(args.units), return_sequences=True
            ),
            "keras": keras.layers.RNN(
                keras.layers.LSTMCell(args.units), return_sequences=True
            ),
            "ours(ln+peep)": keras.layers.RNN(
                LSTMCell(args.units, layer_norm=True, peephole=True),
                return_sequences=True,
            ),
        }
        for rnn in rnns.values():
            rnn(x)
        rnns["keras"].set_weights(rnns["ours"].get_weights())
        steps = {
            name: _steps.TrainStep(
                rnn, lambda t, rnn=rnn: rnn(t, training=True), jit
            )
            for name, rnn in rnns.items()
        }
        for step in steps.values():  # trace / compile, warm up
            step.run(x, y, 2)
        counts = {k: steps[k].op_counts(x, y) for k in ("ours", "keras")}
        print(
            f"[{mode}] traced training steps: "
            + _steps.describe_op_counts(counts["ours"], counts["keras"])
        )
        times = _steps.interleaved(
            steps, args.repeats, lambda s: time_steps(s, x, y, args.steps)
        )
        wall = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
        cpu = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
        for name in steps:
            print(
                f"[{mode}] {name:>14}: {wall[name] * 1e3:8.2f} ms/step wall,"
                f" {cpu[name] * 1e3:8.2f} ms/step CPU"
            )
        for name in ("ours", "ours(ln+peep)"):
            print(
                f"[{mode}] ratio {name}/keras: wall "
                f"{wall[name] / wall['keras']:.3f}, "
                f"CPU {cpu[name] / cpu['keras']:.3f}"
            )


if __name__ == "__main__":
    main()
