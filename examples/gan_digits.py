"""A conditional DCGAN on scikit-learn's 8x8 digits, with a grid per class.

Trains `keras_dlparts.models.ConditionalGAN` built from
`build_dcgan_generator` / `build_dcgan_discriminator` (non-saturating
losses, two Adam optimizers) on the digits training split, logs a sample
grid (one column per class) to TensorBoard and PNG files every
`--log-every` epochs with `keras_dlparts.callbacks.ImageSampleLogger`,
prints how often an independent judge (scikit-learn's SVC from
`tests/support/digits_judge.py`) classifies the samples of each class as
that class (chance: 10%), and saves a grid PNG: one row per class.

Usage: python examples/gan_digits.py [--epochs 25] [--output gan_digits.png]
(about 30 seconds on a 2-core CPU). Then: tensorboard --logdir logs/gan_digits
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

from keras_dlparts.callbacks import ImageSampleLogger
from keras_dlparts.callbacks.image_samples import image_grid
from keras_dlparts.callbacks.image_samples import save_png
from keras_dlparts.data import load_digits
from keras_dlparts.models import ConditionalGAN
from keras_dlparts.models import build_dcgan_discriminator
from keras_dlparts.models import build_dcgan_generator

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from support.digits_judge import judge_accuracy  # noqa: E402


def build_gan(latent_dim=16, filters=32, loss="non_saturating"):
    gan = ConditionalGAN(
        build_dcgan_generator(
            latent_dim, (8, 8, 1), filters=(filters,), num_classes=10
        ),
        build_dcgan_discriminator(
            (8, 8, 1), filters=(filters,), num_classes=10
        ),
        latent_dim=latent_dim,
        num_classes=10,
        seed=0,
    )
    gan.compile(
        d_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(2e-3, beta_1=0.5),
        d_loss=loss,
        g_loss=loss,
    )
    return gan


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument(
        "--loss",
        default="non_saturating",
        choices=["minimax", "non_saturating", "hinge", "least_squares"],
    )
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--output", default="gan_digits.png")
    parser.add_argument("--logdir", default="logs/gan_digits")
    parser.add_argument("--log-every", type=int, default=5)
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    (x, y), _ = load_digits()
    gan = build_gan(loss=args.loss)
    logger = ImageSampleLogger(
        args.logdir,
        every_n_epochs=args.log_every,
        num_samples=40,
        seed=0,
        png_dir=os.path.join(args.logdir, "png"),
        overwrite=True,  # a re-run replaces this example's own PNGs
    )
    start = time.perf_counter()
    history = gan.fit(
        x, y, epochs=args.epochs, batch_size=64, callbacks=[logger], verbose=0
    )
    print(
        f"trained {args.epochs} epochs in {time.perf_counter() - start:.0f} s: "
        f"d_loss {history.history['d_loss'][-1]:.3f}, "
        f"g_loss {history.history['g_loss'][-1]:.3f}"
    )
    labels = np.repeat(np.arange(10), args.per_class)
    samples = gan.generate(len(labels), seed=1, labels=labels)
    per_class = [
        judge_accuracy(samples[labels == c], labels[labels == c])
        for c in range(10)
    ]
    print(
        "judge accuracy per class:",
        " ".join(f"{c}:{a:.2f}" for c, a in enumerate(per_class)),
    )
    accuracy = judge_accuracy(samples, labels)
    print(f"judge accuracy overall: {accuracy:.3f} (chance 0.100)")
    rows = samples.reshape(10, args.per_class, 8, 8, 1)[:, :10].reshape(
        -1, 8, 8, 1
    )
    save_png(image_grid(rows, columns=10, scale=8, padding=1), args.output)
    print(f"saved {args.output}; TensorBoard samples in {args.logdir}")
    return accuracy


if __name__ == "__main__":
    main()
