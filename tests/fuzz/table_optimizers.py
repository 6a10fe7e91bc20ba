"""Fuzz table: keras_dlparts.optimizers.

An optimizer has no tensor inputs: each entry constructs it. Besides their
own arguments, `AddSign`, `PowerSign` and `RAdam` check the keyword
arguments of every Keras optimizer (`None` is valid where Keras has it as
"off", so it is left out of those bad values).
"""

import keras
import numpy as np
from fuzz.cases import BOOLEAN
from fuzz.cases import CHOICE
from fuzz.cases import FRACTION
from fuzz.cases import INF
from fuzz.cases import MODEL
from fuzz.cases import NAN
from fuzz.cases import NON_NEGATIVE_INT
from fuzz.cases import NON_NEGATIVE_NUMBER
from fuzz.cases import OPTIONAL_POSITIVE_INT
from fuzz.cases import POSITIVE_INT
from fuzz.cases import POSITIVE_NUMBER
from fuzz.cases import RATE
from fuzz.cases import Entry
from fuzz.cases import fresh

from keras_dlparts import optimizers


def _not_none(values):
    return tuple(v for v in values if v is not None)


KERAS_ARGUMENTS = {
    "learning_rate": POSITIVE_NUMBER,
    "weight_decay": _not_none(NON_NEGATIVE_NUMBER),
    "clipnorm": _not_none(POSITIVE_NUMBER),
    "clipvalue": _not_none(POSITIVE_NUMBER),
    "global_clipnorm": _not_none(POSITIVE_NUMBER),
    "use_ema": BOOLEAN,
    "ema_momentum": FRACTION,
    "ema_overwrite_frequency": _not_none(POSITIVE_INT),
    "loss_scale_factor": _not_none(POSITIVE_NUMBER),
    "gradient_accumulation_steps": (1, 0, -1, 1.5, True, "x"),
}

SIGN_RULE = {
    "beta": RATE,
    "decay_steps": _not_none(POSITIVE_INT),
    **KERAS_ARGUMENTS,
}

TABLE = {
    "optimizers.AddSign": Entry(
        optimizers.AddSign,
        args={"learning_rate": 0.1},
        bad={"alpha": NON_NEGATIVE_NUMBER, **SIGN_RULE},
    ),
    "optimizers.PowerSign": Entry(
        optimizers.PowerSign,
        args={"learning_rate": 0.1},
        bad={"base": (1.0, 0.5, NAN, INF, "x", None), **SIGN_RULE},
    ),
    "optimizers.RAdam": Entry(
        optimizers.RAdam,
        args={"learning_rate": 0.01},
        bad={
            "beta_1": RATE,
            "beta_2": RATE,
            "epsilon": POSITIVE_NUMBER,
            "sma_threshold": (3.9, -1.0, NAN, INF, "x", None),
            "total_steps": NON_NEGATIVE_INT,
            "warmup_proportion": FRACTION,
            "min_lr": NON_NEGATIVE_NUMBER,
            **KERAS_ARGUMENTS,
        },
    ),
    "optimizers.Yogi": Entry(
        optimizers.Yogi,
        args={"learning_rate": 0.01},
        bad={
            "beta_1": RATE,
            "beta_2": RATE,
            "epsilon": POSITIVE_NUMBER,
            "l1_regularization_strength": NON_NEGATIVE_NUMBER,
            "l2_regularization_strength": NON_NEGATIVE_NUMBER,
            "initial_accumulator_value": POSITIVE_NUMBER,
            "activation": CHOICE,
            **KERAS_ARGUMENTS,
        },
    ),
    "optimizers.NovoGrad": Entry(
        optimizers.NovoGrad,
        args={"learning_rate": 0.01},
        bad={
            "beta_1": RATE,
            "beta_2": RATE,
            "epsilon": POSITIVE_NUMBER,
            "grad_averaging": BOOLEAN,
            "amsgrad": BOOLEAN,
            **KERAS_ARGUMENTS,
            # NovoGrad's own (in the momentum): None is not "off" here.
            "weight_decay": NON_NEGATIVE_NUMBER,
        },
    ),
    "optimizers.LazyAdam": Entry(
        optimizers.LazyAdam,
        args={"learning_rate": 0.01},
        bad={
            "beta_1": RATE,
            "beta_2": RATE,
            "epsilon": POSITIVE_NUMBER,
            "amsgrad": BOOLEAN,
            **KERAS_ARGUMENTS,
        },
    ),
    "optimizers.MultiOptimizer": Entry(
        optimizers.MultiOptimizer,
        args={
            "optimizers_and_layers": fresh(
                lambda: [(keras.optimizers.SGD(0.1), ["dense/kernel"])]
            )
        },
        bad={
            "optimizers_and_layers": (None, "x", 3, [], [("adam", ["a"])])
            + (
                [(keras.optimizers.SGD(), 3)],
                [(keras.optimizers.SGD(), [])],
                [
                    (keras.optimizers.SGD(), ["a"]),
                    (keras.optimizers.SGD(), ["a"]),
                ],
            ),
            # MultiOptimizer takes these from the optimizers it holds.
            "clipnorm": (1.0,),
        },
    ),
    "optimizers.SWA": Entry(
        optimizers.SWA,
        args={"inner_optimizer": fresh(lambda: keras.optimizers.SGD(0.1))},
        bad={
            "inner_optimizer": MODEL
            + (
                keras.optimizers.SGD(gradient_accumulation_steps=2),
                keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD()),
            ),
            "start_averaging": NON_NEGATIVE_INT,
            "average_period": POSITIVE_INT,
            # SWA takes these from its inner optimizer.
            "clipnorm": (1.0,),
        },
    ),
    "optimizers.update_batch_norm_statistics": Entry(
        optimizers.update_batch_norm_statistics,
        args={
            "model": fresh(
                lambda: keras.Sequential(
                    [keras.Input((3,)), keras.layers.BatchNormalization()]
                )
            ),
            "data": np.ones((4, 3), "float32"),
        },
        bad={
            "model": MODEL + (keras.layers.Dense(2),),
            "data": (None, 3, "x", []),
            "batch_size": POSITIVE_INT,
            "steps": OPTIONAL_POSITIVE_INT,
        },
    ),
    "optimizers.Lookahead": Entry(
        optimizers.Lookahead,
        args={"inner_optimizer": fresh(lambda: keras.optimizers.SGD(0.1))},
        bad={
            "inner_optimizer": MODEL
            + (
                keras.optimizers.SGD(use_ema=True),
                keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD()),
            ),
            "sync_period": POSITIVE_INT,
            "slow_step_size": (0, -0.1, 1.5, NAN, INF, "x", None),
            # Lookahead takes these from its inner optimizer.
            "clipnorm": (1.0,),
            "weight_decay": (0.01,),
        },
    ),
}
