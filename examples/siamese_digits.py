"""Few-shot digits with a Siamese network: train on digits 0-4, classify 5-9.

A shared encoder is trained with the triplet loss on the classes 0-4 only.
It is then scored by 5-way 1-shot classification (one labelled example per
class, nearest prototype) on held-out images, both of the trained classes
and of the classes 5-9 it never saw. The embeddings of the held-out images
go to TensorBoard's projector (./logs/siamese, "Projector" tab).

Run:  python examples/siamese_digits.py   (under a minute on 2 CPU cores)
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_dlparts.callbacks import LatentSpaceProjector  # noqa: E402
from keras_dlparts.data import load_digits  # noqa: E402
from keras_dlparts.losses import TripletLoss  # noqa: E402
from keras_dlparts.models import SiameseNetwork  # noqa: E402
from keras_dlparts.models import few_shot_accuracy  # noqa: E402

SEEN = [0, 1, 2, 3, 4]


def main(epochs=10, log_dir="logs/siamese"):
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits(as_images=False)
    train = np.isin(y_train, SEEN)
    seen, unseen = np.isin(y_test, SEEN), ~np.isin(y_test, SEEN)
    encoder = keras.Sequential(
        [
            keras.Input((64,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(32),
        ],
        name="encoder",
    )
    model = SiameseNetwork(encoder)
    model.compile(keras.optimizers.Adam(1e-3), loss=TripletLoss(margin=0.5))
    projector = LatentSpaceProjector(
        log_dir, x_test, labels=y_test, layer_name="encoder", overwrite=True
    )
    model.fit(
        x_train[train],
        y_train[train],
        batch_size=128,
        epochs=epochs,
        verbose=2,
        callbacks=[keras.callbacks.TensorBoard(log_dir)],
    )
    projector.set_model(keras.Sequential([keras.Input((64,)), encoder]))
    projector.write(step=epochs)
    for name, mask in (
        ("trained classes 0-4", seen),
        ("unseen classes 5-9", unseen),
    ):
        accuracy = few_shot_accuracy(
            model, x_test[mask], y_test[mask], n_way=5, k_shot=1
        )
        print(f"5-way 1-shot accuracy, {name}: {accuracy:.3f} (chance 0.200)")


if __name__ == "__main__":
    main()
