"""Fuzz table: keras_dlparts.tuning.

The hypermodels and search-space helpers check their arguments when they
are made, before any model is built or any trial runs.
"""

import keras_tuner
from fuzz.cases import BOOLEAN
from fuzz.cases import CHOICE
from fuzz.cases import INF
from fuzz.cases import MODEL
from fuzz.cases import NAN
from fuzz.cases import NON_NEGATIVE_NUMBER
from fuzz.cases import POSITIVE_INT
from fuzz.cases import SHAPE
from fuzz.cases import Entry
from fuzz.cases import fresh

from keras_dlparts import tuning
from keras_dlparts.models import build_mlp

#: Bad shapes of one sample for parts that take any rank.
SAMPLE_SHAPE = ((0,), (-1, 4), "x", None, 5.5)
#: Bad values of the ready hypermodels' common options.
OPTIONS = {
    "search_space": ("x", 3, [("depth", 1)], {"depth": NAN}, {3: 1}),
    "fixed": ("x", 3, [1]),
    "compile": ("x", 3),
    "name": (3,),
}


def _classifier(make, shape_name, shape, bad_shapes):
    return Entry(
        make,
        args={shape_name: shape, "num_classes": 3},
        bad={shape_name: bad_shapes, "num_classes": POSITIVE_INT, **OPTIONS},
    )


TABLE = {
    "tuning.MLPHyperModel": _classifier(
        tuning.MLPHyperModel, "input_shape", 4, SAMPLE_SHAPE
    ),
    "tuning.TransformerClassifierHyperModel": _classifier(
        tuning.TransformerClassifierHyperModel,
        "input_shape",
        (8, 4),
        SAMPLE_SHAPE,
    ),
    "tuning.LeNet5HyperModel": _classifier(
        tuning.LeNet5HyperModel,
        "image_shape",
        (16, 16, 1),
        SHAPE + ((8, 8, 1),),
    ),
    "tuning.VGGHyperModel": _classifier(
        tuning.VGGHyperModel, "image_shape", (8, 8, 1), SHAPE
    ),
    "tuning.ResNetHyperModel": _classifier(
        tuning.ResNetHyperModel, "image_shape", (8, 8, 1), SHAPE
    ),
    "tuning.ViTHyperModel": _classifier(
        tuning.ViTHyperModel, "image_shape", (8, 8, 1), SHAPE
    ),
    "tuning.AutoencoderHyperModel": Entry(
        tuning.AutoencoderHyperModel,
        args={"input_shape": (16,)},
        bad={"input_shape": SAMPLE_SHAPE, "kind": CHOICE, **OPTIONS},
    ),
    "tuning.VAEHyperModel": Entry(
        tuning.VAEHyperModel,
        args={"input_shape": (16,)},
        bad={"input_shape": SAMPLE_SHAPE, **OPTIONS},
    ),
    "tuning.BuilderHyperModel": Entry(
        tuning.BuilderHyperModel,
        args={
            "build_fn": build_mlp,
            "search_space": {"hidden_units": tuning.Choice([(4,), (8,)])},
            "fixed": {"input_shape": 4, "num_outputs": 2},
        },
        bad={
            "build_fn": MODEL,
            "search_space": (
                None,
                "x",
                {3: 1},
                {"rate": NAN},
                {"batch_size": 0},
                {"epochs": tuning.Int(0, 2)},
                {"optimizer": "no-such-choice"},
            ),
            "fixed": ("x", 3, [1], {"learning_rate": 0.1}),
            "compile": ("x", 3),
            "transform": ("x", 3),
            "name": (3,),
            "tunable": BOOLEAN,
        },
    ),
    "tuning.build_dense_vae": Entry(
        tuning.build_dense_vae,
        args={"input_shape": (4,), "latent_dim": 2, "hidden_units": (4,)},
        bad={
            "input_shape": SAMPLE_SHAPE,
            "latent_dim": POSITIVE_INT,
            "hidden_units": ((0,), (4, -1), "x", None, [1.5]),
            "beta": NON_NEGATIVE_NUMBER,
            "reconstruction": CHOICE,
            "seed": (-1, 1.5, "x"),
        },
    ),
    "tuning.Int": Entry(
        tuning.Int,
        args={"min_value": 1, "max_value": 8},
        bad={
            "min_value": (1.5, True, "x", None, 8, 9),
            "max_value": (1, 0, 1.5, "x", None),
            "step": (0, -1, 1.5, True, "x"),
            "sampling": CHOICE,
            "default": (0, 9, 1.5, "x"),
        },
    ),
    "tuning.Float": Entry(
        tuning.Float,
        args={"min_value": 0.1, "max_value": 1.0},
        bad={
            "min_value": (NAN, INF, "x", None, 1.0, 2.0),
            "max_value": (NAN, INF, "x", None, 0.1, 0.0),
            "step": (0, -1.0, NAN, INF, "x"),
            "sampling": CHOICE,
            "default": (NAN, 2.0, "x"),
        },
    ),
    "tuning.Choice": Entry(
        tuning.Choice,
        args={"values": [1, 2]},
        bad={
            "values": ("abc", [], None, 3, [1, 1], [0.1, NAN]),
            "default": ("no-such-choice", 3),
        },
    ),
    "tuning.Boolean": Entry(tuning.Boolean, bad={"default": BOOLEAN}),
    "tuning.merge_search_space": Entry(
        tuning.merge_search_space,
        args={"defaults": {"a": 1}, "overrides": {"a": 2}},
        bad={
            "defaults": (None, "x", [("a", 1)]),
            "overrides": ("x", 3, [("a", 1)]),
        },
    ),
    "tuning.validate_search_space": Entry(
        tuning.validate_search_space,
        args={"search_space": {"units": tuning.Int(1, 4)}},
        bad={
            "search_space": (None, "x", {3: 1}, {"": 1}, {"rate": NAN}),
            "name": (None, 3, ""),
        },
    ),
    "tuning.sample": Entry(
        tuning.sample,
        args={
            "hp": fresh(keras_tuner.HyperParameters),
            "search_space": {"units": tuning.Int(1, 4)},
        },
        bad={
            "hp": (None, "x", {}),
            "search_space": (None, "x", {3: 1}, {"rate": INF}),
        },
    ),
    "tuning.make_optimizer": Entry(
        tuning.make_optimizer,
        args={"training": {"optimizer": "sgd", "learning_rate": 0.1}},
        bad={
            "training": (
                "x",
                None,
                {"optimizer": "no-such-choice"},
                {"learning_rate": NAN},
                {"learning_rate": 0},
                {"learning_rate": "x"},
                {"momentum": 1.5},
                {"weight_decay": -1.0},
                {"learning rate": 0.1},
            ),
            "default": CHOICE,
        },
    ),
    "tuning.training_search_space": Entry(
        tuning.training_search_space,
        note="takes no arguments",
    ),
}
