"""Benchmark: keras.layers.RNN(our LSTMCell) vs keras.layers.RNN(keras.layers.LSTMCell).

TensorFlow-only (tf.function, tf.GradientTape). Times one training step
(forward over the sequence, MSE loss, backpropagation through time, Adam
update) of each RNN with the same shapes and the same initial weights (both
options of our cell off), in one process, interleaving the two repeat by
repeat, in tf.function graph mode and with XLA (`jit_compile=True`).
Prints the median wall-clock and process-CPU time per step and the ratios
ours/keras (target <= 1.1); on a shared machine the CPU-time ratio is the
steadier figure.
Also times our cell with `layer_norm=True, peephole=True` for reference.

Run: `python benchmarks/lstm.py` (about a minute on 2 CPU cores);
`--help` lists the shapes and repeats.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_dlparts.layers import LSTMCell  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--length", type=int, default=50)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--steps", type=int, default=5)
    return parser.parse_args(argv)


def make_train_step(rnn, jit_compile):
    optimizer = keras.optimizers.Adam(1e-3)

    @tf.function(jit_compile=jit_compile)
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(rnn(x, training=True) - y))
        grads = tape.gradient(loss, rnn.trainable_variables)
        optimizer.apply(grads, rnn.trainable_variables)
        return loss

    return step


def time_steps(step, x, y, steps):
    """Wall-clock and process-CPU seconds per step."""
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        loss = step(x, y)
    float(loss)
    return (
        (time.perf_counter() - start) / steps,
        (time.process_time() - start_cpu) / steps,
    )


def op_counts(step, x, y):
    """Op-type counts of a traced step, its nested functions included."""
    graph = step.get_concrete_function(x, y).graph
    counts = {}
    for fn in [graph, *[f.graph for f in graph._functions.values()]]:
        for op in fn.get_operations():
            counts[op.type] = counts.get(op.type, 0) + 1
    return counts


def main(argv=None):
    args = parse_args(argv)
    rng = np.random.default_rng(0)
    x = tf.constant(
        rng.normal(size=(args.batch, args.length, args.features)), "float32"
    )
    y = tf.constant(
        rng.normal(size=(args.batch, args.length, args.units)), "float32"
    )
    print(
        f"shapes: batch={args.batch} length={args.length} "
        f"features={args.features} units={args.units}; "
        f"median of {args.repeats} repeats x {args.steps} steps"
    )
    for jit in (False, True):
        rnns = {
            "ours": keras.layers.RNN(LSTMCell(args.units), return_sequences=True),
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
        steps = {k: make_train_step(r, jit) for k, r in rnns.items()}
        for step in steps.values():  # trace and warm up
            time_steps(step, x, y, 2)
        ours_ops, keras_ops = (
            op_counts(steps[name], x, y) for name in ("ours", "keras")
        )
        print(f"[{'XLA' if jit else 'graph'}] traced ops: ours "
              f"{sum(ours_ops.values())}, keras {sum(keras_ops.values())}, "
              f"same op types and counts: {ours_ops == keras_ops}")
        times = {k: [] for k in steps}
        names = list(steps)
        for repeat in range(args.repeats):
            # Rotate the order so that no model always runs first.
            for name in names[repeat % 3:] + names[: repeat % 3]:
                times[name].append(time_steps(steps[name], x, y, args.steps))
        wall = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
        cpu = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
        mode = "XLA" if jit else "graph"
        for name in steps:
            print(f"[{mode}] {name:>14}: {wall[name] * 1e3:8.2f} ms/step wall,"
                  f" {cpu[name] * 1e3:8.2f} ms/step CPU")
        for name in ("ours", "ours(ln+peep)"):
            print(f"[{mode}] ratio {name}/keras: wall "
                  f"{wall[name] / wall['keras']:.3f}, "
                  f"CPU {cpu[name] / cpu['keras']:.3f}")


if __name__ == "__main__":
    main()
