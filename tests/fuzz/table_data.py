"""Fuzz table: keras_dlparts.data.

`load_tfds` runs on `tfds.testing.mock_data` (random examples in the
dataset's format): nothing is downloaded, and the argument checks come
before TFDS is asked for anything.
"""

import numpy as np
from fuzz.cases import BOOLEAN
from fuzz.cases import INF
from fuzz.cases import NAN
from fuzz.cases import NON_NEGATIVE_INT
from fuzz.cases import POSITIVE_INT
from fuzz.cases import SEED
from fuzz.cases import Entry

from keras_dlparts import data

X = np.random.default_rng(0).random((8, 2, 2, 1)).astype("float32")
Y = np.arange(8) % 3
NORMALIZE = ("no-such-choice", "", 3)  # None is valid: no normalisation
AUGMENT = ("x", 3, [3])
SEQUENCES = ("abc", None, [[1, -2]], [[1.5]], [3])


def load_tfds_on_mock_data(**kwargs):
    """`data.load_tfds` on mock data (no download, no files read)."""
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=8):
        return data.load_tfds(**kwargs)


TABLE = {
    "data.make_dataset": Entry(
        data.make_dataset,
        args={"x": X, "y": Y, "batch_size": 4},
        tensors=("x", "y"),
        bad={
            "batch_size": POSITIVE_INT,
            "shuffle": BOOLEAN,
            "seed": SEED,
            "normalize": NORMALIZE,
            "augment": AUGMENT,
            "drop_remainder": BOOLEAN,
        },
        bad_calls=[("x", {"x": None}), ("y", {"y": "labels"})],
    ),
    "data.class_balanced_batches": Entry(
        data.class_balanced_batches,
        args={"x": X, "y": Y, "classes_per_batch": 2, "examples_per_class": 2},
        tensors=("x", "y"),
        bad={
            "classes_per_batch": POSITIVE_INT + (4,),  # Y has 3 classes
            "examples_per_class": POSITIVE_INT,
            "seed": SEED,
            "repeat": BOOLEAN,
            "replace": BOOLEAN,
            "normalize": NORMALIZE,
            "augment": AUGMENT,
        },
        bad_calls=[
            ("x", {"x": None}),
            ("y", {"y": Y + 0.5}),
            ("y", {"y": "labels"}),
            ("y", {"y": -Y - 1}),
        ],
    ),
    "data.load_tfds": Entry(
        load_tfds_on_mock_data,
        args={"name": "mnist", "batch_size": 4, "shuffle_buffer": 0},
        bad={
            "name": ("", None, 3),
            "split": ("", None, 3),
            "batch_size": POSITIVE_INT,
            "shuffle_buffer": NON_NEGATIVE_INT,
            "cache": ("", 1, None),
            "as_supervised": BOOLEAN,
            "image_key": ("", None, 3, "no-such-feature"),
            "label_key": ("", None, 3, "no-such-feature"),
            "normalize": NORMALIZE,
            "augment": AUGMENT,
            "seed": SEED,
            "data_dir": (3, ""),
            "drop_remainder": BOOLEAN,
            "download": BOOLEAN,
        },
    ),
    "data.load_digits": Entry(
        data.load_digits,
        bad={
            "test_fraction": (0, 1.0, -0.1, NAN, INF, "x", None),
            "seed": SEED,
            "as_images": BOOLEAN,
        },
    ),
    "data.digit_captions": Entry(
        data.digit_captions,
        args={"labels": np.array([7, 0, 3])},
        tensors=("labels",),
        bad={
            "labels": ([-1], [10], [1.5], "7", None, [True]),
            "templates": ("a {}", [], ["no slot"], None, [3]),
            "seed": SEED,
        },
    ),
    "data.Vocabulary": Entry(
        data.Vocabulary,
        args={"texts": ["a b", "b c"]},
        bad={
            "texts": ("hello world", None, [3], 3),
            "max_size": (2, 0, 3.5, True, "x"),
        },
    ),
    "data.standardize": Entry(
        data.standardize,
        args={"text": "The cat, the DOG!"},
        bad={"text": (None, 3, ["a"])},
    ),
    "data.skipgram_pairs": Entry(
        data.skipgram_pairs,
        args={"sequences": [[1, 2, 3]], "window_size": 1},
        bad={"sequences": SEQUENCES, "window_size": POSITIVE_INT},
    ),
    "data.cbow_examples": Entry(
        data.cbow_examples,
        args={"sequences": [[1, 2, 3]], "window_size": 1},
        bad={"sequences": SEQUENCES, "window_size": POSITIVE_INT},
    ),
}
