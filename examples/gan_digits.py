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

Remedies against the within-class mode collapse: `--spectral-norm`,
`--minibatch-std 4`, `--ttur`, a larger discriminator `--d-filters
32,64` and a moving average of the generator's weights `--g-ema 0.99`;
`--diversity` prints per-class FD-digits and mean pairwise pixel
distances of samples against held-out real digits (see
`examples/generative_diversity.py` for the comparison table).
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
from keras_dlparts.models import mean_pairwise_distance
from keras_dlparts.models import per_class_fd_digits

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))
from support.digits_judge import judge_accuracy  # noqa: E402


def build_gan(
    latent_dim=16,
    filters=32,
    loss="non_saturating",
    spectral_norm=False,
    minibatch_std=None,
    ttur=False,
    d_filters=None,
    dropout=0.3,
    g_ema=None,
):
    """The conditional DCGAN; the remedies are off by default.

    `ttur=True` (two time-scale update rule, Heusel et al., 2017) trains
    the discriminator at 4e-3 and the generator at 1e-3 instead of both
    at 2e-3. `d_filters` (default `(filters,)`) and `dropout` size the
    discriminator. `g_ema` (e.g. 0.99) keeps an exponential moving average
    of the generator's weights (Adam's `use_ema`), which `fit` leaves in
    the generator.
    """
    gan = ConditionalGAN(
        build_dcgan_generator(
            latent_dim, (8, 8, 1), filters=(filters,), num_classes=10
        ),
        build_dcgan_discriminator(
            (8, 8, 1),
            filters=d_filters or (filters,),
            num_classes=10,
            dropout=dropout,
            spectral_norm=spectral_norm,
            minibatch_std=minibatch_std,
        ),
        latent_dim=latent_dim,
        num_classes=10,
        seed=0,
    )
    d_rate, g_rate = (4e-3, 1e-3) if ttur else (2e-3, 2e-3)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(d_rate, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(
            g_rate,
            beta_1=0.5,
            use_ema=g_ema is not None,
            ema_momentum=g_ema or 0.99,
        ),
        d_loss=loss,
        g_loss=loss,
    )
    return gan


def diversity(samples, labels, reference=None):
    """Per-class FD-digits and mean pairwise distances against real data.

    The reference is the test split against the training split; samples
    are drawn with the test split's labels (equal set sizes per class).
    Returns a dict of per-class arrays and their summaries.
    """
    (x, y), (x_test, y_test) = load_digits()
    fd = per_class_fd_digits(samples, labels, x, y)
    spread = mean_pairwise_distance(samples, labels)
    if reference is None:
        reference = {
            "fd": per_class_fd_digits(x_test, y_test, x, y),
            "spread": mean_pairwise_distance(x_test, y_test),
        }
    return {
        "fd": fd,
        "fd_ratio": fd / reference["fd"],
        "spread": spread,
        "spread_ratio": spread / reference["spread"],
        "reference": reference,
    }


def print_diversity(result):
    print(
        "per-class FD-digits (samples vs train; held-out real vs train):",
        " ".join(
            f"{c}:{a:.2f}/{b:.2f}"
            for c, (a, b) in enumerate(
                zip(result["fd"], result["reference"]["fd"])
            )
        ),
    )
    print(
        f"FD ratio to real: mean {result['fd_ratio'].mean():.2f}, "
        f"worst {result['fd_ratio'].max():.2f} (target <= 3); "
        f"pairwise-distance ratio: mean "
        f"{result['spread_ratio'].mean():.2f}, "
        f"worst {result['spread_ratio'].min():.2f} (target >= 0.70)"
    )


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
    parser.add_argument(
        "--spectral-norm",
        action="store_true",
        help="spectral normalisation in the discriminator",
    )
    parser.add_argument(
        "--minibatch-std",
        type=int,
        default=None,
        metavar="GROUP",
        help="a minibatch standard deviation channel, groups of GROUP",
    )
    parser.add_argument(
        "--ttur",
        action="store_true",
        help="two time-scale learning rates: D 4e-3, G 1e-3",
    )
    parser.add_argument(
        "--d-filters",
        default="32",
        help="the discriminator's filters per block, e.g. 32,64",
    )
    parser.add_argument(
        "--g-ema",
        type=float,
        default=None,
        metavar="MOMENTUM",
        help="sample from a moving average of the generator's weights",
    )
    parser.add_argument(
        "--diversity",
        action="store_true",
        help="print per-class FD-digits and pairwise distances vs real data",
    )
    args = parser.parse_args(argv)

    keras.utils.set_random_seed(0)
    (x, y), (_, y_test) = load_digits()
    gan = build_gan(
        loss=args.loss,
        spectral_norm=args.spectral_norm,
        minibatch_std=args.minibatch_std,
        ttur=args.ttur,
        d_filters=tuple(int(f) for f in args.d_filters.split(",")),
        g_ema=args.g_ema,
    )
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
    if args.diversity:
        print_diversity(
            diversity(gan.generate(len(y_test), seed=2, labels=y_test), y_test)
        )
    rows = samples.reshape(10, args.per_class, 8, 8, 1)[:, :10].reshape(
        -1, 8, 8, 1
    )
    save_png(image_grid(rows, columns=10, scale=8, padding=1), args.output)
    print(f"saved {args.output}; TensorBoard samples in {args.logdir}")
    return accuracy


if __name__ == "__main__":
    main()
