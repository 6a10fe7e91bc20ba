"""keras_dlparts.optimizers: public names of this folder."""

from keras_dlparts.optimizers.add_sign import AddSign
from keras_dlparts.optimizers.lazy_adam import LazyAdam
from keras_dlparts.optimizers.lookahead import Lookahead
from keras_dlparts.optimizers.multi_optimizer import MultiOptimizer
from keras_dlparts.optimizers.novograd import NovoGrad
from keras_dlparts.optimizers.power_sign import PowerSign
from keras_dlparts.optimizers.radam import RAdam
from keras_dlparts.optimizers.swa import SWA
from keras_dlparts.optimizers.swa import update_batch_norm_statistics
from keras_dlparts.optimizers.yogi import Yogi
