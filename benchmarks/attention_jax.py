"""Benchmark on the JAX backend (meant for a GPU): our MultiHeadAttention vs Keras'.

JAX-only companion of `benchmarks/attention.py`. It first checks on the JAX
backend that every score matches NumPy with and without causal/padding
masks (masked weights exactly 0) and that `score="scaled_dot"` equals
`keras.layers.MultiHeadAttention` after `set_weights`; then it times a jitted
training step (forward, MSE, backward, Adam via `stateless_call` /
`stateless_apply`) of both layers, interleaved, in float32 and
mixed_bfloat16, against an 8192^3 matmul; then the peak GPU memory of a
forward pass at sequence length 4096, one fresh process per layer.

It imports our modules without `keras_dlparts/__init__.py` (whose
callbacks/data/testing import TensorFlow), so it runs where only JAX and
Keras are installed: `KERAS_BACKEND=jax python benchmarks/attention_jax.py`.
"""

import os
import statistics
import subprocess
import sys
import time
import types

os.environ["KERAS_BACKEND"] = "jax"
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
ROOT = os.getcwd()
# Import our modules without the package __init__ (which imports TensorFlow,
# absent on the device machine).
for name, sub in (
    ("keras_dlparts", ""),
    ("keras_dlparts.ops", "/ops"),
    ("keras_dlparts.layers", "/layers"),
):
    module = types.ModuleType(name)
    module.__path__ = [f"{ROOT}/keras_dlparts{sub}"]
    sys.modules[name] = module

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_dlparts.layers.attention import SCORES  # noqa: E402
from keras_dlparts.layers.attention import MultiHeadAttention  # noqa: E402
from keras_dlparts.ops.attention import scaled_dot_product_attention  # noqa: E402
from keras_dlparts.ops.similarity import cosine_similarity  # noqa: E402


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x), "float64")


def numpy_mha(layer, query, value, mask=None):
    w = _np
    proj = lambda x, d: np.einsum("bsd,dnh->bsnh", x, w(d.kernel)) + w(d.bias)  # noqa
    q, k, v = (
        proj(query, layer.query_dense),
        proj(value, layer.key_dense),
        proj(value, layer.value_dense),
    )
    d = q.shape[-1]
    s = layer.score
    if s == "scaled_dot":
        scores = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(d)
    elif s == "dot":
        scores = np.einsum("btnh,bsnh->bnts", q, k)
    elif s == "general":
        scores = np.einsum("btnh,nhg,bsng->bnts", q, w(layer.general_kernel), k)
    elif s == "additive":
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
            np.einsum("btnh,bsnh->bnts", qn, kn) * w(layer.cosine_scale)[:, None, None]
        )
    mask = np.ones((1, 1, 1), bool) if mask is None else mask
    mask = np.broadcast_to(np.asarray(mask)[:, None], scores.shape)
    e = np.where(mask, np.exp(scores - scores.max(-1, keepdims=True)), 0.0)
    tot = e.sum(-1, keepdims=True)
    weights = np.divide(e, tot, out=np.zeros_like(e), where=tot > 0)
    ctx = np.einsum("bnts,bsnh->btnh", weights, v)
    return (
        np.einsum("btnh,nhd->btd", ctx, w(layer.output_dense.kernel))
        + w(layer.output_dense.bias),
        weights,
    )


def correctness():
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
                kw, mask = {"use_causal_mask": True}, np.tril(np.ones((T, S), bool))[
                    None
                ]
            elif masking == "padding":
                kw, mask = {"value_mask": vm, "attention_mask": am}, am & vm[:, None]
            out, wts = layer(q, v, return_attention_scores=True, **kw)
            ro, rw = numpy_mha(layer, q, v, mask)
            fused = layer(q, v, **kw)
            err = max(
                np.abs(_np(out) - ro).max(),
                np.abs(_np(wts) - rw).max(),
                np.abs(_np(fused) - ro).max(),
            )
            worst = max(worst, err)
            if mask is not None:
                hidden = ~np.broadcast_to(mask[:, None], rw.shape)
                assert np.all(_np(wts)[hidden] == 0.0), (score, masking)
            assert err < 1e-5, (score, masking, err)
    print(
        "JAX: every score x (no mask, causal, padding) matches NumPy; "
        f"worst abs err {worst:.2e}; masked weights exactly 0"
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
            a = keras.tree.flatten(ours(q, v, return_attention_scores=scores, **kw))
            b = keras.tree.flatten(peer(q, v, return_attention_scores=scores, **kw))
            errs += [np.abs(_np(x) - _np(y)).max() for x, y in zip(a, b)]
    print(
        "JAX: equal to keras.layers.MultiHeadAttention after set_weights: "
        f"max abs diff {max(errs):.2e}"
    )
    assert max(errs) < 1e-5
    qq, kk, vv = rng.normal(size=(3, 2, 5, 4))
    m = np.tril(np.ones((5, 5), bool))
    o, w = scaled_dot_product_attention(qq, kk, vv, mask=m)
    e = np.where(m, np.exp(qq @ kk.swapaxes(-1, -2) / 2.0), 0.0)
    ref_w = e / e.sum(-1, keepdims=True)
    assert np.allclose(_np(w), ref_w, atol=1e-5) and np.allclose(
        _np(o), ref_w @ vv, atol=1e-5
    )
    assert np.all(_np(w)[:, ~m] == 0.0)
    c = _np(
        cosine_similarity(
            np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[1.0, 0.0], [2.0, 2.0]])
        )
    )
    assert np.allclose(c, [0.0, 1.0])
    print("JAX: ops.scaled_dot_product_attention and ops.cosine_similarity match NumPy")
    jax.config.update("jax_default_matmul_precision", None)


def make_step(layer, x, y):
    optimizer = keras.optimizers.Adam(1e-3)
    optimizer.build(layer.trainable_variables)

    def loss_fn(tv, ntv, x, y):
        out, ntv = layer.stateless_call(tv, ntv, x, x, training=True)
        return jnp.mean(jnp.square(out.astype("float32") - y)), ntv

    @jax.jit
    def step(tv, ntv, ov, x, y):
        (loss, ntv), grads = jax.value_and_grad(loss_fn, has_aux=True)(tv, ntv, x, y)
        tv, ov = optimizer.stateless_apply(ov, grads, tv)
        return loss, tv, ntv, ov

    state = [
        [v.value for v in layer.trainable_variables],
        [v.value for v in layer.non_trainable_variables],
        [v.value for v in optimizer.variables],
    ]

    def run(n):
        nonlocal state
        loss = None
        for _ in range(n):
            loss, *state = step(*state, x, y)
        loss.block_until_ready()

    return run


def speed(policy, B=32, T=1024, D=1024, H=16, repeats=9, steps=10):
    keras.config.set_dtype_policy(policy)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(B, T, D)), "float32")
    y = jnp.asarray(rng.normal(size=(B, T, D)), "float32")
    runs = {}
    peer = keras.layers.MultiHeadAttention(H, D // H)
    peer(x, x)
    ours = MultiHeadAttention(H, D // H)
    ours(x, x)
    ours.set_weights(peer.get_weights())
    for kind, layer in (("keras", peer), ("ours", ours)):
        runs[kind] = make_step(layer, x, y)
        runs[kind](2)
    dt = "bfloat16" if "bfloat16" in policy else "float32"
    a = jnp.asarray(rng.normal(size=(8192, 8192)), dt)
    mm = jax.jit(lambda a: (a @ a).sum())
    mm(a).block_until_ready()
    times = {"keras": [], "ours": [], "mm": []}
    for r in range(repeats):
        for kind in (("keras", "ours") if r % 2 else ("ours", "keras")):
            t = time.perf_counter()
            runs[kind](steps)
            times[kind].append((time.perf_counter() - t) / steps)
        t = time.perf_counter()
        for _ in range(steps):
            s = mm(a)
        s.block_until_ready()
        times["mm"].append((time.perf_counter() - t) / steps)
    flops = 3 * (4 * 2 * B * T * D * D + 4 * B * T * T * D)
    peak = 2 * 8192**3 / min(times["mm"]) / 1e12
    k, o = min(times["keras"]), min(times["ours"])
    ratios = [t_o / t_k for t_o, t_k in zip(times["ours"], times["keras"])]
    print(
        f"{policy:15s} B={B} T={T} D={D} heads={H}: keras {k*1e3:.2f} ms, "
        f"ours {o*1e3:.2f} ms (best of {repeats}x{steps}); ours/keras best "
        f"{o/k:.3f}, median per-repeat {statistics.median(ratios):.3f}; "
        f"ours {flops/o/1e12:.1f} TFLOP/s = {flops/o/1e12/peak:.2f} of an "
        f"8192^3 {dt} matmul ({peak:.0f} TFLOP/s)"
    )
    keras.config.set_dtype_policy("float32")


def memory_child(kind, policy):
    keras.config.set_dtype_policy(policy)
    layer = (MultiHeadAttention if kind == "ours" else keras.layers.MultiHeadAttention)(
        8, 32
    )
    x = jnp.asarray(np.random.default_rng(0).normal(size=(1, 4096, 256)), "float32")
    layer(x[:, :8], x[:, :8])
    tv = [v.value for v in layer.trainable_variables]
    fwd = jax.jit(lambda tv, x: layer.stateless_call(tv, [], x, x)[0])
    compiled = fwd.lower(tv, x).compile()
    dev = jax.devices()[0]
    before = dev.memory_stats()["bytes_in_use"]
    compiled(tv, x).block_until_ready()
    peak = dev.memory_stats()["peak_bytes_in_use"]
    print(f"PEAK {peak - before}")


def memory():
    for policy in ("float32", "mixed_bfloat16"):
        line = []
        for kind in ("keras", "ours"):
            out = subprocess.run(
                [sys.executable, __file__, "mem", kind, policy],
                capture_output=True,
                text=True,
            )
            peak = [s for s in out.stdout.splitlines() if s.startswith("PEAK")]
            line.append(
                f"{kind} {int(peak[0].split()[1]) / 2**20:.1f} MiB"
                if peak
                else f"{kind} failed: {out.stderr[-300:]}"
            )
        print(
            f"forward at length 4096 (batch 1, dim 256, 8 heads), {policy}, "
            "GPU allocator peak minus in-use before: "
            + ", ".join(line)
        )


if __name__ == "__main__":
    if sys.argv[1:2] == ["mem"]:
        memory_child(sys.argv[2], sys.argv[3])
        sys.exit()
    print("jax", jax.__version__, "keras", keras.__version__, jax.devices())
    correctness()
    for policy in ("float32", "mixed_bfloat16"):
        speed(policy)
    memory()
