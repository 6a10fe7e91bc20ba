"""Benchmark: our MultiHeadAttention (scaled_dot) vs Keras's own.

Ours is `keras_dlparts.layers.MultiHeadAttention`, the peer
`keras.layers.MultiHeadAttention`.

Runs on the active Keras backend (`KERAS_BACKEND=tensorflow`, the default,
or `jax`). It first checks, at tiny shapes, that every score of our layer
matches NumPy with and without causal/padding masks (masked weights exactly
0) and that `score="scaled_dot"` equals `keras.layers.MultiHeadAttention`
after `set_weights`.

Then it times one training step (forward, MSE loss, backward, Adam update)
of each layer with the same shapes and the same initial weights, in one
process, interleaving the two layers repeat by repeat, in every compiled
mode of the backend (TensorFlow: `tf.function` graph mode and XLA; JAX:
`jax.jit`), through `benchmarks/_steps.py`. Prints the time per step
(best and median wall-clock, median process CPU), the ratio ours/keras
(target <= 1.05), the achieved GFLOP/s and that as a fraction of a plain
matmul's GFLOP/s measured in the same run, and whether the traced steps
of the two layers have the same operations.

Then it measures the peak memory of one forward pass at sequence length
`--memory-length` for each layer, each in a fresh subprocess: on a CPU the
process's peak resident set size (`ru_maxrss`) minus its resident size just
before the call (after a short warm-up call, so the runtime's one-off
start-up memory is not counted; neither backend reports CPU allocator
statistics); on a GPU the allocator's peak minus the bytes in use before.

`--policy mixed_bfloat16` (or `--gpu`, the shapes of the H100 run: batch
32, length 1024, dim 1024, 16 heads, float32 then mixed_bfloat16, 8192^3
matmul) is meant for a GPU. Run: `python benchmarks/attention.py` (about
2 minutes on 2 CPU cores; `--quick` for a short run at small shapes);
`--help` lists the shapes and repeats.
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

from keras_dlparts.layers import MultiHeadAttention  # noqa: E402
from keras_dlparts.layers.attention import SCORES  # noqa: E402
from keras_dlparts.ops import cosine_similarity  # noqa: E402
from keras_dlparts.ops import scaled_dot_product_attention  # noqa: E402

QUICK = dict(
    batch=4, length=64, dim=128, heads=4, repeats=5, steps=3, memory_length=1024
)
GPU = dict(
    batch=32, length=1024, dim=1024, heads=16, repeats=9, steps=10, matmul=8192
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--length", type=int, default=128)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=11)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument(
        "--matmul",
        type=int,
        default=1024,
        help="size n of the reference n^3 matmul",
    )
    parser.add_argument(
        "--policy",
        action="append",
        help="dtype policy (repeatable; default float32)",
    )
    parser.add_argument("--memory-length", type=int, default=4096)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-check", action="store_true")
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small shapes and few repeats: {QUICK}",
    )
    parser.add_argument(
        "--gpu",
        action="store_true",
        help=f"the GPU run: {GPU}, float32 and mixed_bfloat16",
    )
    parser.add_argument(
        "--memory-child", choices=["ours", "keras"], help=argparse.SUPPRESS
    )
    args = _steps.parse_args(parser, argv, {"quick": QUICK, "gpu": GPU})
    if args.gpu and not args.policy:
        args.policy = ["float32", "mixed_bfloat16"]
    args.policy = args.policy or ["float32"]
    return args


# ---------------------------------------------------------------- correctness


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x), "float64")


def numpy_mha(layer, query, value, mask=None):
    """Our layer's output and weights, from the formula in NumPy."""
    w = _np

    def proj(x, dense):
        return np.einsum("bsd,dnh->bsnh", x, w(dense.kernel)) + w(dense.bias)

    q = proj(query, layer.query_dense)
    k = proj(value, layer.key_dense)
    v = proj(value, layer.value_dense)
    d = q.shape[-1]
    score = layer.score
    if score == "scaled_dot":
        scores = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(d)
    elif score == "dot":
        scores = np.einsum("btnh,bsnh->bnts", q, k)
    elif score == "general":
        scores = np.einsum("btnh,nhg,bsng->bnts", q, w(layer.general_kernel), k)
    elif score == "additive":
        wq = np.einsum("btnh,nha->btna", q, w(layer.additive_query_kernel))
        wk = np.einsum("bsnh,nha->bsna", k, w(layer.additive_key_kernel))
        scores = np.einsum(
            "btsna,na->bnts",
            np.tanh(wq[:, :, None] + wk[:, None]),
            w(layer.additive_vector),
        )
    else:
        qn = q / np.linalg.norm(q, axis=-1, keepdims=True)
        kn = k / np.linalg.norm(k, axis=-1, keepdims=True)
        scores = (
            np.einsum("btnh,bsnh->bnts", qn, kn)
            * w(layer.cosine_scale)[:, None, None]
        )
    mask = np.ones((1, 1, 1), bool) if mask is None else mask
    mask = np.broadcast_to(np.asarray(mask)[:, None], scores.shape)
    e = np.where(mask, np.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    total = e.sum(-1, keepdims=True)
    weights = np.divide(e, total, out=np.zeros_like(e), where=total > 0)
    context = np.einsum("bnts,bsnh->btnh", weights, v)
    out = np.einsum("btnh,nhd->btd", context, w(layer.output_dense.kernel))
    return out + w(layer.output_dense.bias), weights


def check():
    """Every score vs NumPy, and scaled_dot vs Keras' layer, at tiny shapes."""
    backend = keras.backend.backend()
    if backend == "jax":  # full float32 matmuls (GPUs default to TF32)
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")
    rng = np.random.default_rng(0)
    B, T, S, D = 2, 4, 5, 6
    q = rng.normal(size=(B, T, D)).astype("float32")
    v = rng.normal(size=(B, S, D + 1)).astype("float32")
    vm = np.ones((B, S), bool)
    vm[0, 3:] = False
    am = rng.random((B, T, S)) > 0.3
    worst = 0.0
    for score in SCORES:
        layer = MultiHeadAttention(2, 3, score=score)
        for masking in ("none", "causal", "padding"):
            kw, mask = {}, None
            if masking == "causal":
                kw = {"use_causal_mask": True}
                mask = np.tril(np.ones((T, S), bool))[None]
            elif masking == "padding":
                kw = {"value_mask": vm, "attention_mask": am}
                mask = am & vm[:, None]
            out, wts = layer(q, v, return_attention_scores=True, **kw)
            ref_out, ref_wts = numpy_mha(layer, q, v, mask)
            fused = layer(q, v, **kw)
            err = max(
                np.abs(_np(out) - ref_out).max(),
                np.abs(_np(wts) - ref_wts).max(),
                np.abs(_np(fused) - ref_out).max(),
            )
            worst = max(worst, err)
            if mask is not None:
                hidden = ~np.broadcast_to(mask[:, None], ref_wts.shape)
                assert np.all(_np(wts)[hidden] == 0.0), (score, masking)
            assert err < 1e-5, (score, masking, err)
    print(
        f"check: every score x (no mask, causal, padding) matches NumPy; "
        f"worst abs err {worst:.1e}; masked weights exactly 0"
    )
    peer, ours = keras.layers.MultiHeadAttention(2, 3), MultiHeadAttention(2, 3)
    peer(q, v)
    ours(q, v)
    ours.set_weights(peer.get_weights())
    errs = []
    for kw in (
        {},
        {"use_causal_mask": True},
        {"value_mask": vm},
        {"attention_mask": am},
    ):
        for scores in (False, True):
            a = keras.tree.flatten(
                ours(q, v, return_attention_scores=scores, **kw)
            )
            b = keras.tree.flatten(
                peer(q, v, return_attention_scores=scores, **kw)
            )
            errs += [np.abs(_np(x) - _np(y)).max() for x, y in zip(a, b)]
    assert max(errs) < 1e-5, max(errs)
    qq, kk, vv = rng.normal(size=(3, 2, 5, 4)).astype("float32")
    m = np.tril(np.ones((5, 5), bool))
    o, w = scaled_dot_product_attention(qq, kk, vv, mask=m)
    e = np.where(m, np.exp(qq @ kk.swapaxes(-1, -2) / 2.0), 0.0)
    ref_w = e / e.sum(-1, keepdims=True)
    assert np.allclose(_np(w), ref_w, atol=1e-5)
    assert np.allclose(_np(o), ref_w @ vv, atol=1e-5)
    assert np.all(_np(w)[:, ~m] == 0.0)
    c = _np(
        cosine_similarity(
            np.array([[0.0, 0.0], [1.0, 1.0]], "float32"),
            np.array([[1.0, 0.0], [2.0, 2.0]], "float32"),
        )
    )
    assert np.allclose(c, [0.0, 1.0])
    print(
        "check: scaled_dot equals keras.layers.MultiHeadAttention after "
        f"set_weights (max abs diff {max(errs):.1e}); "
        "ops.scaled_dot_product_attention and ops.cosine_similarity match NumPy"
    )
    if backend == "jax":
        jax.config.update("jax_default_matmul_precision", None)


# ---------------------------------------------------------------- speed


def make_layer(kind, heads, dim):
    cls = (
        MultiHeadAttention
        if kind == "ours"
        else keras.layers.MultiHeadAttention
    )
    return cls(num_heads=heads, key_dim=dim // heads)


def train_flops(batch, length, dim):
    """Multiply-adds x 2 of a self-attention training step.

    The backward pass counts as twice the forward pass.
    """
    projections = 4 * 2 * batch * length * dim * dim  # Q, K, V, output
    attention = 2 * 2 * batch * length * length * dim  # q k^T and weights v
    return 3 * (projections + attention)


def make_matmul(n, dtype):
    """A plain n x n x n matmul of `dtype`: the machine's reference FLOP/s."""
    a = keras.ops.convert_to_tensor(
        np.random.default_rng(1).normal(size=(n, n)), dtype
    )
    fn = _steps.Forward(
        None,
        lambda t: keras.ops.cast(
            keras.ops.sum(keras.ops.matmul(t, t)), "float32"
        ),
    )
    fn(a)
    return (lambda: fn(a)), 2 * n**3


def time_steps(fn, steps):
    """(wall-clock, process-CPU) seconds per step of `fn(steps)`."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(steps)
    return (time.perf_counter() - wall) / steps, (
        time.process_time() - cpu
    ) / steps


def benchmark_speed(args, policy):
    keras.config.set_dtype_policy(policy)
    rng = np.random.default_rng(0)
    shape = (args.batch, args.length, args.dim)
    x = keras.ops.convert_to_tensor(rng.normal(size=shape), "float32")
    y = keras.ops.convert_to_tensor(rng.normal(size=shape), "float32")
    flops = train_flops(args.batch, args.length, args.dim)
    dtype = "bfloat16" if "bfloat16" in policy else "float32"
    print(
        f"policy {policy}; shapes: batch={args.batch} length={args.length} "
        f"dim={args.dim} heads={args.heads}; {flops / 1e9:.2f} GFLOP per "
        f"training step; {args.repeats} interleaved repeats of {args.steps} "
        "steps"
    )
    results = {}
    for mode, jit in _steps.MODES:
        layers = {}
        for kind in ("keras", "ours"):
            layers[kind] = make_layer(kind, args.heads, args.dim)
            layers[kind](x, x)
        layers["ours"].set_weights(layers["keras"].get_weights())
        steps = {
            kind: _steps.TrainStep(
                layer, lambda t, layer=layer: layer(t, t, training=True), jit
            )
            for kind, layer in layers.items()
        }
        for step in steps.values():  # trace / compile, warm up
            step.run(x, y, 2)
        counts = {k: s.op_counts(x, y) for k, s in steps.items()}
        print(
            f"{mode:5s} traced training steps: "
            + _steps.describe_op_counts(counts["ours"], counts["keras"])
        )
        matmul, matmul_flops = make_matmul(args.matmul, dtype)
        runs = {
            kind: (lambda n, s=s: s.run(x, y, n)) for kind, s in steps.items()
        }

        def run_matmul(n, matmul=matmul):
            for _ in range(n):
                matmul()

        runs["matmul"] = run_matmul
        times = _steps.interleaved(
            runs, args.repeats, lambda fn: time_steps(fn, args.steps)
        )
        wall = {k: [t[0] for t in v] for k, v in times.items()}
        cpu = {k: [t[1] for t in v] for k, v in times.items()}
        peak = matmul_flops / min(wall["matmul"]) / 1e9
        print(
            f"{mode:5s} plain {args.matmul}^3 {dtype} matmul: "
            f"{peak:8.1f} GFLOP/s"
        )
        for kind in ("keras", "ours"):
            best = min(wall[kind])
            gflops = flops / best / 1e9
            print(
                f"{mode:5s} {kind:5s}: {best * 1e3:8.2f} ms/step (best wall), "
                f"{statistics.median(wall[kind]) * 1e3:8.2f} (median wall), "
                f"{statistics.median(cpu[kind]) * 1e3:8.2f} (median CPU); "
                f"{gflops:7.1f} GFLOP/s = {gflops / peak:.2f} of matmul"
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
    keras.config.set_dtype_policy("float32")
    return results


# ---------------------------------------------------------------- memory


def memory_child(kind, args, policy):
    """Peak memory of one forward pass, printed as `PEAK <bytes> <how>`."""
    keras.config.set_dtype_policy(policy)
    layer = make_layer(kind, args.heads, args.dim)
    shape = (1, args.memory_length, args.dim)
    x = keras.ops.convert_to_tensor(
        np.random.default_rng(0).normal(size=shape), "float32"
    )
    layer(x[:, :8], x[:, :8])  # build eagerly on a short input
    forward = _steps.Forward(layer, lambda t: layer(t, t))
    forward(x[:, :64])  # pay the runtime's one-off start-up costs
    forward.prepare(x)  # trace / compile the long call without running it
    gpu = _steps.gpu_memory()
    if gpu is not None:
        before, peak = gpu
        forward(x)
        print(f"PEAK {peak() - before} GPU allocator peak minus in use before")
        return
    before = _steps.rss_bytes()
    forward(x)
    print(
        f"PEAK {_steps.peak_rss_bytes() - before} peak RSS minus RSS "
        "before the call"
    )


def benchmark_memory(args, policy):
    print(
        f"forward pass at length {args.memory_length} (batch 1, dim "
        f"{args.dim}, heads {args.heads}, {policy}), one fresh process each:"
    )
    for kind in ("keras", "ours"):
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--memory-child",
                kind,
                f"--dim={args.dim}",
                f"--heads={args.heads}",
                f"--memory-length={args.memory_length}",
                f"--policy={policy}",
            ],
            capture_output=True,
            text=True,
        )
        lines = [s for s in done.stdout.splitlines() if s.startswith("PEAK")]
        if not lines:
            print(f"  {kind:5s}: failed: {done.stderr[-500:]}")
            continue
        _, peak, how = lines[0].split(" ", 2)
        print(f"  {kind:5s}: {int(peak) / 2**20:8.1f} MiB ({how})")


def main(argv=None):
    args = parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child, args, args.policy[0])
        return
    print(_steps.describe())
    if not args.skip_check:
        check()
    for policy in args.policy:
        benchmark_speed(args, policy)
    if not args.skip_memory:
        for policy in args.policy:
            benchmark_memory(args, policy)


if __name__ == "__main__":
    main()
