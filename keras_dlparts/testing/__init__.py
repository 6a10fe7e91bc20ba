"""keras_dlparts.testing: the public contract checks every part must pass.

TensorFlow-only (uses tf.distribute, tf.train.Checkpoint, tf.GradientTape).
"""

from keras_dlparts.testing.contract import ContractError
from keras_dlparts.testing.contract import LAYER_CHECKS
from keras_dlparts.testing.contract import MIXED_POLICIES
from keras_dlparts.testing.contract import MODEL_CHECKS
from keras_dlparts.testing.contract import check_layer
from keras_dlparts.testing.contract import check_model
from keras_dlparts.testing.contract import configure_logical_cpus
from keras_dlparts.testing.contract import mirrored_strategy
from keras_dlparts.testing.losses import LOSS_CHECKS
from keras_dlparts.testing.losses import check_loss
from keras_dlparts.testing.optimizers import OPTIMIZER_CHECKS
from keras_dlparts.testing.optimizers import check_optimizer
from keras_dlparts.testing.optimizers import optimizer_problem
