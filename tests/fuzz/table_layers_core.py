"""Fuzz table: keras_dlparts.layers, the classic and augmentation layers.

RBF, the self-organising map, the reparameterisation sampler, the graph
convolution, the perceptron, salt-and-pepper noise and the waveform
augmentations.
"""

import keras
import numpy as np
from fuzz.cases import ACTIVATION
from fuzz.cases import BOOLEAN
from fuzz.cases import CHOICE
from fuzz.cases import FINITE_NUMBER
from fuzz.cases import FRACTION
from fuzz.cases import INITIALIZER
from fuzz.cases import MAP_SHAPE
from fuzz.cases import MODEL
from fuzz.cases import NON_NEGATIVE_NUMBER
from fuzz.cases import OPTIONAL_KERAS
from fuzz.cases import POSITIVE_INT
from fuzz.cases import POSITIVE_NUMBER
from fuzz.cases import SEED
from fuzz.cases import Entry
from fuzz.cases import fresh

from keras_dlparts import layers

rng = np.random.default_rng(0)


def _floats(*shape):
    return rng.normal(size=shape).astype("float32")


#: Bad values for an STFT frame length (a positive multiple of 4).
FRAME_LENGTH = POSITIVE_INT + (2, 6)

X = _floats(4, 3)
IMAGES = rng.random((2, 4, 4, 3)).astype("float32")
WAVES = _floats(2, 64)
FEATURES = _floats(2, 3, 4)
ADJACENCY = np.array(
    [[[0, 1, 0], [1, 0, 1], [0, 1, 0]], [[0, 1, 1], [1, 0, 0], [1, 0, 0]]],
    "float32",
)


def _training(layer, **inputs):
    return layer(*inputs.values(), training=True)


def _range(low_name, high_name, low, high):
    """Bad values of a (low, high) pair: non-finite, or out of order."""
    return {
        low_name: FINITE_NUMBER + (high + 1.0,),
        high_name: FINITE_NUMBER + (low - 1.0,),
    }


def _audio(make, args, bad):
    return Entry(
        make,
        args={**args, "seed": 0},
        bad={**bad, "seed": SEED},
        inputs={"inputs": WAVES},
        call=_training,
        bad_calls=[("inputs", {"inputs": WAVES[:, :, None, None]})],
    )


TABLE = {
    "layers.WeightNormalization": Entry(
        layers.WeightNormalization,
        args={"layer": fresh(lambda: keras.layers.Dense(2))},
        bad={
            "layer": MODEL + (keras.layers.Flatten(),),
            "data_init": BOOLEAN,
        },
        inputs={"inputs": X},
    ),
    "layers.AngularMarginHead": Entry(
        layers.AngularMarginHead,
        args={"num_classes": 3, "margin": 0.5, "scale": 16.0},
        bad={
            "num_classes": POSITIVE_INT,
            "margin": (-0.1, 2.0) + FINITE_NUMBER,
            "scale": POSITIVE_NUMBER,
            "variant": CHOICE,
            "easy_margin": BOOLEAN,
            "kernel_initializer": INITIALIZER,
            "kernel_regularizer": OPTIONAL_KERAS,
            "kernel_constraint": OPTIONAL_KERAS,
        },
        inputs={"inputs": X, "labels": np.array([0, 2, 1, 1], "int32")},
        bad_calls=[
            ("labels", {"labels": np.zeros((4, 2), "int32")}),
            ("inputs", {"inputs": X[:, :, None]}),
        ],
    ),
    "layers.RBF": Entry(
        layers.RBF,
        args={
            "units": 2,
            "gamma": 1.0,
            "centers_initializer": "random_uniform",
            "trainable_gamma": True,
        },
        bad={
            "units": POSITIVE_INT,
            "gamma": POSITIVE_NUMBER,
            "centers_initializer": INITIALIZER,
            "trainable_gamma": BOOLEAN,
        },
        inputs={"inputs": X},
    ),
    "layers.SelfOrganizingMap": Entry(
        layers.SelfOrganizingMap,
        args={
            "map_shape": (2, 3),
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
            + (np.zeros((3, 3, 2)), np.full((2, 3, 2), np.nan)),
            "distance": CHOICE,
        },
        inputs={"inputs": X},
        bad_calls=[("inputs", {"inputs": X[:, :, None]})],
    ),
    "layers.ReparameterizationSampler": Entry(
        layers.ReparameterizationSampler,
        args={"kl_weight": 0.5, "seed": 0},
        bad={"kl_weight": NON_NEGATIVE_NUMBER, "seed": SEED},
        inputs={"mean": X, "log_var": X * 0.1},
        call=_training,
        bad_calls=[("log_var", {"log_var": X[:, :2]})],
    ),
    "layers.GraphConvolution": Entry(
        layers.GraphConvolution,
        args={"units": 2, "activation": "relu", "use_bias": True},
        bad={
            "units": POSITIVE_INT,
            "activation": ACTIVATION,
            "use_bias": BOOLEAN,
            "kernel_initializer": INITIALIZER,
            "bias_initializer": INITIALIZER,
            "kernel_regularizer": OPTIONAL_KERAS,
            "bias_regularizer": OPTIONAL_KERAS,
            "kernel_constraint": OPTIONAL_KERAS,
            "bias_constraint": OPTIONAL_KERAS,
        },
        inputs={"features": FEATURES, "adjacency": ADJACENCY},
        # (nodes, features) and (nodes, nodes) are valid: one shared graph.
        rank_free=("features", "adjacency"),
        bad_calls=[
            ("features", {"features": FEATURES[..., None]}),
            ("features", {"features": FEATURES[0, 0]}),
            ("adjacency", {"adjacency": ADJACENCY[None]}),
            ("adjacency", {"adjacency": ADJACENCY[:, :, :2]}),
        ],
        note=(
            "inputs without their batch axis are valid "
            "(a graph shared by the batch)"
        ),
    ),
    "layers.Perceptron": Entry(
        layers.Perceptron,
        args={
            "units": 2,
            "kernel_initializer": "glorot_uniform",
            "bias_initializer": "zeros",
        },
        bad={
            "units": POSITIVE_INT,
            "kernel_initializer": INITIALIZER,
            "bias_initializer": INITIALIZER,
        },
        inputs={"inputs": X},
    ),
    "layers.MinibatchStdDev": Entry(
        layers.MinibatchStdDev,
        args={"group_size": 2, "epsilon": 1e-8},
        bad={"group_size": POSITIVE_INT, "epsilon": NON_NEGATIVE_NUMBER},
        inputs={"inputs": np.ones((3, 2, 2, 2), "float32")},
        rank_free=("inputs",),  # any rank >= 2: features or images
    ),
    "layers.PixelShuffle": Entry(
        layers.PixelShuffle,
        args={"upscale_factor": 2, "data_format": "channels_last"},
        bad={
            "upscale_factor": POSITIVE_INT,
            "data_format": tuple(v for v in CHOICE if v is not None),
        },
        inputs={"inputs": np.ones((2, 3, 3, 8), "float32")},
        bad_calls=[
            ("upscale_factor", {"inputs": np.ones((2, 3, 3, 6), "float32")})
        ],
    ),
    "layers.PixelUnshuffle": Entry(
        layers.PixelUnshuffle,
        args={"upscale_factor": 2, "data_format": "channels_last"},
        bad={
            "upscale_factor": POSITIVE_INT,
            "data_format": tuple(v for v in CHOICE if v is not None),
        },
        inputs={"inputs": np.ones((2, 4, 6, 3), "float32")},
        bad_calls=[
            ("upscale_factor", {"inputs": np.ones((2, 4, 5, 3), "float32")})
        ],
    ),
    "layers.SaltAndPepperNoise": Entry(
        layers.SaltAndPepperNoise,
        args={
            "rate": 0.3,
            "salt_ratio": 0.5,
            "low": 0.0,
            "high": 1.0,
            "per_pixel": True,
            "seed": 0,
        },
        bad={
            "rate": FRACTION,
            "salt_ratio": FRACTION,
            **_range("low", "high", 0.0, 1.0),
            "per_pixel": BOOLEAN,
            "seed": SEED,
        },
        inputs={"inputs": IMAGES},
        call=_training,
        # Any rank is valid (at least 2 with `per_pixel=True`).
        rank_free=("inputs",),
        bad_calls=[("inputs", {"inputs": np.ones((4,), "float32")})],
        note=(
            "any input rank >= 2 is valid, "
            "so dropping the batch axis is not an error"
        ),
    ),
    "layers.RandomTimeShift": _audio(
        layers.RandomTimeShift,
        {"max_shift": 0.2, "wrap": False},
        {"max_shift": FRACTION, "wrap": BOOLEAN},
    ),
    "layers.RandomGain": _audio(
        layers.RandomGain,
        {"min_gain_db": -6.0, "max_gain_db": 6.0},
        _range("min_gain_db", "max_gain_db", -6.0, 6.0),
    ),
    "layers.AddBackgroundNoise": _audio(
        layers.AddBackgroundNoise,
        {"min_snr_db": 10.0, "max_snr_db": 30.0},
        _range("min_snr_db", "max_snr_db", 10.0, 30.0),
    ),
    "layers.RandomTimeStretch": _audio(
        layers.RandomTimeStretch,
        {"min_rate": 0.8, "max_rate": 1.25, "frame_length": 16},
        {
            "min_rate": POSITIVE_NUMBER + (2.0,),
            "max_rate": POSITIVE_NUMBER + (0.5,),
            "frame_length": FRAME_LENGTH,
        },
    ),
    "layers.RandomPitchShift": _audio(
        layers.RandomPitchShift,
        {"min_semitones": -2.0, "max_semitones": 2.0, "frame_length": 16},
        {
            **_range("min_semitones", "max_semitones", -2.0, 2.0),
            "frame_length": FRAME_LENGTH,
        },
    ),
}
