"""Fuzz table: keras_dlparts.metrics."""

import numpy as np
from fuzz.cases import BOOLEAN
from fuzz.cases import CHOICE
from fuzz.cases import POSITIVE_INT
from fuzz.cases import POSITIVE_NUMBER
from fuzz.cases import Entry

from keras_dlparts import metrics

REFERENCES = np.array([[1, 2, 3, 4, 0], [5, 6, 7, 0, 0], [1, 1, 2, 2, 3]])
CANDIDATES = np.array([[1, 2, 3, 5, 0], [5, 6, 0, 0, 0], [1, 2, 2, 3, 0]])


LABELS = np.array([0, 2, 1, 1, 0, 2])
SCORES = np.eye(3)[[0, 1, 1, 2, 0, 2]] * 0.8 + 0.1
BAD_WEIGHTAGE = tuple(v for v in CHOICE if v is not None)
IMAGES = np.random.default_rng(0).random((3, 6, 5, 2)).astype("float32")


def update_then_result(metric, y_true, y_pred):
    metric.update_state(y_true, y_pred)
    return metric.result()


TABLE = {
    "metrics.BLEU": Entry(
        metrics.BLEU,
        args={"max_order": 2, "smooth": True},
        bad={"max_order": POSITIVE_INT, "smooth": BOOLEAN},
        inputs={"y_true": REFERENCES, "y_pred": CANDIDATES},
        call=update_then_result,
        bad_calls=[("y_pred", {"y_pred": CANDIDATES[:, :, None, None]})],
    ),
    "metrics.CohenKappa": Entry(
        metrics.CohenKappa,
        args={"num_classes": 3, "weightage": "linear", "sparse_labels": True},
        bad={
            "num_classes": POSITIVE_INT + (1,),
            "weightage": BAD_WEIGHTAGE,
            "sparse_labels": BOOLEAN,
        },
        inputs={"y_true": LABELS, "y_pred": SCORES},
        call=update_then_result,
        bad_calls=[
            ("y_true", {"y_true": np.eye(3)[LABELS]}),
            ("y_pred", {"y_pred": SCORES[:, :2]}),
            ("y_true", {"y_true": LABELS + 1}),
        ],
    ),
    "metrics.KendallsTau": Entry(
        metrics.KendallsTau,
        args={"max_samples": 8},
        bad={"max_samples": POSITIVE_INT + (1,)},
        inputs={"y_true": LABELS * 0.5, "y_pred": SCORES[:, :1]},
        call=update_then_result,
        bad_calls=[("y_pred", {"y_pred": SCORES})],
    ),
    "metrics.MatthewsCorrelationCoefficient": Entry(
        metrics.MatthewsCorrelationCoefficient,
        args={"num_classes": 3},
        bad={"num_classes": POSITIVE_INT + (1,), "sparse_labels": BOOLEAN},
        inputs={"y_true": np.eye(3)[LABELS], "y_pred": SCORES},
        call=update_then_result,
        bad_calls=[
            ("y_true", {"y_true": LABELS}),
            ("y_pred", {"y_pred": SCORES[:, :, None]}),
        ],
    ),
    "metrics.PSNR": Entry(
        metrics.PSNR,
        args={"max_val": 1.0},
        bad={"max_val": POSITIVE_NUMBER},
        inputs={"y_true": IMAGES, "y_pred": 1 - IMAGES},
        call=update_then_result,
        bad_calls=[("y_pred", {"y_pred": IMAGES[:, :4]})],
    ),
    "metrics.SSIM": Entry(
        metrics.SSIM,
        args={"max_val": 1.0, "filter_size": 3, "filter_sigma": 1.0},
        bad={
            "max_val": POSITIVE_NUMBER,
            "filter_size": POSITIVE_INT,
            "filter_sigma": POSITIVE_NUMBER,
            "k1": POSITIVE_NUMBER,
            "k2": POSITIVE_NUMBER,
        },
        inputs={"y_true": IMAGES, "y_pred": 1 - IMAGES},
        call=update_then_result,
        bad_calls=[
            ("y_pred", {"y_pred": IMAGES[:, :4]}),
            ("filter_size", {"y_true": IMAGES[:, :2], "y_pred": IMAGES[:, :2]}),
        ],
    ),
    "metrics.ROUGE": Entry(
        metrics.ROUGE,
        args={"variant": "l", "order": 2, "score": "f1"},
        bad={"variant": CHOICE, "order": POSITIVE_INT, "score": CHOICE},
        inputs={"y_true": REFERENCES, "y_pred": CANDIDATES},
        call=update_then_result,
        bad_calls=[("y_true", {"y_true": REFERENCES[:, None, :]})],
    ),
}
