"""Benchmark: a training step of build_resnet(50) vs keras ResNet50.

Runs on the active Keras backend (`KERAS_BACKEND=tensorflow`, the default,
or `jax`). Both models are compiled the same way (SGD, categorical
cross-entropy; on TensorFlow `tf.function` graph mode, or XLA with `--jit`;
on JAX always `jax.jit`, i.e. XLA) and trained with `train_on_batch` on the
same batch, interleaving the two repeat by repeat in one process.
Prints the median wall-clock and process-CPU time per step and the ratios
ours/keras (target <= 1.05); on a shared machine the CPU-time ratio is the
steadier figure.

Run: `python benchmarks/resnet.py` (a few minutes on 2 CPU cores with the
defaults: batch 4 of 224x224x3 images; `--quick` for a short run on small
images); `--help` lists the options.
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

from keras_dlparts.models import build_resnet  # noqa: E402

QUICK = dict(batch=2, size=64, classes=100, repeats=3)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--jit",
        action="store_true",
        help="compile with XLA on TensorFlow (JAX always does)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"small images and few repeats: {QUICK}",
    )
    return _steps.parse_args(parser, argv, {"quick": QUICK})


def main(argv=None):
    args = parse_args(argv)
    jit = args.jit or keras.backend.backend() != "tensorflow"
    shape = (args.size, args.size, 3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch,) + shape).astype("float32")
    y = keras.utils.to_categorical(
        rng.integers(0, args.classes, args.batch), args.classes
    )
    print(_steps.describe())
    models = {
        "ours": build_resnet(50, image_shape=shape, num_classes=args.classes),
        "keras": keras.applications.ResNet50(
            weights=None, input_shape=shape, classes=args.classes
        ),
    }
    for model in models.values():
        model.compile(
            keras.optimizers.SGD(1e-3),
            "categorical_crossentropy",
            jit_compile=jit,
        )
        model.train_on_batch(x, y)  # trace / compile, warm up
        model.train_on_batch(x, y)
    print(
        f"batch={args.batch} images {shape}, {args.classes} classes, "
        f"{'XLA' if jit else 'graph'}; params "
        f"ours={models['ours'].count_params():,} "
        f"keras={models['keras'].count_params():,}; median of "
        f"{args.repeats} interleaved repeats"
    )

    def time_one(model):
        start, start_cpu = time.perf_counter(), time.process_time()
        float(model.train_on_batch(x, y))
        return time.perf_counter() - start, time.process_time() - start_cpu

    times = _steps.interleaved(models, args.repeats, time_one)
    wall = {k: statistics.median(t[0] for t in v) for k, v in times.items()}
    cpu = {k: statistics.median(t[1] for t in v) for k, v in times.items()}
    for name in models:
        print(
            f"{name:>6}: {wall[name]:.3f} s/step wall, "
            f"{cpu[name]:.3f} s/step process CPU"
        )
    print(
        f"ratio ours/keras: wall {wall['ours'] / wall['keras']:.3f}, "
        f"CPU {cpu['ours'] / cpu['keras']:.3f}"
    )


if __name__ == "__main__":
    main()
