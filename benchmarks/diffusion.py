"""Benchmark: DiffusionModel.generate (one compiled loop) vs a Python loop.

`DiffusionModel.generate` runs all denoising steps of DDPM's Algorithm 2 as
one compiled loop (`keras.ops.fori_loop`, inside `tf.function` on
TensorFlow and `jax.jit` on JAX, with XLA by default). The peer is the
way public examples sample: a Python `for` loop over the timesteps that
calls the same network once per step (`network([x_t, t, label],
training=False)`, eager) and does the update with eager ops. Both use the
same untrained network (timing does not depend on the weights) of the size
`examples/ddpm_digits.py` trains, the same schedule and batch, in one
process, interleaved repeat by repeat.
Compilation is excluded (one warm-up call each). Prints the median seconds
per generate call and the ratio loop / generate (target >= 3).

Runs on the active Keras backend: TensorFlow (the default) or JAX
(`KERAS_BACKEND=jax`), where the loop is `jax.lax.fori_loop`.

Run: `python benchmarks/diffusion.py` (64 samples, 1000 steps: about 10
minutes on a loaded 2-core CPU, most of it in the Python loop);
`--steps 100` for a shorter look, `--quick` for 16 samples and 50 steps.
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

from keras_dlparts.models.diffusion import DiffusionModel  # noqa: E402
from keras_dlparts.models.diffusion_unet import build_diffusion_unet  # noqa: E402
from keras_dlparts.models.noise_schedule import NoiseSchedule  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="samples per call")
    parser.add_argument(
        "--steps", type=int, default=1000, help="diffusion steps"
    )
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--base-filters", type=int, default=32)
    parser.add_argument(
        "--no-jit",
        action="store_true",
        help="tf.function without XLA (TensorFlow only)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="16 samples, 50 steps, 2 repeats"
    )
    return _steps.parse_args(
        parser, argv, {"quick": dict(n=16, steps=50, repeats=2)}
    )


def python_loop_sample(model, n, labels, seed):
    """DDPM Algorithm 2 as a Python loop with one network call per step."""
    s = model.schedule
    generator = keras.random.SeedGenerator(seed)
    shape = (n,) + model.image_shape
    x = keras.random.normal(shape, seed=generator)
    labels = keras.ops.convert_to_tensor(labels)
    for t in reversed(range(s.steps)):
        t_batch = keras.ops.full((n,), t, dtype="int32")
        eps = model.network([x, t_batch, labels], training=False)
        x0 = (
            x - s.sqrt_one_minus_alphas_cumprod[t] * eps
        ) / s.sqrt_alphas_cumprod[t]
        x0 = keras.ops.clip(x0, -1.0, 1.0)
        x = s.posterior_mean_coef1[t] * x0 + s.posterior_mean_coef2[t] * x
        if t > 0:
            z = keras.random.normal(shape, seed=generator)
            x = x + float(np.sqrt(s.posterior_variance[t])) * z
    return keras.ops.convert_to_numpy(x)


def main(argv=None):
    args = parse_args(argv)
    net = build_diffusion_unet(
        (8, 8, 1),
        base_filters=args.base_filters,
        channel_multipliers=(1, 2),
        num_res_blocks=1,
        attention_resolutions=(4,),
        num_classes=10,
    )
    model = DiffusionModel(
        net,
        NoiseSchedule("linear", steps=args.steps),
        num_classes=10,
        data_range=(0.0, 1.0),
    )
    labels = np.arange(args.n, dtype="int32") % 10
    jit = not args.no_jit or keras.backend.backend() != "tensorflow"
    print(_steps.describe())
    print(
        f"backend={keras.backend.backend()} n={args.n} steps={args.steps} "
        f"params={net.count_params()} jit_compile={jit}"
    )

    def compiled():
        return model.generate(args.n, seed=0, labels=labels, jit_compile=jit)

    def loop():
        return python_loop_sample(model, args.n, labels, seed=0)

    start = time.perf_counter()
    compiled()
    warm_up = time.perf_counter() - start
    print(f"generate warm-up (compilation + 1 run): {warm_up:.1f} s")
    model.network([np.zeros((args.n, 8, 8, 1), "float32"), labels, labels])
    times = {"generate": [], "python_loop": []}
    for repeat in range(args.repeats):
        for name, fn in (("generate", compiled), ("python_loop", loop)):
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
            print(
                f"  repeat {repeat}: {name:12s} {times[name][-1]:8.2f} s",
                flush=True,
            )
    ours = statistics.median(times["generate"])
    peer = statistics.median(times["python_loop"])
    print(
        f"generate: {ours:.2f} s ({1e3 * ours / args.steps:.2f} ms/step); "
        f"python loop: {peer:.2f} s ({1e3 * peer / args.steps:.2f} ms/step); "
        f"ratio loop/generate = {peer / ours:.1f}x"
    )


if __name__ == "__main__":
    main()
