"""CLIP on digits: contrastive image-text training, then zero-shot labels.

Each training image is paired with a short caption ("an image of a seven").
A `DualEncoder` learns to align the two; it then classifies held-out images
by comparing them with one prompt per class, written in a template it never
saw in training. Logs to ./logs/clip (loss and the learned temperature).

Run:  python examples/clip_digits.py   (about a minute on 2 CPU cores)
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_dlparts.data import DIGIT_NAMES  # noqa: E402
from keras_dlparts.data import Vocabulary  # noqa: E402
from keras_dlparts.data import digit_captions  # noqa: E402
from keras_dlparts.data import load_digits  # noqa: E402
from keras_dlparts.losses import CLIPLoss  # noqa: E402
from keras_dlparts.models import DualEncoder  # noqa: E402

LENGTH = 8


class TemperatureLogger(keras.callbacks.Callback):
    """Adds the learned temperature to the epoch logs (for TensorBoard)."""

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["temperature"] = 1.0 / float(self.model.logit_scale())


def build(vocabulary_size, width=64):
    images = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Flatten(),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.Dense(width),
        ],
        name="image_encoder",
    )
    texts = keras.Sequential(
        [
            keras.Input((LENGTH,), dtype="int32"),
            keras.layers.Embedding(vocabulary_size, width, mask_zero=True),
            keras.layers.GlobalAveragePooling1D(),
            keras.layers.Dense(width),
        ],
        name="text_encoder",
    )
    return DualEncoder(images, texts, projection_dim=32)


def main(epochs=25, log_dir="logs/clip"):
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits()
    captions = digit_captions(y_train)
    vocab = Vocabulary(captions)
    model = build(len(vocab))
    model.compile(keras.optimizers.Adam(3e-3), loss=CLIPLoss())
    model.fit(
        (x_train, vocab.encode_batch(captions, LENGTH)),
        np.zeros(len(x_train)),
        batch_size=128,
        epochs=epochs,
        verbose=2,
        callbacks=[TemperatureLogger(), keras.callbacks.TensorBoard(log_dir)],
    )
    prompts = [f"a picture showing a {name}" for name in DIGIT_NAMES]
    predictions = model.zero_shot_classify(
        x_test, vocab.encode_batch(prompts, LENGTH)
    )
    accuracy = float(np.mean(predictions == y_test))
    print(
        f"zero-shot accuracy on {len(x_test)} held-out digits: "
        f"{accuracy:.3f} (chance 0.100)"
    )
    return accuracy


if __name__ == "__main__":
    main()
