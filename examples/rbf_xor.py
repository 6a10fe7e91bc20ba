"""XOR: a perceptron cannot learn it, an RBF network and an MLP can.

The four XOR points are not linearly separable, so the perceptron rule
never gets more than three of them right. An RBF network with its centres
on the four corners maps them to features a linear read-out separates, and
a small MLP learns its own such features.

Usage: python examples/rbf_xor.py
"""

import keras
import numpy as np

from keras_dlparts.models import PerceptronClassifier
from keras_dlparts.models import build_mlp
from keras_dlparts.models import build_rbf_network

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], "float32")
Y = np.array([[0], [1], [1], [0]], "float32")


def main():
    keras.utils.set_random_seed(0)
    perceptron = PerceptronClassifier()
    perceptron.compile()
    perceptron.fit(X, Y, batch_size=1, epochs=50, shuffle=False, verbose=0)
    predicted = np.asarray(perceptron(X)).astype(int).ravel()
    print(
        f"perceptron after 50 epochs: predictions {predicted.tolist()}, "
        f"accuracy {np.mean(predicted == Y.ravel()):.2f} (never 1.00)"
    )

    rbf = build_rbf_network(
        2, 4, centers=X, gamma=1.0, output_activation="sigmoid"
    )
    mlp = build_mlp(
        2, hidden_units=(8,), activation="tanh", output_activation="sigmoid"
    )
    for name, model in (("RBF network", rbf), ("MLP", mlp)):
        model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
        model.fit(
            np.tile(X, (300, 1)), np.tile(Y, (300, 1)), batch_size=4, verbose=0
        )
        predicted = (np.asarray(model(X)) > 0.5).astype(int).ravel()
        print(
            f"{name}: predictions {predicted.tolist()}, "
            f"accuracy {np.mean(predicted == Y.ravel()):.2f}"
        )


if __name__ == "__main__":
    main()
