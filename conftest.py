"""Test session setup: quiet TensorFlow and two logical CPUs for MirroredStrategy."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from keras_dlparts.testing import configure_logical_cpus  # noqa: E402

configure_logical_cpus(2)
