"""CycleGAN between digits and transformed digits, from unpaired halves.

Domain A: scikit-learn's 8x8 digits in [0, 1]. Domain B: the same kind of
digits transformed, inverted (`1 - x`, the default) or rotated by 90
degrees (`--transform rotate`). A and B come from disjoint halves of the
training split and are shuffled independently every epoch, so no image of
A has its own transform in B: the translators learn from the two
distributions alone (`keras_dlparts.models.CycleGAN`, least-squares
losses, cycle weight 10, no identity loss: it would pull both translators
towards the identity, wrong for both transforms).

Quality: the package's digits judge (`models.digits_judge`) classifies
held-out test digits after translation: `G_BA(b)` directly (B -> A), and
`G_AB(a)` mapped back by the exact inverse transform (A -> B); chance is
10%. Adversarial and cycle losses only ask for some invertible pair of
maps between the two distributions: nothing in them says that a 3 must
stay a 3. The translator's architecture decides which pair is found. A
small convolutional translator (`--translator conv`) sees 7x7 pixels per
output pixel, so the pixel-wise inversion is the map within its reach;
an MLP (`--translator mlp`) sees the whole image and is as free to send
each class to another one. A rotation moves pixels up to 7 places, out of
a small convolution's reach, so the rotation task tests whether the
losses alone keep the class: they do not (see docs/generative.md).

Usage: python examples/cyclegan_digits.py [--epochs 60] [--seed 0]
[--transform invert|rotate] [--translator conv|mlp]
[--out docs/images/cyclegan_digits.png]
"""

import argparse
import time

import keras
import numpy as np

from keras_dlparts.callbacks.image_samples import image_grid
from keras_dlparts.callbacks.image_samples import save_png
from keras_dlparts.data import load_digits
from keras_dlparts.models import CycleGAN
from keras_dlparts.models import digits_judge


def rotate(images, k=1):
    """Rotates `(n, 8, 8, 1)` images by `k` quarter turns."""
    return np.ascontiguousarray(np.rot90(images, k=k, axes=(1, 2)))


def invert(images):
    """`1 - x`: white digits on black become black on white."""
    return 1.0 - images


#: transform -> (A to B, B to A), exact and NumPy.
TRANSFORMS = {
    "invert": (invert, invert),
    "rotate": (rotate, lambda images: rotate(images, k=-1)),
}


def build_translator(kind="conv", width=16, name=None):
    """An 8x8 image translator to [0, 1]: three 3x3 convolutions or an MLP.

    `"conv"`: `Conv2D(width) -> Conv2D(width) -> Conv2D(1)`, ReLU, sigmoid
    output; `"mlp"`: Flatten, `Dense(8 * width)` ReLU, `Dense(64)` sigmoid.
    """
    layers = [keras.Input((8, 8, 1))]
    if kind == "conv":
        for _ in range(2):
            layers.append(
                keras.layers.Conv2D(width, 3, padding="same", activation="relu")
            )
        layers.append(
            keras.layers.Conv2D(
                1, 3, padding="same", activation="sigmoid", dtype="float32"
            )
        )
    else:
        layers += [
            keras.layers.Flatten(),
            keras.layers.Dense(8 * width, activation="relu"),
            keras.layers.Dense(64, activation="sigmoid", dtype="float32"),
            keras.layers.Reshape((8, 8, 1)),
        ]
    return keras.Sequential(layers, name=name)


def build_critic(hidden=64, name=None):
    """An MLP discriminator from 8x8 images to one logit."""
    return keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(hidden),
            keras.layers.LeakyReLU(0.2),
            keras.layers.Dense(1, dtype="float32"),
        ],
        name=name,
    )


def judged(images, labels):
    """The share of `images` the digits judge classifies as `labels`."""
    flat = np.asarray(images, "float32").reshape(len(images), 64)
    predicted = digits_judge().predict(flat, verbose=0).argmax(-1)
    return float(np.mean(predicted == labels))


def main(
    epochs=60,
    seed=0,
    out=None,
    batch_size=32,
    transform="invert",
    translator="conv",
    learning_rate=1e-3,
    verbose=True,
):
    """Trains the CycleGAN and judges its translations of the test split.

    Returns:
        A dict: `judge_ba` and `judge_ab` (the judge's accuracy on
        translated held-out digits), `cycle_loss` (the first and last
        epochs' training cycle loss), `d_loss` and `g_loss` (last epoch),
        `test_cycle_loss` and `seconds`.
    """
    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    (x, _), (x_test, y_test) = load_digits()
    order = rng.permutation(len(x))
    half = len(x) // 2
    domain_a = x[order[:half]]
    to_domain_b, from_domain_b = TRANSFORMS[transform]
    domain_b = to_domain_b(x[order[half : 2 * half]])
    model = CycleGAN(
        build_translator(translator, name="g_ab"),
        build_translator(translator, name="g_ba"),
        build_critic(name="d_a"),
        build_critic(name="d_b"),
        cycle_weight=10.0,
        identity_weight=0.0,
    )
    model.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
        g_optimizer=keras.optimizers.Adam(learning_rate, beta_1=0.5),
    )
    history = {}
    start = time.time()
    for epoch in range(epochs):
        # Each domain in its own fresh order: the pairs never repeat.
        a = domain_a[rng.permutation(half)]
        b = domain_b[rng.permutation(half)]
        logs = model.fit(
            (a, b), batch_size=batch_size, epochs=1, shuffle=False, verbose=0
        ).history
        for key, values in logs.items():
            history.setdefault(key, []).extend(values)
        if verbose and (epoch + 1) % 10 == 0:
            print(
                f"epoch {epoch + 1}: "
                + ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.items())
            )
    seconds = time.time() - start
    test_b = to_domain_b(x_test)
    to_a = model.translate_ba(test_b)
    to_b = model.translate_ab(x_test)
    test_logs = model.evaluate(
        (x_test, test_b), batch_size=len(x_test), verbose=0, return_dict=True
    )
    metrics = {
        "judge_ba": judged(to_a, y_test),
        "judge_ab": judged(from_domain_b(to_b), y_test),
        "cycle_loss": (history["cycle_loss"][0], history["cycle_loss"][-1]),
        "d_loss": history["d_loss"][-1],
        "g_loss": history["g_loss"][-1],
        "test_cycle_loss": float(test_logs["cycle_loss"]),
        "seconds": seconds,
    }
    if verbose:
        print(
            f"judge on translated test digits: B -> A "
            f"{metrics['judge_ba']:.3f}, A -> B (transformed back) "
            f"{metrics['judge_ab']:.3f}; test cycle loss "
            f"{metrics['test_cycle_loss']:.4f}; {seconds:.0f} s"
        )
    if out:
        # One test digit per class: B, G_BA(B), G_AB(G_BA(B)), then A,
        # G_AB(A), G_BA(G_AB(A)).
        picks = [int(np.flatnonzero(y_test == c)[0]) for c in range(10)]
        rows = [
            test_b[picks],
            to_a[picks],
            model.translate_ab(to_a[picks]),
            x_test[picks],
            to_b[picks],
            model.translate_ba(to_b[picks]),
        ]
        grid = image_grid(np.concatenate(rows), columns=10, scale=8, padding=1)
        save_png(grid, out)
        if verbose:
            print(f"saved {out}")
    return metrics


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument(
        "--transform", choices=sorted(TRANSFORMS), default="invert"
    )
    parser.add_argument("--translator", choices=["conv", "mlp"], default="conv")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    flags = parser.parse_args()
    main(
        epochs=flags.epochs,
        seed=flags.seed,
        out=flags.out,
        batch_size=flags.batch_size,
        transform=flags.transform,
        translator=flags.translator,
        learning_rate=flags.learning_rate,
    )
