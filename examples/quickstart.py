"""Quickstart: a small transformer classifier of handwritten digits.

Each 8x8 digit from scikit-learn is read as a sequence of 8 rows of 8
pixels. keras_dlparts builds the model (a row projection, learned position
embeddings, two transformer encoder blocks with our MultiHeadAttention, mean
pooling), Keras trains it with a progress bar and a TensorBoard log under
./logs, and the trained model round-trips through a `.keras` file loaded
with `safe_mode=True`.

Run:  python examples/quickstart.py      (under a minute on 2 CPU cores)
Then: tensorboard --logdir logs
"""

import os
import pathlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from keras_dlparts.data import load_digits  # noqa: E402
from keras_dlparts.models import build_transformer_classifier  # noqa: E402

OUTPUT_DIR = pathlib.Path("outputs")
LOG_DIR = pathlib.Path("logs") / "quickstart"


def main(epochs=30, batch_size=32):
    keras.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_digits()
    # (n, 8, 8, 1) images -> (n, 8, 8) sequences: 8 rows of 8 pixels.
    x_train, x_test = x_train[..., 0], x_test[..., 0]

    model = build_transformer_classifier(
        input_shape=(8, 8),
        num_classes=10,
        embedding_dim=64,
        num_heads=4,
        intermediate_dim=128,
        num_layers=2,
        dropout=0.1,
    )
    steps = epochs * int(np.ceil(0.9 * len(x_train) / batch_size))
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(2e-3, decay_steps=steps)
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.summary()
    model.fit(
        x_train,
        y_train,
        validation_split=0.1,
        epochs=epochs,
        batch_size=batch_size,
        callbacks=[keras.callbacks.TensorBoard(log_dir=str(LOG_DIR))],
    )

    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy: {accuracy:.4f}")

    OUTPUT_DIR.mkdir(exist_ok=True)
    path = OUTPUT_DIR / "quickstart_transformer.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    same = np.allclose(
        model.predict(x_test, verbose=0),
        reloaded.predict(x_test, verbose=0),
        atol=1e-6,
    )
    print(
        f"saved to {path}; reloaded with safe_mode=True predicts the same: "
        f"{same}"
    )
    if not same:
        raise SystemExit("the reloaded model's predictions differ")
    if accuracy < 0.9:
        raise SystemExit(f"test accuracy {accuracy:.3f} is below 0.90")
    return accuracy


if __name__ == "__main__":
    main()
