"""Fuzz table: keras_dlparts.ops."""

import numpy as np

from fuzz.cases import FINITE_NUMBER, POSITIVE_NUMBER, Entry
from keras_dlparts import ops

rng = np.random.default_rng(0)
X = rng.normal(size=(4, 3)).astype("float32")
C = rng.normal(size=(5, 3)).astype("float32")

TABLE = {
    "ops.rbf_kernel": Entry(
        ops.rbf_kernel,
        args={"x": X, "centers": C, "gamma": 1.0},
        bad={"gamma": POSITIVE_NUMBER},
        tensors=("x", "centers"),
        batch_free=("centers",),
        bad_calls=[("centers", {"centers": C[:, :2]})],
    ),
}
