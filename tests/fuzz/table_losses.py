"""Fuzz table: keras_dlparts.losses."""

import keras
import numpy as np
from fuzz.cases import CHOICE
from fuzz.cases import FINITE_NUMBER
from fuzz.cases import MODEL
from fuzz.cases import NAMES
from fuzz.cases import NAN
from fuzz.cases import NON_NEGATIVE_NUMBER
from fuzz.cases import POSITIVE_NUMBER
from fuzz.cases import Entry
from fuzz.cases import fresh

from keras_dlparts import losses

rng = np.random.default_rng(0)
LOGITS = rng.normal(size=(4, 1)).astype("float32")
PAIRS = np.array([1.0, 0.0, 1.0, 0.0], "float32")
DISTANCES = np.array([0.2, 0.5, 1.5, 3.0], "float32")
LABELS = np.array([0, 0, 1, 1, 2, 2])
EMBEDDINGS = rng.normal(size=(6, 3)).astype("float32")
TARGETS = rng.normal(size=(4, 3)).astype("float32")
VIEWS = rng.normal(size=(6, 2, 3)).astype("float32")
IMAGES = rng.random((4, 6, 6, 2)).astype("float32")

#: Keras checks `reduction` itself (None is a valid reduction).
REDUCTION = ("no-such-choice", 3)


def feature_model():
    """A one-convolution feature network for `PerceptualLoss`."""
    inputs = keras.Input(IMAGES.shape[1:])
    return keras.Model(inputs, keras.layers.Conv2D(3, 3, name="conv")(inputs))


TABLE = {
    "losses.CLIPLoss": Entry(
        losses.CLIPLoss,
        args={"temperature": 0.1},
        bad={
            "temperature": (0, -1.0, NAN, float("inf"), "x"),
            "reduction": REDUCTION,
        },
        inputs={
            "y_true": np.zeros(4, "float32"),
            "y_pred": np.eye(4, dtype="float32"),
        },
        bad_calls=[("y_pred", {"y_pred": np.ones((4, 3), "float32")})],
    ),
    "losses.ContrastiveLoss": Entry(
        losses.ContrastiveLoss,
        args={"margin": 1.0},
        bad={"margin": POSITIVE_NUMBER, "reduction": REDUCTION},
        inputs={"y_true": PAIRS, "y_pred": DISTANCES},
        bad_calls=[
            ("y_true", {"y_true": np.array([5.0, 5.0, 0.0, 1.0], "float32")}),
            ("y_pred", {"y_pred": np.ones((4, 2), "float32")}),
        ],
    ),
    "losses.GANDiscriminatorLoss": Entry(
        losses.GANDiscriminatorLoss,
        args={"kind": "hinge"},
        bad={"kind": CHOICE, "reduction": REDUCTION},
        inputs={"y_true": LOGITS, "y_pred": -LOGITS},
        bad_calls=[("y_pred", {"y_pred": np.ones((4, 3), "float32")})],
    ),
    "losses.GANGeneratorLoss": Entry(
        losses.GANGeneratorLoss,
        args={"kind": "non_saturating"},
        bad={"kind": CHOICE, "reduction": REDUCTION},
        inputs={"y_true": LOGITS, "y_pred": -LOGITS},
        bad_calls=[("y_pred", {"y_pred": np.ones((4, 3), "float32")})],
    ),
    "losses.CRFLoss": Entry(
        losses.CRFLoss,
        bad={"reduction": REDUCTION},
        inputs={
            "y_true": np.zeros((4, 3), "int32"),
            "y_pred": rng.normal(size=(4, 3, 2, 2)).astype("float32"),
        },
        bad_calls=[("y_pred", {"y_pred": np.ones((4, 3, 2), "float32")})],
    ),
    "losses.MultiSimilarityLoss": Entry(
        losses.MultiSimilarityLoss,
        args={"alpha": 2.0, "beta": 50.0, "base": 0.5, "epsilon": 0.1},
        bad={
            "alpha": POSITIVE_NUMBER,
            "beta": POSITIVE_NUMBER,
            "base": FINITE_NUMBER,
            "epsilon": NON_NEGATIVE_NUMBER,
            "reduction": REDUCTION,
        },
        inputs={"y_true": LABELS, "y_pred": EMBEDDINGS},
        bad_calls=[
            ("y_pred", {"y_pred": EMBEDDINGS[:, :, None]}),
            ("y_true", {"y_true": np.ones((6, 2))}),
        ],
    ),
    "losses.NPairsLoss": Entry(
        losses.NPairsLoss,
        args={"l2_regularization": 0.002},
        bad={
            "l2_regularization": NON_NEGATIVE_NUMBER,
            "reduction": REDUCTION,
        },
        inputs={"y_true": LABELS, "y_pred": VIEWS},
        bad_calls=[
            ("y_pred", {"y_pred": EMBEDDINGS}),
            ("y_true", {"y_true": np.ones((6, 2))}),
        ],
    ),
    "losses.NTXentLoss": Entry(
        losses.NTXentLoss,
        args={"temperature": 0.5},
        bad={"temperature": POSITIVE_NUMBER, "reduction": REDUCTION},
        inputs={"y_true": np.zeros(6, "float32"), "y_pred": VIEWS},
        bad_calls=[
            ("y_pred", {"y_pred": EMBEDDINGS}),
            ("y_pred", {"y_pred": np.ones((6, 3, 3), "float32")}),
        ],
    ),
    "losses.RobustLoss": Entry(
        losses.RobustLoss,
        args={"alpha": 1.0, "scale": 1.0},
        bad={
            "alpha": (NAN, "x", None, True),
            "scale": POSITIVE_NUMBER,
            "reduction": REDUCTION,
        },
        inputs={"y_true": TARGETS, "y_pred": TARGETS + 0.5},
        bad_calls=[("y_pred", {"y_pred": np.ones((4, 2), "float32")})],
    ),
    "losses.SupervisedContrastiveLoss": Entry(
        losses.SupervisedContrastiveLoss,
        args={"temperature": 0.1},
        bad={"temperature": POSITIVE_NUMBER, "reduction": REDUCTION},
        inputs={"y_true": LABELS, "y_pred": VIEWS},
        bad_calls=[
            ("y_pred", {"y_pred": VIEWS[..., None]}),
            ("y_true", {"y_true": np.ones((6, 2))}),
        ],
    ),
    "losses.PerceptualLoss": Entry(
        losses.PerceptualLoss,
        args={
            "feature_model": fresh(feature_model),
            "layer_names": ["conv"],
            "weights": [0.5],
            "base_loss": "mean_absolute_error",
        },
        bad={
            "feature_model": MODEL,
            "layer_names": NAMES + ([],),
            "weights": (0.5, [NAN], [-1.0], [1.0, 2.0]),
            "base_loss": CHOICE,
            "reduction": REDUCTION,
        },
        inputs={"y_true": IMAGES, "y_pred": 1 - IMAGES},
        bad_calls=[("y_pred", {"y_pred": IMAGES[:, :4]})],
    ),
    "losses.TripletLoss": Entry(
        losses.TripletLoss,
        args={"margin": 1.0, "mining": "semi_hard", "distance": "l2"},
        bad={
            "margin": NON_NEGATIVE_NUMBER,
            "mining": CHOICE,
            "distance": CHOICE,
            "reduction": REDUCTION,
        },
        inputs={"y_true": LABELS, "y_pred": EMBEDDINGS},
        bad_calls=[
            ("y_pred", {"y_pred": EMBEDDINGS[:, :, None]}),
            ("y_true", {"y_true": np.ones((6, 2))}),
        ],
    ),
}
