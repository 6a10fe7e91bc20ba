"""Benchmark: our MultiHeadAttention (scaled_dot) vs keras.layers.MultiHeadAttention.

TensorFlow-only (tf.function, tf.GradientTape). Times one training step
(forward, MSE loss, backward, Adam update) of each layer with the same
shapes and the same initial weights, in one process, interleaving the two
layers repeat by repeat, in tf.function graph mode and with XLA
(`jit_compile=True`). Prints the median time per step, the ratio ours/keras
(target <= 1.05), the achieved GFLOP/s and that as a fraction of a plain
float32 matmul's GFLOP/s measured in the same run.

Then it measures the peak memory of one forward pass at sequence length
4096 for each layer, each in a fresh subprocess: TensorFlow does not report
CPU allocator statistics (`tf.config.experimental.get_memory_info("CPU:0")`
returns zeros), so the figure is the process's peak resident set size
(`ru_maxrss`) minus its resident size just before the call (after a short
warm-up call, so the runtime's one-off start-up memory is not counted). On
a GPU it uses `get_memory_info("GPU:0")["peak"]` instead.

Run: `python benchmarks/attention.py` (about 2 minutes on 2 CPU cores);
`--help` lists the shapes and repeats.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from keras_dlparts.layers import MultiHeadAttention  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--memory-length", type=int, default=4096)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--memory-child", choices=["ours", "keras"])
    return parser.parse_args(argv)


def make_layer(kind, heads, dim):
    cls = MultiHeadAttention if kind == "ours" else keras.layers.MultiHeadAttention
    return cls(num_heads=heads, key_dim=dim // heads)


def make_train_step(layer, jit_compile):
    optimizer = keras.optimizers.Adam(1e-3)

    @tf.function(jit_compile=jit_compile)
    def step(x, y):
        with tf.GradientTape() as tape:
            out = layer(x, x, training=True)
            loss = tf.reduce_mean(tf.square(out - y))
        grads = tape.gradient(loss, layer.trainable_variables)
        optimizer.apply(grads, layer.trainable_variables)
        return loss

    return step


def train_flops(batch, length, dim):
    """Multiply-adds x 2 of a self-attention training step (backward = 2x forward)."""
    projections = 4 * 2 * batch * length * dim * dim  # Q, K, V, output
    attention = 2 * 2 * batch * length * length * dim  # q k^T and weights v
    return 3 * (projections + attention)


def time_steps(fn, args, steps):
    """Wall-clock and process CPU seconds per step."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        result = fn(*args)
    float(result)  # wait for the last step
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall / steps, cpu / steps


def graph_ops(step, args):
    """Op-type counts of a traced step (its gradient functions included)."""
    graph = step.get_concrete_function(*args).graph
    counts = {}
    for fn in [graph, *graph._functions.values()]:
        ops = fn.get_operations() if fn is graph else fn.graph.get_operations()
        for op in ops:
            counts[op.type] = counts.get(op.type, 0) + 1
    return counts


def make_matmul(n=1024):
    """A plain float32 n x n x n matmul step, the machine's reference GFLOP/s."""
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    step = tf.function(lambda: tf.reduce_sum(tf.matmul(a, b)))
    step()
    return step, 2 * n**3


def benchmark_speed(args):
    rng = np.random.default_rng(0)
    shape = (args.batch, args.length, args.dim)
    x = tf.constant(rng.normal(size=shape).astype("float32"))
    y = tf.constant(rng.normal(size=shape).astype("float32"))
    flops = train_flops(args.batch, args.length, args.dim)
    matmul, matmul_flops = make_matmul()
    print(
        f"shapes: batch={args.batch} length={args.length} dim={args.dim} "
        f"heads={args.heads}; {flops / 1e9:.2f} GFLOP per training step; "
        f"{args.repeats} interleaved repeats of {args.steps} steps"
    )
    results = {}
    for mode, jit in (("graph", False), ("xla", True)):
        steps = {}
        for kind in ("keras", "ours"):
            layer = make_layer(kind, args.heads, args.dim)
            layer(x, x)
            if kind == "ours":
                layer.set_weights(reference.get_weights())
            reference = layer
            steps[kind] = make_train_step(layer, jit)
            steps[kind](x, y)  # trace / compile
            steps[kind](x, y)
        if not jit:
            counts = {k: graph_ops(step, (x, y)) for k, step in steps.items()}
            sizes = {k: sum(c.values()) for k, c in counts.items()}
            print(
                f"{mode:5s} traced training steps: keras {sizes['keras']} "
                f"ops, ours {sizes['ours']} ops; identical op-type counts: "
                f"{counts['keras'] == counts['ours']}"
            )
        times = {"keras": [], "ours": [], "matmul": []}
        for repeat in range(args.repeats):  # interleaved, alternating order
            order = ("keras", "ours") if repeat % 2 else ("ours", "keras")
            for kind in order:
                times[kind].append(time_steps(steps[kind], (x, y), args.steps))
            times["matmul"].append(time_steps(matmul, (), args.steps))
        wall = {k: [t[0] for t in v] for k, v in times.items()}
        cpu = {k: [t[1] for t in v] for k, v in times.items()}
        peak = matmul_flops / min(wall["matmul"]) / 1e9
        print(f"{mode:5s} plain 1024^3 float32 matmul: {peak:6.1f} GFLOP/s")
        for kind in ("keras", "ours"):
            best = min(wall[kind])
            gflops = flops / best / 1e9
            print(
                f"{mode:5s} {kind:5s}: {best * 1e3:8.2f} ms/step (best wall), "
                f"{statistics.median(wall[kind]) * 1e3:8.2f} (median wall), "
                f"{statistics.median(cpu[kind]) * 1e3:8.2f} (median CPU); "
                f"{gflops:6.1f} GFLOP/s = {gflops / peak:.2f} of matmul"
            )
        ratios = [o / k for o, k in zip(wall["ours"], wall["keras"])]
        cpu_ratio = statistics.median(cpu["ours"]) / statistics.median(
            cpu["keras"]
        )
        results[mode] = statistics.median(ratios)
        print(
            f"{mode:5s} ratio ours/keras: {results[mode]:.3f} (median of "
            f"per-repeat wall ratios; range {min(ratios):.3f}-"
            f"{max(ratios):.3f}); best/best wall "
            f"{min(wall['ours']) / min(wall['keras']):.3f}; median CPU "
            f"{cpu_ratio:.3f}"
        )
    return results


def _rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def memory_child(kind, args):
    """Peak memory of one forward pass, printed as `PEAK <bytes> <how>`."""
    layer = make_layer(kind, args.heads, args.dim)
    shape = (1, args.memory_length, args.dim)
    x = tf.constant(np.random.default_rng(0).normal(size=shape), "float32")
    layer(x[:, :8], x[:, :8])  # build eagerly on a short input
    forward = tf.function(lambda t: layer(t, t))
    forward(x[:, :64]).numpy()  # pay the runtime's one-off start-up costs
    forward.get_concrete_function(x)  # trace the long call without running
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        tf.config.experimental.reset_memory_stats("GPU:0")
        before = tf.config.experimental.get_memory_info("GPU:0")["current"]
        forward(x).numpy()
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"]
        print(f"PEAK {peak - before} GPU allocator peak")
        return
    before = _rss_bytes()
    forward(x).numpy()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"PEAK {peak - before} peak RSS minus RSS before the call")


def benchmark_memory(args):
    print(
        f"forward pass at length {args.memory_length} (batch 1, "
        f"dim {args.dim}, heads {args.heads}), one fresh process each:"
    )
    for kind in ("keras", "ours"):
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child", kind]
            + [f"--{k}={getattr(args, k)}" for k in ("dim", "heads")]
            + [f"--memory-length={args.memory_length}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        line = next(s for s in out.splitlines() if s.startswith("PEAK"))
        _, peak, how = line.split(" ", 2)
        print(f"  {kind:5s}: {int(peak) / 2**20:8.1f} MiB ({how})")


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args)
        return
    benchmark_speed(args)
    if not args.skip_memory:
        benchmark_memory(args)


if __name__ == "__main__":
    main()
