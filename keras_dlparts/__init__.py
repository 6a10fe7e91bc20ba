"""keras_dlparts: reusable deep-learning parts for Keras 3.

Every part plugs into a plain ``model.compile()`` / ``model.fit()`` workflow,
saves as a ``.keras`` file that loads with ``safe_mode=True``, and is held to
the contract in :mod:`keras_dlparts.testing`.
"""

__version__ = "0.1.0"

from keras_dlparts import callbacks
from keras_dlparts import data
from keras_dlparts import layers
from keras_dlparts import losses
from keras_dlparts import metrics
from keras_dlparts import models
from keras_dlparts import ops
from keras_dlparts import optimizers
from keras_dlparts import tuning

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
    "tuning",
]
