"""A self-organising map of the iris flowers, with its U-matrix as a PNG.

Trains `keras_dlparts.models.SOM` on scikit-learn's iris data (150 flowers,
4 measurements, 3 species; ships with scikit-learn), prints the
quantization and topographic errors, and saves the U-matrix (light = far
from the neighbours, i.e. a cluster border) with each flower's
best-matching unit marked by its species colour.

Usage: python examples/som_iris.py [--output som_iris_umatrix.png]
"""

import argparse

import numpy as np
from PIL import Image
from PIL import ImageDraw
from sklearn.datasets import load_iris

from keras_dlparts.models import SOM

COLOURS = [(230, 60, 60), (60, 170, 60), (60, 90, 230)]


def save_umatrix(umatrix, winners, labels, path, cell=40):
    rows, cols = umatrix.shape
    grey = (255 * umatrix).astype("uint8")
    image = (
        Image.fromarray(grey, mode="L")
        .resize((cols * cell, rows * cell), Image.NEAREST)
        .convert("RGB")
    )
    draw = ImageDraw.Draw(image)
    rng = np.random.default_rng(0)
    for (row, col), label in zip(winners, labels):
        jitter = rng.uniform(-0.25, 0.25, 2) * cell
        x = (col + 0.5) * cell + jitter[0]
        y = (row + 0.5) * cell + jitter[1]
        draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=COLOURS[label])
    image.save(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", default="som_iris_umatrix.png")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()

    iris = load_iris()
    x = iris.data.astype("float32")
    x = (x - x.mean(0)) / x.std(0)
    som = SOM(
        (10, 10),
        sigma=2.5,
        learning_rate=0.5,
        decay_steps=args.epochs * len(x),
        update="online",
        codebook_initializer="random_normal",
    )
    som.compile()
    som.fit(x, epochs=args.epochs, batch_size=50, verbose=0)
    qe, te = som.evaluate(x, verbose=0)
    print(f"quantization error {qe:.3f}, topographic error {te:.3f}")
    winners = np.asarray(som.map.bmu(x))
    save_umatrix(
        np.asarray(som.map.umatrix()), winners, iris.target, args.output
    )
    print(f"U-matrix saved to {args.output}")


if __name__ == "__main__":
    main()
