"""Fuzz table: keras_dlparts.ops."""

import numpy as np
from fuzz.cases import BOOLEAN
from fuzz.cases import CHOICE
from fuzz.cases import NON_NEGATIVE_INT
from fuzz.cases import OPTIONAL_POSITIVE_INT
from fuzz.cases import POSITIVE_INT
from fuzz.cases import POSITIVE_NUMBER
from fuzz.cases import Entry

from keras_dlparts import ops

rng = np.random.default_rng(0)
X = rng.normal(size=(4, 3)).astype("float32")
C = rng.normal(size=(5, 3)).astype("float32")
# A batch of 3: without its last example it is 2, which does not broadcast.
Q = rng.normal(size=(3, 3, 4)).astype("float32")
K = rng.normal(size=(3, 5, 4)).astype("float32")
V = rng.normal(size=(3, 5, 6)).astype("float32")
# The same with a head axis, (batch, length, heads, depth).
Q4, K4, V4 = Q[:, :, None], K[:, :, None], V[:, :, None]
# A linear-chain CRF: 3 sequences of 4 steps over 2 tags.
POTENTIALS = rng.normal(size=(3, 4, 2)).astype("float32")
TAGS = np.array([[0, 1, 1, 0], [1, 1, 0, 0], [0, 0, 0, 1]])
# Three 6 x 5 two-channel images in [0, 1].
IMAGES = rng.random((3, 6, 5, 2)).astype("float32")
CHAIN = rng.normal(size=(2, 2)).astype("float32")

#: Leading axes broadcast in these ops: an input without its batch axis
#: is valid (it is shared by every example), so only mismatched batches
#: and empty batches are tried.
BROADCASTS = "leading axes broadcast: an input without its batch axis is valid"

TABLE = {
    "ops.rbf_kernel": Entry(
        ops.rbf_kernel,
        args={"x": X, "centers": C, "gamma": 1.0},
        bad={"gamma": POSITIVE_NUMBER},
        tensors=("x", "centers"),
        batch_free=("centers",),
        bad_calls=[
            ("centers", {"centers": C[:, :2]}),
            ("gamma", {"gamma": np.ones(3, "float32")}),
        ],
    ),
    "ops.pairwise_squared_distance": Entry(
        ops.pairwise_squared_distance,
        args={"x": X, "y": C},
        tensors=("x", "y"),
        batch_free=("y",),
        bad_calls=[("y", {"y": C[:, :2]}), ("y", {"y": C[None]})],
    ),
    "ops.frechet_distance": Entry(
        ops.frechet_distance,
        args={"features_a": X, "features_b": C},
        tensors=("features_a", "features_b"),
        batch_free=("features_a", "features_b"),  # row counts may differ
        bad_calls=[
            ("features_b", {"features_b": C[:, :2]}),
            ("features_b", {"features_b": C[:1]}),
        ],
    ),
    "ops.gaussian_kl_divergence": Entry(
        ops.gaussian_kl_divergence,
        args={"mean": X, "log_var": X * 0.1},
        tensors=("mean", "log_var"),
        bad_calls=[
            ("log_var", {"log_var": X[:, :2]}),
            ("mean", {"mean": X[0, 0]}),
        ],
    ),
    "ops.psnr": Entry(
        ops.psnr,
        args={"a": IMAGES, "b": 1 - IMAGES, "max_val": 1.0},
        bad={"max_val": POSITIVE_NUMBER},
        tensors=("a", "b"),
        bad_calls=[("b", {"b": IMAGES[:, :, :4]})],
    ),
    "ops.ssim": Entry(
        ops.ssim,
        args={
            "a": IMAGES,
            "b": 1 - IMAGES,
            "max_val": 1.0,
            "filter_size": 3,
            "filter_sigma": 1.0,
            "k1": 0.01,
            "k2": 0.03,
        },
        bad={
            "max_val": POSITIVE_NUMBER,
            "filter_size": POSITIVE_INT,
            "filter_sigma": POSITIVE_NUMBER,
            "k1": POSITIVE_NUMBER,
            "k2": POSITIVE_NUMBER,
        },
        tensors=("a", "b"),
        bad_calls=[
            ("b", {"b": IMAGES[:, :, :4]}),
            ("filter_size", {"filter_size": 7}),
        ],
    ),
    "ops.crf_log_likelihood": Entry(
        ops.crf_log_likelihood,
        args={
            "potentials": POTENTIALS,
            "tags": TAGS,
            "lengths_or_mask": np.array([4, 2, 3]),
            "transitions": CHAIN,
        },
        tensors=("potentials", "tags", "lengths_or_mask", "transitions"),
        batch_free=("transitions",),
        bad_calls=[
            ("tags", {"tags": TAGS + 1}),
            ("transitions", {"transitions": np.ones((3, 3), "float32")}),
            ("lengths_or_mask", {"lengths_or_mask": TAGS[:, :3]}),
            ("end_transitions", {"end_transitions": CHAIN}),
        ],
    ),
    "ops.viterbi_decode": Entry(
        ops.viterbi_decode,
        args={
            "potentials": POTENTIALS,
            "transitions": CHAIN,
            "mask": TAGS > -1,
        },
        tensors=("potentials", "transitions", "mask"),
        batch_free=("transitions",),
        bad_calls=[
            ("transitions", {"transitions": CHAIN[:1]}),
            ("mask", {"mask": np.ones((3, 5), bool)}),
            ("start_transitions", {"start_transitions": CHAIN[0, :1]}),
        ],
    ),
    "ops.cosine_similarity": Entry(
        ops.cosine_similarity,
        args={"a": X, "b": X[::-1], "axis": -1},
        bad={"axis": (2, -3, 1.5, "x", None)},
        tensors=("a", "b"),
        rank_free=("a", "b"),
        bad_calls=[("b", {"b": C[:, :2]})],
        note=BROADCASTS,
    ),
    "ops.scaled_dot_product_attention": Entry(
        ops.scaled_dot_product_attention,
        args={"query": Q, "key": K, "value": V, "mask": None},
        tensors=("query", "key", "value"),
        rank_free=("query", "key", "value"),
        bad_calls=[
            ("key", {"key": K[..., :3]}),
            ("value", {"value": V[:, :4]}),
            ("query", {"query": Q[0, 0]}),
            ("mask", {"mask": np.ones((3, 3, 4), bool)}),
        ],
        note=BROADCASTS,
    ),
    "ops.memory_efficient_attention": Entry(
        ops.memory_efficient_attention,
        args={"query": Q4, "key": K4, "value": V4, "mask": None},
        bad={
            "is_causal": BOOLEAN,
            "score": CHOICE,
            "query_chunk_size": POSITIVE_INT,
            "key_chunk_size": POSITIVE_INT,
            "sliding_window": OPTIONAL_POSITIVE_INT,
            "scale": tuple(v for v in POSITIVE_NUMBER if v is not None),
        },
        tensors=("query", "key", "value"),
        bad_calls=[
            ("key", {"key": K4[..., :3]}),
            ("value", {"value": V4[:, :4]}),
            ("query", {"query": Q4[0, 0]}),
            ("mask", {"mask": np.ones((3, 1, 3, 4), bool)}),
            ("score_weights", {"score_weights": {"kernel": 1.0}}),
        ],
    ),
    "ops.sinusoidal_positional_encoding": Entry(
        ops.sinusoidal_positional_encoding,
        args={"length": 5, "depth": 4, "base": 10000.0},
        bad={
            "length": NON_NEGATIVE_INT,
            "depth": POSITIVE_INT + (3,),
            "base": POSITIVE_NUMBER,
        },
    ),
}
