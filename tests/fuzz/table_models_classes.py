"""Fuzz table: keras_dlparts.models, the model classes.

GANs, the VAE, the hierarchical VAE, the Siamese network and
`few_shot_accuracy`, the dual encoder, the anomaly detector, the SOM,
the RBM, the perceptron, the diffusion model with its noise schedule,
and Word2Vec. Each case gets its own small sub-models (`fresh`), so no
case sees another's weights.
"""

import keras
import numpy as np
from fuzz.cases import BOOLEAN
from fuzz.cases import CHOICE
from fuzz.cases import INF
from fuzz.cases import INITIALIZER
from fuzz.cases import MAP_SHAPE
from fuzz.cases import MODEL
from fuzz.cases import NAN
from fuzz.cases import NON_NEGATIVE_NUMBER
from fuzz.cases import POSITIVE_INT
from fuzz.cases import POSITIVE_NUMBER
from fuzz.cases import RATE
from fuzz.cases import SEED
from fuzz.cases import Entry
from fuzz.cases import fresh

from keras_dlparts import models

rng = np.random.default_rng(0)

#: Bad values for a number in (0, 1), both ends excluded.
OPEN_UNIT = (0, 1.0, -0.1, 1.5, NAN, INF, "x", None)

X3 = rng.normal(size=(4, 3)).astype("float32")
X4 = rng.normal(size=(4, 4)).astype("float32")
Y4 = rng.normal(size=(4, 4)).astype("float32")
LABELS = np.array([0, 1, 2, 1], "int32")
BITS = (rng.random((4, 6)) > 0.5).astype("float32")
IDS = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 3, 5]], "int32")
TARGETS = np.array([0, 1, 1, 0], "float32")
FEW_SHOT_Y = np.repeat(np.arange(3), 4)
FEW_SHOT_X = (
    np.eye(3, 4)[FEW_SHOT_Y] * 5 + rng.normal(scale=0.1, size=(12, 4))
).astype("float32")


def _dense(inputs, units, **input_kwargs):
    """A one-layer Sequential model from `inputs` features to `units`."""
    return keras.Sequential(
        [keras.Input((inputs,), **input_kwargs), keras.layers.Dense(units)]
    )


def _conditional(inputs, units):
    """A functional `[(batch, inputs), labels (batch,)]` -> `units` model."""
    x = keras.Input((inputs,))
    labels = keras.Input((), dtype="int32")
    embedded = keras.layers.Embedding(4, 2)(labels)
    return keras.Model(
        [x, labels],
        keras.layers.Dense(units)(keras.layers.Concatenate()([x, embedded])),
    )


def _vae_encoder():
    x = keras.Input((4,))
    return keras.Model(x, [keras.layers.Dense(2)(x), keras.layers.Dense(2)(x)])


def _vae_decoder():
    return keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(4, activation="sigmoid")]
    )


def _hvae_encoder_1():
    x = keras.Input((4,))
    d1 = keras.layers.Dense(3)(x)
    return keras.Model(
        x, [keras.layers.Dense(2)(d1), keras.layers.Dense(2)(d1), d1]
    )


def _hvae_encoder_2():
    d1 = keras.Input((3,))
    return keras.Model(
        d1, [keras.layers.Dense(1)(d1), keras.layers.Dense(1)(d1)]
    )


def _hvae_prior_1():
    z2 = keras.Input((1,))
    return keras.Model(
        z2, [keras.layers.Dense(2)(z2), keras.layers.Dense(2)(z2)]
    )


def _text_encoder():
    return keras.Sequential(
        [
            keras.Input((3,), dtype="int32"),
            keras.layers.Embedding(10, 8),
            keras.layers.GlobalAveragePooling1D(),
        ]
    )


def _noise_network():
    """`[x_t (batch, 4), t, label]` -> predicted noise `(batch, 4)`."""
    x_t = keras.Input((4,))
    t = keras.Input((), dtype="int32")
    label = keras.Input((), dtype="int32")
    features = keras.layers.Concatenate()(
        [
            x_t,
            keras.layers.Embedding(10, 2)(t),
            keras.layers.Embedding(4, 2)(label),
        ]
    )
    return keras.Model([x_t, t, label], keras.layers.Dense(4)(features))


def _pair(model, **inputs):
    """Calls `model` on its inputs as one tuple (pairs, `[samples, labels]`)."""
    return model(tuple(inputs.values()))


def _fit_then_call(model, x, y):
    model.compile()
    model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    return model(x)


def _q_sample(schedule, x0, t, noise):
    return schedule.q_sample(x0, t, noise)


TABLE = {
    "models.GAN": Entry(
        models.GAN,
        args={
            "generator": fresh(lambda: _dense(2, 3)),
            "discriminator": fresh(lambda: _dense(3, 1)),
            "latent_dim": 2,
            "seed": 0,
        },
        bad={
            "generator": MODEL,
            "discriminator": MODEL,
            "latent_dim": POSITIVE_INT + (3,),  # 3: not the generator's input
            "seed": SEED,
        },
        inputs={"inputs": X3},
        bad_calls=[("inputs", {"inputs": X4})],
    ),
    "models.ConditionalGAN": Entry(
        models.ConditionalGAN,
        args={
            "generator": fresh(lambda: _conditional(2, 3)),
            "discriminator": fresh(lambda: _conditional(3, 1)),
            "latent_dim": 2,
            "num_classes": 3,
            "seed": 0,
        },
        bad={
            "generator": MODEL,
            "discriminator": MODEL,
            "latent_dim": POSITIVE_INT + (3,),
            "num_classes": POSITIVE_INT,
            "seed": SEED,
        },
        inputs={"samples": X3, "labels": LABELS},
        call=_pair,
        bad_calls=[("samples", {"samples": X4})],
    ),
    "models.CycleGAN": Entry(
        models.CycleGAN,
        args={
            "generator_ab": fresh(lambda: _dense(3, 3)),
            "generator_ba": fresh(lambda: _dense(3, 3)),
            "discriminator_a": fresh(lambda: _dense(3, 1)),
            "discriminator_b": fresh(lambda: _dense(3, 1)),
            "cycle_weight": 10.0,
            "identity_weight": 0.5,
        },
        bad={
            "generator_ab": MODEL,
            "generator_ba": MODEL,
            "discriminator_a": MODEL,
            "discriminator_b": MODEL,
            "cycle_weight": NON_NEGATIVE_NUMBER,
            "identity_weight": NON_NEGATIVE_NUMBER,
        },
        inputs={"a": X3, "b": X3},
        call=_pair,
        batch_free=("b",),
        bad_calls=[("a", {"a": X4}), ("b", {"b": X4})],
        note="`a` and `b` are unpaired: their batch sizes may differ.",
    ),
    "models.SRGAN": Entry(
        models.SRGAN,
        args={
            "generator": fresh(
                lambda: models.build_srgan_generator(2, 1, 2, 1)
            ),
            "discriminator": fresh(
                lambda: models.build_srgan_discriminator((4, 4, 1), (2,), 2)
            ),
            "content_loss": "mean_absolute_error",
            "adversarial_weight": 1e-3,
            "max_val": 1.0,
        },
        bad={
            "generator": MODEL,
            "discriminator": MODEL,
            "content_loss": CHOICE,
            "adversarial_weight": NON_NEGATIVE_NUMBER,
            "max_val": POSITIVE_NUMBER,
        },
        inputs={"inputs": X4.reshape(4, 2, 2, 1)},
        bad_calls=[("inputs", {"inputs": np.zeros((4, 2, 2, 2), "float32")})],
    ),
    "models.VAE": Entry(
        models.VAE,
        args={
            "encoder": fresh(_vae_encoder),
            "decoder": fresh(_vae_decoder),
            "beta": 1.0,
            "reconstruction": "mse",
            "seed": 0,
        },
        bad={
            "encoder": MODEL + (fresh(lambda: _dense(4, 2)),),  # one output
            "decoder": MODEL + (fresh(lambda: _dense(3, 4)),),  # codes of 3
            "beta": NON_NEGATIVE_NUMBER,
            "reconstruction": CHOICE,
            "seed": SEED,
        },
        inputs={"inputs": X4},
        bad_calls=[("inputs", {"inputs": X3})],
    ),
    "models.HierarchicalVAE": Entry(
        models.HierarchicalVAE,
        args={
            "encoder_1": fresh(_hvae_encoder_1),
            "encoder_2": fresh(_hvae_encoder_2),
            "prior_1": fresh(_hvae_prior_1),
            "decoder": fresh(_vae_decoder),
            "beta": 1.0,
            "reconstruction": "mse",
            "seed": 0,
        },
        bad={
            "encoder_1": MODEL + (fresh(_vae_encoder),),  # two outputs
            "encoder_2": MODEL + (fresh(lambda: _dense(3, 1)),),  # one
            "prior_1": MODEL + (fresh(lambda: _dense(1, 2)),),  # one
            "decoder": MODEL + (fresh(lambda: _dense(3, 4)),),  # codes of 3
            "beta": NON_NEGATIVE_NUMBER,
            "reconstruction": CHOICE,
            "seed": SEED,
        },
        inputs={"inputs": X4},
        bad_calls=[("inputs", {"inputs": X3})],
    ),
    "models.SiameseNetwork": Entry(
        models.SiameseNetwork,
        args={
            "encoder": fresh(lambda: _dense(4, 3)),
            "normalize": True,
            "distance": "euclidean",
        },
        bad={"encoder": MODEL, "normalize": BOOLEAN, "distance": CHOICE},
        inputs={"a": X4, "b": Y4},
        call=_pair,
        bad_calls=[("b", {"b": X3})],
    ),
    "models.few_shot_accuracy": Entry(
        models.few_shot_accuracy,
        args={
            "model": fresh(lambda: models.SiameseNetwork(_dense(4, 3))),
            "x": FEW_SHOT_X,
            "y": FEW_SHOT_Y,
            "n_way": 2,
            "k_shot": 1,
            "queries_per_class": 2,
            "episodes": 3,
            "seed": 0,
        },
        bad={
            "model": MODEL,
            "n_way": POSITIVE_INT + (4,),  # 4: more than the 3 classes
            "k_shot": POSITIVE_INT + (4,),  # 4 + 2: more than a class holds
            "queries_per_class": POSITIVE_INT,
            "episodes": POSITIVE_INT,
            "seed": SEED,
        },
        tensors=("x", "y"),
        bad_calls=[("x", {"x": FEW_SHOT_X[:, :3]})],
    ),
    "models.DualEncoder": Entry(
        models.DualEncoder,
        args={
            "image_encoder": fresh(lambda: _dense(4, 8)),
            "text_encoder": fresh(_text_encoder),
            "projection_dim": 5,
            "temperature": 0.07,
            "learn_temperature": True,
        },
        bad={
            "image_encoder": MODEL,
            "text_encoder": MODEL,
            "projection_dim": POSITIVE_INT,
            "temperature": POSITIVE_NUMBER + (0.01,),  # 0.01: scale above 100
            "learn_temperature": BOOLEAN,
        },
        inputs={"images": X4, "texts": IDS},
        call=_pair,
        bad_calls=[
            ("images", {"images": X3}),
            ("texts", {"texts": IDS[:, :2]}),
        ],
    ),
    "models.AnomalyDetector": Entry(
        models.AnomalyDetector,
        args={"autoencoder": fresh(lambda: _dense(4, 4)), "quantile": 0.9},
        bad={"autoencoder": MODEL, "quantile": OPEN_UNIT},
        inputs={"inputs": X4},
        bad_calls=[("inputs", {"inputs": X3})],
    ),
    "models.SOM": Entry(
        models.SOM,
        args={
            "map_shape": (2, 2),
            "sigma": 1.0,
            "learning_rate": 0.5,
            "decay_steps": 10,
            "neighborhood": "gaussian",
            "topology": "rectangular",
            "learning_rate_decay": "asymptotic",
            "sigma_decay": "asymptotic",
            "update": "online",
            "codebook_initializer": "random_uniform",
            "distance": "euclidean",
        },
        bad={
            "map_shape": MAP_SHAPE,
            "sigma": POSITIVE_NUMBER,
            "learning_rate": POSITIVE_NUMBER,
            "decay_steps": POSITIVE_INT,
            "neighborhood": CHOICE,
            "topology": CHOICE,
            "learning_rate_decay": CHOICE,
            "sigma_decay": CHOICE,
            "update": CHOICE,
            "codebook_initializer": INITIALIZER
            + (np.zeros((3, 2, 3)), np.full((2, 2, 3), np.nan)),
            "distance": CHOICE,
        },
        inputs={"inputs": X3},
    ),
    "models.RBM": Entry(
        models.RBM,
        args={
            "hidden_units": 3,
            "k": 1,
            "seed": 0,
            "kernel_initializer": "random_normal",
        },
        bad={
            "hidden_units": POSITIVE_INT,
            "k": POSITIVE_INT,
            "seed": SEED,
            "kernel_initializer": INITIALIZER,
        },
        inputs={"inputs": BITS},
    ),
    "models.PerceptronClassifier": Entry(
        models.PerceptronClassifier,
        args={"units": 1, "learning_rate": 1.0, "kernel_initializer": "zeros"},
        bad={
            "units": POSITIVE_INT,
            "learning_rate": POSITIVE_NUMBER,
            "kernel_initializer": INITIALIZER,
        },
        inputs={"x": X3, "y": TARGETS},
        call=_fit_then_call,
        bad_calls=[
            ("y", {"y": np.array([2.0, 5.0, -1.0, 3.0])}),  # not 0/1 targets
            ("y", {"y": np.array([-1.0, 1.0, 1.0, -1.0])}),  # +-1 labels
            ("y", {"y": np.zeros((4, 2))}),  # two targets for one unit
        ],
    ),
    "models.DiffusionModel": Entry(
        models.DiffusionModel,
        args={
            "network": fresh(_noise_network),
            "schedule": models.NoiseSchedule(steps=10),
            "num_classes": 3,
            "label_dropout": 0.1,
            "data_range": (-1.0, 1.0),
            "clip_denoised": True,
            "seed": 0,
            "ema_decay": 0.9,
            "prediction": "v",
        },
        bad={
            "network": MODEL,
            "schedule": ("x", 3),  # None is the default schedule
            "num_classes": POSITIVE_INT,  # None: the network takes labels
            "label_dropout": RATE,
            "data_range": (
                (1.0, 0.0),
                (0.0, NAN),
                (-INF, 1.0),
                (0.0, 1.0, 2.0),
                "x",
                None,
            ),
            "clip_denoised": BOOLEAN,
            "seed": SEED,
            "ema_decay": RATE[:-1],  # None turns the averages off
            "prediction": CHOICE,
        },
        inputs={"x": X4, "labels": LABELS},
        call=_pair,
        bad_calls=[("x", {"x": X3})],
    ),
    "models.Word2Vec": Entry(
        models.Word2Vec,
        args={
            "vocabulary_size": 10,
            "embedding_dim": 4,
            "mode": "skipgram",
            "negative_samples": 2,
            "word_counts": [0.0] + [1.0] * 9,
            "vocabulary": ["", "[UNK]"] + list("abcdefgh"),
            "seed": 0,
        },
        bad={
            "vocabulary_size": POSITIVE_INT + (1,),
            "embedding_dim": POSITIVE_INT,
            "mode": CHOICE,
            "negative_samples": POSITIVE_INT,
            "word_counts": (
                "x",
                [1.0] * 9,  # not vocabulary_size entries
                [0.0, -1.0] + [1.0] * 8,
                [0.0, NAN] + [1.0] * 8,
                [0.0] * 10,  # no word to draw
                ["x"] * 10,
            ),
            "vocabulary": ("abcdefghij", ["a"] * 9, list(range(10))),
            "seed": SEED,
        },
        inputs={"targets": LABELS + 1, "contexts": LABELS + 2},
        call=_pair,
        bad_calls=[("contexts", {"contexts": IDS})],
    ),
    "models.NoiseSchedule": Entry(
        models.NoiseSchedule,
        args={
            "schedule": "linear",
            "steps": 10,
            "beta_start": 1e-4,
            "beta_end": 0.02,
            "cosine_s": 0.008,
            "max_beta": 0.999,
        },
        bad={
            "schedule": CHOICE,
            "steps": POSITIVE_INT,
            "beta_start": OPEN_UNIT,
            "beta_end": (
                1e-5,
                1.0,
                NAN,
                INF,
                "x",
                None,
            ),  # 1e-5: below beta_start
            "cosine_s": NON_NEGATIVE_NUMBER,
            "max_beta": OPEN_UNIT,
        },
        inputs={"x0": X3, "t": LABELS, "noise": X3},
        call=_q_sample,
        bad_calls=[("noise", {"noise": X4})],
    ),
}
