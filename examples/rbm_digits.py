"""An RBM on binarised digits, saving reconstructions as a PNG.

Trains `keras_dlparts.models.RBM` (CD-1) on scikit-learn's 8x8 digits
thresholded at 0.5, prints the reconstruction error before and after, and
saves a PNG: test digits on the top row, their reconstructions below, and
samples after 20 more Gibbs steps at the bottom.

Usage: python examples/rbm_digits.py [--output rbm_digits.png]
"""

import argparse

import keras
import numpy as np
from PIL import Image

from keras_dlparts.data import load_digits
from keras_dlparts.models import RBM


def save_rows(rows, path, scale=8):
    def tile(digit):  # 8x8 digit with a grey one-pixel frame
        return np.pad(digit.reshape(8, 8), 1, constant_values=0.5)

    tiles = [np.concatenate([tile(d) for d in row], axis=1) for row in rows]
    grid = (255 * np.concatenate(tiles, axis=0)).astype("uint8")
    height, width = grid.shape
    Image.fromarray(grid, mode="L").resize(
        (width * scale, height * scale), Image.NEAREST
    ).save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default="rbm_digits.png")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()

    (x, _), (x_test, _) = load_digits(as_images=False)
    x, x_test = (x > 0.5).astype("float32"), (x_test > 0.5).astype("float32")
    rbm = RBM(hidden_units=100, k=1, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(0.1))
    before = rbm.evaluate(x_test, verbose=0)
    rbm.fit(x, batch_size=32, epochs=args.epochs, verbose=0)
    after = rbm.evaluate(x_test, verbose=0)
    print(f"test reconstruction error {before:.4f} -> {after:.4f}")
    originals = x_test[:10]
    save_rows(
        [
            originals,
            np.asarray(rbm.reconstruct(originals)),
            np.asarray(rbm.sample(originals, steps=20)),
        ],
        args.output,
    )
    print(f"reconstructions saved to {args.output}")


if __name__ == "__main__":
    main()
