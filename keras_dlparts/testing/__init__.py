"""keras_dlparts.testing: the public contract checks every part must pass.

`check_layer`, `check_model`, `check_loss` and `check_optimizer` run on the
active Keras backend (TensorFlow or JAX); docs/contract.md lists the checks
and what each means on each backend. The modules: `harness` (running checks,
comparing, the sweep report's records), `devices` (two devices on a CPU and
data-parallel training over them), `checkpoint` (each backend's
checkpoint), and one module per kind of part (`layers`, `models`, `losses`,
`optimizers`).
"""

from keras_dlparts.testing.devices import configure_logical_cpus
from keras_dlparts.testing.devices import data_parallel
from keras_dlparts.testing.devices import distribution_scope
from keras_dlparts.testing.devices import mirrored_strategy
from keras_dlparts.testing.harness import MIXED_POLICIES
from keras_dlparts.testing.harness import ContractError
from keras_dlparts.testing.layers import LAYER_CHECKS
from keras_dlparts.testing.layers import check_layer
from keras_dlparts.testing.losses import LOSS_CHECKS
from keras_dlparts.testing.losses import check_loss
from keras_dlparts.testing.models import MODEL_CHECKS
from keras_dlparts.testing.models import check_model
from keras_dlparts.testing.optimizers import OPTIMIZER_CHECKS
from keras_dlparts.testing.optimizers import check_optimizer
from keras_dlparts.testing.optimizers import optimizer_problem
