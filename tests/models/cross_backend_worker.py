"""One training step of each model with its own loss, on one Keras backend.

Run as a subprocess, with KERAS_BACKEND set before Keras is imported:

    KERAS_BACKEND=tensorflow python cross_backend_worker.py DIR
    KERAS_BACKEND=jax        python cross_backend_worker.py DIR

Each case builds a model, sets its weights from a fixed NumPy generator (the
same values on every backend), trains it for one step with a plain
`compile()`/`fit()` (SGD, one batch) and writes `DIR/<case>.npz`: the logs of
the step and every weight before and after it. The backends draw different
random numbers for the same seed, so the worker replaces `keras.random`'s
draws by slices of fixed NumPy tables: both backends then train on the same
noise, negatives and timesteps, and any difference left comes from the
models.
"""

import os
import pathlib
import sys

import keras
import numpy as np

TABLE_SIZE = 4096
TABLES = {
    kind: np.random.default_rng(seed).random(TABLE_SIZE).astype("float32")
    for seed, kind in enumerate(("normal", "uniform", "randint", "categorical"))
}
# Standard normal values from the "normal" uniforms (Box-Muller, one half).
_u = np.random.default_rng(10).random(TABLE_SIZE)
TABLES["normal"] = (
    np.sqrt(-2.0 * np.log(1.0 - TABLES["normal"])) * np.cos(2 * np.pi * _u)
).astype("float32")


def _draw(kind, shape):
    """The first `prod(shape)` values of a table, shaped `shape`.

    `shape` may hold tensors (TensorFlow traces `fit` with an unknown batch
    size), so the slice is taken with backend ops.
    """
    table = keras.ops.convert_to_tensor(TABLES[kind])
    if all(isinstance(d, (int, np.integer)) for d in shape):
        size = int(np.prod(shape))
        return keras.ops.reshape(table[:size], tuple(int(d) for d in shape))
    import tensorflow as tf  # a traced TensorFlow shape

    shape = tf.stack([tf.cast(d, "int32") for d in shape])
    return tf.reshape(table[: tf.reduce_prod(shape)], shape)


def _normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    values = _draw("normal", shape) * stddev + mean
    return keras.ops.cast(values, dtype or "float32")


def _uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    values = _draw("uniform", shape) * (maxval - minval) + minval
    return keras.ops.cast(values, dtype or "float32")


def _randint(shape, minval, maxval, dtype="int32", seed=None):
    values = keras.ops.floor(_draw("randint", shape) * (maxval - minval))
    return keras.ops.cast(values + minval, dtype)


def _categorical(logits, num_samples, dtype="int32", seed=None):
    # Ids 1 .. classes - 1: every model here keeps id 0 for padding.
    classes = logits.shape[-1]
    values = _draw("categorical", (logits.shape[0], num_samples))
    return keras.ops.cast(1.0 + keras.ops.floor(values * (classes - 1)), dtype)


def fixed_random():
    keras.random.normal = _normal
    keras.random.uniform = _uniform
    keras.random.randint = _randint
    keras.random.categorical = _categorical


def set_weights(model):
    """Every trainable tensor weight from one NumPy generator."""
    rng = np.random.default_rng(0)
    for variable in model.trainable_weights:
        if len(variable.shape):
            values = 0.3 * rng.standard_normal(tuple(variable.shape))
            variable.assign(values.astype(variable.dtype))


RNG = np.random.default_rng(1)
IMAGES = RNG.random((8, 6)).astype("float32")
TOKENS = RNG.integers(1, 9, (8, 5)).astype("int32")
TOKENS[:, 3:] *= RNG.integers(0, 2, (8, 2)).astype("int32")  # some padding


def _dense(inputs, *units):
    x = inputs
    for width in units[:-1]:
        x = keras.layers.Dense(width, activation="tanh")(x)
    return keras.layers.Dense(units[-1])(x)


def vae_case():
    from keras_dlparts.models import VAE

    inputs = keras.Input((6,))
    h = keras.layers.Dense(5, activation="relu")(inputs)
    encoder = keras.Model(
        inputs, [keras.layers.Dense(3)(h), keras.layers.Dense(3)(h)]
    )
    codes = keras.Input((3,))
    decoder = keras.Model(
        codes,
        keras.layers.Dense(6, activation="sigmoid")(
            keras.layers.Dense(5, activation="relu")(codes)
        ),
    )
    return VAE(encoder, decoder, beta=0.5, seed=3), (IMAGES,), None


def diffusion_case():
    from keras_dlparts.models import DiffusionModel
    from keras_dlparts.models import NoiseSchedule

    x_t = keras.Input((6,))
    t = keras.Input((), dtype="int32")
    label = keras.Input((), dtype="int32")
    h = keras.layers.Dense(8)(x_t)
    h = h + keras.layers.Embedding(20, 8)(t)
    h = h + keras.layers.Embedding(4, 8)(label)
    out = keras.layers.Dense(6)(keras.layers.Activation("tanh")(h))
    network = keras.Model([x_t, t, label], out)
    model = DiffusionModel(
        network,
        NoiseSchedule(steps=20),
        num_classes=3,
        label_dropout=0.5,
        data_range=(0.0, 1.0),
        seed=4,
    )
    labels = RNG.integers(0, 3, (8,)).astype("int32")
    return model, ((IMAGES, labels),), None


def dual_encoder_case():
    from keras_dlparts.losses import CLIPLoss
    from keras_dlparts.models import DualEncoder

    images = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(7, activation="relu")]
    )
    texts = keras.Sequential(
        [
            keras.Input((5,), dtype="int32"),
            keras.layers.Embedding(9, 7, mask_zero=True),
            keras.layers.GlobalAveragePooling1D(),
        ]
    )
    model = DualEncoder(images, texts, projection_dim=4, temperature=0.5)
    return model, ((IMAGES, TOKENS), np.zeros(8, "float32")), CLIPLoss()


def _siamese():
    from keras_dlparts.models import SiameseNetwork

    encoder = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(4),
        ]
    )
    return SiameseNetwork(encoder)


def siamese_pairs_case():
    from keras_dlparts.losses import ContrastiveLoss

    pairs = (IMAGES, IMAGES[::-1])
    similar = np.array([1, 0, 1, 0, 0, 1, 0, 1], "float32")
    return _siamese(), (pairs, similar), ContrastiveLoss(margin=1.0)


def siamese_triplets_case():
    from keras_dlparts.losses import TripletLoss

    labels = np.array([0, 1, 2, 0, 1, 2, 0, 1], "int32")
    return _siamese(), (IMAGES, labels), TripletLoss(margin=0.5)


def word2vec_skipgram_case():
    from keras_dlparts.models import Word2Vec

    model = Word2Vec(
        9, 4, negative_samples=3, word_counts=list(range(9)), seed=5
    )
    return model, ((TOKENS[:, 0], TOKENS[:, 1]),), None


def word2vec_cbow_case():
    from keras_dlparts.models import Word2Vec

    model = Word2Vec(9, 4, mode="cbow", negative_samples=3, seed=5)
    return model, ((TOKENS[:, 1:], TOKENS[:, 0]),), None


def anomaly_case():
    from keras_dlparts.models import AnomalyDetector
    from keras_dlparts.models import build_autoencoder

    model = AnomalyDetector(
        build_autoencoder((6,), 2, hidden_units=(4,)), quantile=0.75
    )
    return model, (IMAGES,), "mse"


CASES = {
    "VAE": vae_case,
    "DiffusionModel": diffusion_case,
    "DualEncoder": dual_encoder_case,
    "SiameseNetwork_pairs": siamese_pairs_case,
    "SiameseNetwork_triplets": siamese_triplets_case,
    "Word2Vec_skipgram": word2vec_skipgram_case,
    "Word2Vec_cbow": word2vec_cbow_case,
    "AnomalyDetector": anomaly_case,
}


def run_case(name, directory):
    keras.utils.set_random_seed(0)
    model, data, loss = CASES[name]()
    x = data[0]
    y = data[1] if len(data) > 1 else None
    if not model.built:
        model(x)
    set_weights(model)
    initial = {
        f"init_{i}": keras.ops.convert_to_numpy(v)
        for i, v in enumerate(model.weights)
    }
    compile_kwargs = {} if loss is None else {"loss": loss}
    model.compile(keras.optimizers.SGD(0.1), **compile_kwargs)
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    logs = {f"log_{k}": np.float32(v[-1]) for k, v in history.history.items()}
    weights = {
        f"weight_{i}": keras.ops.convert_to_numpy(v)
        for i, v in enumerate(model.weights)
    }
    np.savez(
        pathlib.Path(directory) / f"{name}.npz", **logs, **initial, **weights
    )


def main():
    directory = sys.argv[1]
    fixed_random()
    for name in CASES:
        run_case(name, directory)
    print(keras.backend.backend())


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
