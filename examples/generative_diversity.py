"""Within-class diversity of the conditional GAN, the VAE and diffusion.

For every model, samples come with the labels of the digits test split
(about 36 per class), and each class is scored against the training
digits of that class by `keras_dlparts.models.per_class_fd_digits` and
by `mean_pairwise_distance` (Euclidean, in pixel space). The real-data
baseline is the held-out test split itself: each model's per-class
FD-digits is divided by the baseline's FD-digits of that class, and its
mean pairwise distance by the test split's own (so the real data scores
1 and 1). The conditional GAN (`examples/gan_digits.py`) is trained
with each remedy on its own and with all of them: spectral
normalisation (`sn`), a minibatch standard deviation channel (`mbstd`),
two time-scale learning rates (`ttur`), and with all of them plus a
larger discriminator (`all_d2`: blocks of 32 and 64 filters) and other
variants (`all_nodrop`, `all_d2_nodrop`, `all_d2_hinge`, `d2`, `ttur_d2`,
`sn_ttur_d2`, `mbstd_ttur_d2`), and the best of them with the
generator's weights averaged (`ema_mbstd_ttur_d2`: Adam's `use_ema`,
momentum 0.99, the weights `fit` leaves in the generator).
The VAE
(`examples/vae_digits.py`) is unconditional: its samples are labelled by
the package's digits judge, and for each class the first samples it
gives that class are kept (as many as the test split has). Diffusion
is a small conditional `DiffusionModel` (v-prediction, the U-Net of
`examples/diffusion_quality_table.py` with 16 base filters, no EMA)
sampled with DPM-Solver++(2M) in 20 steps. Prints a Markdown table (the
one in docs/generative.md).

Usage: KERAS_BACKEND=jax python examples/generative_diversity.py
    [--gan-configs baseline,sn,mbstd,ttur,all] [--models gan,vae,diffusion]
    [--gan-epochs 25] [--gan-seed 0] [--vae-epochs 60]
    [--diffusion-epochs 20]
(the GAN trains in 1-5 minutes per configuration on the loaded 2-core VM,
the VAE in 16 s, diffusion in 3.5 minutes).
"""

import argparse
import os
import sys
import time

import keras
import numpy as np

from keras_dlparts.data import load_digits
from keras_dlparts.models import digits_judge
from keras_dlparts.models import mean_pairwise_distance
from keras_dlparts.models import per_class_fd_digits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffusion_quality_table  # noqa: E402
import gan_digits  # noqa: E402
import vae_digits  # noqa: E402

GAN_CONFIGS = {
    "baseline": {},
    "sn": {"spectral_norm": True},
    "mbstd": {"minibatch_std": 4},
    "ttur": {"ttur": True},
    "all": {"spectral_norm": True, "minibatch_std": 4, "ttur": True},
}
# Beyond the three remedies: a second discriminator block (32, 64 filters,
# "d2"), no dropout, the hinge loss (SNGAN's), alone or with remedies.
_ALL = GAN_CONFIGS["all"]
GAN_CONFIGS["all_d2"] = {**_ALL, "d_filters": (32, 64)}
GAN_CONFIGS["all_nodrop"] = {**_ALL, "dropout": 0.0}
GAN_CONFIGS["all_d2_nodrop"] = {**GAN_CONFIGS["all_d2"], "dropout": 0.0}
GAN_CONFIGS["all_d2_hinge"] = {**GAN_CONFIGS["all_d2"], "loss": "hinge"}
GAN_CONFIGS["ttur_d2"] = {"ttur": True, "d_filters": (32, 64)}
GAN_CONFIGS["sn_ttur_d2"] = {**GAN_CONFIGS["ttur_d2"], "spectral_norm": True}
GAN_CONFIGS["mbstd_ttur_d2"] = {**GAN_CONFIGS["ttur_d2"], "minibatch_std": 4}
GAN_CONFIGS["d2"] = {"d_filters": (32, 64)}
# The best of those, sampled from an exponential moving average of the
# generator's weights (Adam's use_ema, momentum 0.99: about the last 100
# steps, 4 epochs).
GAN_CONFIGS["ema_mbstd_ttur_d2"] = {
    **GAN_CONFIGS["mbstd_ttur_d2"],
    "g_ema": 0.99,
}


def judge_labels(images):
    probabilities = digits_judge().predict(
        images.reshape(len(images), 64), verbose=0
    )
    return probabilities.argmax(-1)


def score(name, samples, labels, seconds, reference, x, y):
    """One table row: per-class ratios against the real-data baseline.

    A class with fewer than 2 samples (the VAE may not draw one) scores an
    infinite FD-digits ratio and a pairwise-distance ratio of 0.
    """
    fd, spread = np.full(10, np.inf), np.zeros(10)
    present = [c for c in range(10) if np.sum(labels == c) >= 2]
    keep, ref = np.isin(labels, present), np.isin(y, present)
    fd[present] = per_class_fd_digits(
        samples[keep], labels[keep], x[ref], y[ref]
    )
    spread[present] = mean_pairwise_distance(samples[keep], labels[keep])
    fd, spread = fd / reference["fd"], spread / reference["spread"]
    accuracy = float(np.mean(judge_labels(samples) == labels))
    return {
        "model": name,
        "seconds": seconds,
        "fd_mean": float(fd.mean()),
        "fd_worst": float(fd.max()),
        "fd_within_3x": int(np.sum(fd <= 3.0)),
        "spread_mean": float(spread.mean()),
        "spread_worst": float(spread.min()),
        "accuracy": accuracy,
    }


def train_gan(config, epochs, y_test, x, y, seed=0):
    keras.utils.set_random_seed(seed)
    gan = gan_digits.build_gan(**GAN_CONFIGS[config])
    start = time.perf_counter()
    gan.fit(x, y, epochs=epochs, batch_size=64, verbose=0)
    seconds = time.perf_counter() - start
    return gan.generate(len(y_test), seed=2, labels=y_test), seconds


def train_vae(epochs, y_test, x):
    keras.utils.set_random_seed(0)
    vae = vae_digits.build_vae()
    vae.compile(optimizer=keras.optimizers.Adam(2e-3))
    start = time.perf_counter()
    vae.fit(x, epochs=epochs, batch_size=64, verbose=0)
    seconds = time.perf_counter() - start
    pool = vae.generate(20 * len(y_test), seed=2)
    pool_labels = judge_labels(pool)
    keep = []
    for c in range(10):
        wanted = int(np.sum(y_test == c))
        keep.extend(np.flatnonzero(pool_labels == c)[:wanted])
    keep = np.sort(np.asarray(keep))
    return pool[keep], pool_labels[keep], seconds


def train_diffusion(epochs, y_test, x, y, sample_steps, base_filters=16):
    keras.utils.set_random_seed(0)
    model = diffusion_quality_table.build_model("v", base_filters, None)
    model.compile(optimizer=keras.optimizers.Adam(2e-3))
    start = time.perf_counter()
    model.fit((x, y), epochs=epochs, batch_size=64, verbose=0)
    seconds = time.perf_counter() - start
    samples = model.generate(
        len(y_test),
        seed=2,
        labels=y_test,
        steps=sample_steps,
        sampler="dpmpp_2m",
    )
    return samples, seconds


def print_table(rows):
    print(
        "| model | train s | FD-digits / real, mean | worst | classes <= 3x "
        "| pairwise distance / real, mean | worst | judge accuracy |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(
            f"| {r['model']} | {r['seconds']:.0f} | {r['fd_mean']:.2f} "
            f"| {r['fd_worst']:.2f} | {r['fd_within_3x']}/10 "
            f"| {r['spread_mean']:.2f} | {r['spread_worst']:.2f} "
            f"| {r['accuracy']:.2f} |"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default="gan,vae,diffusion")
    parser.add_argument("--gan-configs", default=",".join(GAN_CONFIGS))
    parser.add_argument("--gan-epochs", type=int, default=25)
    parser.add_argument("--vae-epochs", type=int, default=60)
    parser.add_argument("--diffusion-epochs", type=int, default=20)
    parser.add_argument("--sample-steps", type=int, default=20)
    parser.add_argument("--diffusion-filters", type=int, default=16)
    parser.add_argument(
        "--gan-seed", type=int, default=0, help="the GAN's training seed"
    )
    args = parser.parse_args(argv)
    models = args.models.split(",")
    configs = args.gan_configs.split(",")
    for config in configs:
        if config not in GAN_CONFIGS:
            parser.error(f"unknown GAN configuration {config!r}")

    (x, y), (x_test, y_test) = load_digits()
    reference = {
        "fd": per_class_fd_digits(x_test, y_test, x, y),
        "spread": mean_pairwise_distance(x_test, y_test),
    }
    print(
        "real baseline (test vs train) per-class FD-digits:",
        np.round(reference["fd"], 2).tolist(),
        "mean pairwise distance:",
        np.round(reference["spread"], 2).tolist(),
        flush=True,
    )
    rows = [score("real test split", x_test, y_test, 0.0, reference, x, y)]
    for config in configs if "gan" in models else []:
        samples, seconds = train_gan(
            config, args.gan_epochs, y_test, x, y, seed=args.gan_seed
        )
        row = score(f"GAN {config}", samples, y_test, seconds, reference, x, y)
        rows.append(row)
        print(row, flush=True)
    if "vae" in models:
        samples, labels, seconds = train_vae(args.vae_epochs, y_test, x)
        rows.append(score("VAE", samples, labels, seconds, reference, x, y))
        print(rows[-1], flush=True)
    if "diffusion" in models:
        samples, seconds = train_diffusion(
            args.diffusion_epochs,
            y_test,
            x,
            y,
            args.sample_steps,
            args.diffusion_filters,
        )
        rows.append(
            score("diffusion", samples, y_test, seconds, reference, x, y)
        )
        print(rows[-1], flush=True)
    print_table(rows)
    return rows


if __name__ == "__main__":
    main()
