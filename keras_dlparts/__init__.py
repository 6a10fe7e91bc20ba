"""keras_dlparts: reusable deep-learning parts for Keras 3.

Every part plugs into a plain ``model.compile()`` / ``model.fit()`` workflow,
saves as a ``.keras`` file that loads with ``safe_mode=True``, and is held to
the contract in :mod:`keras_dlparts.testing`.

``keras_dlparts.data`` (tf.data pipelines) and ``keras_dlparts.tuning``
(KerasTuner) are imported on first access, so that importing the package
on the JAX backend loads neither TensorFlow nor KerasTuner.
"""

import importlib

__version__ = "0.1.0"

from keras_dlparts import callbacks
from keras_dlparts import layers
from keras_dlparts import losses
from keras_dlparts import metrics
from keras_dlparts import models
from keras_dlparts import ops
from keras_dlparts import optimizers
from keras_dlparts import retrieval

_LAZY_SUBPACKAGES = ("data", "tuning")

__all__ = [
    "__version__",
    "callbacks",
    "data",
    "layers",
    "losses",
    "metrics",
    "models",
    "ops",
    "optimizers",
    "retrieval",
    "tuning",
]


def __getattr__(name):
    if name in _LAZY_SUBPACKAGES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_SUBPACKAGES))
