"""Fuzz table: keras_dlparts.callbacks.

Callbacks are tried as constructors only: they have no call of their own
(Keras calls their hooks during `fit`), so `inputs` do not apply; the data
they hold (`inputs`, `reference_data`, `data`, `labels`) is checked at
construction and gets its bad values here. Constructing a callback writes
nothing, so `LOG_DIR` is never created.
"""

import os
import tempfile

import numpy as np
from fuzz.cases import BOOLEAN
from fuzz.cases import CHOICE
from fuzz.cases import FRACTION
from fuzz.cases import NAN
from fuzz.cases import NON_NEGATIVE_INT
from fuzz.cases import NON_NEGATIVE_NUMBER
from fuzz.cases import OPTIONAL_POSITIVE_INT
from fuzz.cases import POSITIVE_INT
from fuzz.cases import POSITIVE_NUMBER
from fuzz.cases import RATE
from fuzz.cases import Entry

from keras_dlparts import callbacks

LOG_DIR = os.path.join(tempfile.gettempdir(), "keras_dlparts_fuzz_callbacks")
X = np.ones((4, 6, 8), "float32")
Y = np.zeros((4, 1), "float32")
LABELS = np.array([0, 1, 2, 0])

#: Bad values for a directory that must be given.
DIRECTORY = (None, 3, "")
#: Bad values for a directory that may be `None`.
OPTIONAL_DIRECTORY = (3, "")
#: Bad values for a batch of model inputs.
BATCH = (None, "x", 3, X[:0])
#: Bad values for a layer name.
LAYER_NAME = (None, 3, "")

TABLE = {
    "callbacks.AttentionMapLogger": Entry(
        callbacks.AttentionMapLogger,
        args={"log_dir": LOG_DIR, "layer_name": "mha", "inputs": X},
        bad={
            "log_dir": DIRECTORY,
            "layer_name": LAYER_NAME,
            "inputs": BATCH,
            "every_n_epochs": POSITIVE_INT,
            "max_images": POSITIVE_INT,
            "normalize": BOOLEAN,
            "zoom": POSITIVE_INT,
        },
        note="constructor only: a callback has no call of its own",
    ),
    "callbacks.DeadUnitMonitor": Entry(
        callbacks.DeadUnitMonitor,
        args={"log_dir": LOG_DIR, "reference_data": X},
        bad={
            "log_dir": DIRECTORY,
            "reference_data": BATCH,
            "every_n_epochs": POSITIVE_INT,
            "alert_fraction": FRACTION + (0.0,),
        },
        note="constructor only: a callback has no call of its own",
    ),
    "callbacks.GradientFlowMonitor": Entry(
        callbacks.GradientFlowMonitor,
        args={"log_dir": LOG_DIR, "reference_data": (X, Y)},
        bad={
            "log_dir": DIRECTORY,
            "reference_data": (
                None,
                "x",
                X,
                (X,),
                (X, None),
                (X, Y[:3]),
                (X[:0], Y[:0]),
            ),
            "every_n_steps": POSITIVE_INT,
            "vanishing_threshold": NON_NEGATIVE_NUMBER + (2e3,),
            "exploding_threshold": POSITIVE_NUMBER,
        },
        note="constructor only: a callback has no call of its own",
    ),
    "callbacks.ImageSampleLogger": Entry(
        callbacks.ImageSampleLogger,
        args={"log_dir": LOG_DIR, "num_samples": 4, "labels": LABELS},
        bad={
            "log_dir": DIRECTORY,
            "every_n_epochs": POSITIVE_INT,
            "num_samples": POSITIVE_INT,
            "seed": NON_NEGATIVE_INT,
            "png_dir": OPTIONAL_DIRECTORY,
            "labels": (LABELS[:3], LABELS - 1, LABELS + 0.5, "x"),
            "columns": OPTIONAL_POSITIVE_INT,
            "scale": POSITIVE_INT,
            "padding": NON_NEGATIVE_INT,
            "value_range": ((1.0, 0.0), (0.0, NAN), (0.0,), "x", None),
            "tag": ("", None, 3),
            "overwrite": BOOLEAN,
        },
        note="constructor only: a callback has no call of its own",
    ),
    "callbacks.LatentSpaceProjector": Entry(
        callbacks.LatentSpaceProjector,
        args={
            "log_dir": LOG_DIR,
            "data": X,
            "labels": LABELS,
            "class_names": ["a", "b", "c"],
        },
        bad={
            "log_dir": DIRECTORY,
            "data": BATCH,
            "labels": (LABELS[:3], LABELS[None], LABELS - 1, LABELS + 0.5),
            "layer_name": (3, ""),
            "class_names": ("abc", [3], ["a", "b"]),
            "every_n_epochs": OPTIONAL_POSITIVE_INT,
            "max_to_keep": POSITIVE_INT,
            "overwrite": BOOLEAN,
        },
        note="constructor only: a callback has no call of its own",
    ),
    "callbacks.MagnitudePruning": Entry(
        callbacks.MagnitudePruning,
        args={"target_sparsity": 0.5, "begin_step": 0, "end_step": 10},
        bad={
            "target_sparsity": RATE,
            "begin_step": NON_NEGATIVE_INT + (10,),
            "end_step": POSITIVE_INT,
            "frequency": POSITIVE_INT,
            "initial_sparsity": FRACTION + (0.6,),
            "layer_names": ("dense", [3], [""]),
            "log_dir": OPTIONAL_DIRECTORY,
        },
        note="constructor only: a callback has no call of its own",
    ),
    "callbacks.RetrievalEvaluator": Entry(
        callbacks.RetrievalEvaluator,
        args={"query_data": (X, LABELS), "ks": (1,)},
        bad={
            "query_data": (None, (X,), (X, LABELS[:3]), (X, LABELS - 1)),
            "reference_data": ((X,), (X, LABELS[:3]), "x"),
            "ks": (0, (0,), (4,), "x", None),
            "metric": CHOICE,
            "every_n_epochs": POSITIVE_INT,
            "log_dir": OPTIONAL_DIRECTORY,
            "embedding_model": ("x", 3),
            "layer_name": (3, ""),
            "prefix": (None, 3),
            "batch_size": POSITIVE_INT,
        },
        note="constructor only: a callback has no call of its own",
    ),
    "callbacks.TimeStopping": Entry(
        callbacks.TimeStopping,
        args={"seconds": 10.0},
        bad={
            "seconds": POSITIVE_NUMBER,
            "log_dir": OPTIONAL_DIRECTORY,
            "verbose": BOOLEAN,
        },
        note="constructor only: a callback has no call of its own",
    ),
}
