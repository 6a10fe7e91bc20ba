"""Benchmark: a training step of build_resnet(50) vs keras.applications.ResNet50.

TensorFlow-only. Both models are compiled the same way (SGD, categorical
cross-entropy, tf.function graph mode) and trained with `train_on_batch` on
the same batch, interleaving the two repeat by repeat in one process.
Prints the median wall-clock and process-CPU time per step and the ratios
ours/keras (target <= 1.05); on a shared machine the CPU-time ratio is the
steadier figure.

Run: `python benchmarks/resnet.py` (a couple of minutes on 2 CPU cores with
the defaults: batch 4 of 224x224x3 images); `--help` lists the options.
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_dlparts.models import build_resnet  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--classes", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--jit", action="store_true", help="compile with XLA")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    shape = (args.size, args.size, 3)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch,) + shape).astype("float32")
    y = keras.utils.to_categorical(
        rng.integers(0, args.classes, args.batch), args.classes
    )
    models = {
        "ours": build_resnet(50, input_shape=shape, num_classes=args.classes),
        "keras": keras.applications.ResNet50(
            weights=None, input_shape=shape, classes=args.classes
        ),
    }
    for model in models.values():
        model.compile(
            keras.optimizers.SGD(1e-3),
            "categorical_crossentropy",
            jit_compile=args.jit,
        )
        model.train_on_batch(x, y)  # trace and warm up
        model.train_on_batch(x, y)
    print(
        f"batch={args.batch} images {shape}, {args.classes} classes, "
        f"jit_compile={args.jit}; params ours={models['ours'].count_params():,}"
        f" keras={models['keras'].count_params():,}"
    )
    wall = {name: [] for name in models}
    cpu = {name: [] for name in models}
    for _ in range(args.repeats):
        for name, model in models.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            float(model.train_on_batch(x, y))
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    median = {k: statistics.median(v) for k, v in wall.items()}
    median_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    for name in models:
        print(f"{name:>6}: {median[name]:.3f} s/step wall, "
              f"{median_cpu[name]:.3f} s/step process CPU")
    print(f"ratio ours/keras: wall {median['ours'] / median['keras']:.3f}, "
          f"CPU {median_cpu['ours'] / median_cpu['keras']:.3f}")


if __name__ == "__main__":
    main()
