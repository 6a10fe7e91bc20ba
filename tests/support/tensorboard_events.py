"""Reads TensorBoard event files back for the callback tests."""

import glob
import os

import tensorflow as tf
from tensorboard.util import tensor_util


def read_events(log_dir):
    """Returns `{tag: [(step, value), ...]}` from every event file in `log_dir`.

    Values are NumPy arrays (scalars are 0-d); text summaries are bytes
    arrays, images the `[width, height, png, ...]` string tensor.
    """
    found = {}
    files = sorted(glob.glob(os.path.join(log_dir, "events.out.tfevents.*")))
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                array = tensor_util.make_ndarray(value.tensor)
                found.setdefault(value.tag, []).append((event.step, array))
    return found


def scalars(log_dir, tag):
    """`[(step, float)]` of one scalar tag."""
    return [(s, float(v)) for s, v in read_events(log_dir).get(tag, [])]
