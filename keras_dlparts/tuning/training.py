"""The training hyperparameters: optimizer, learning rate, momentum, batch size.

These keys of a search space go to `compile()` and `fit()` rather than to
the model builder:

- `optimizer`: a Keras optimizer name, one of `OPTIMIZERS`;
- `learning_rate`: the optimizer's step size;
- `momentum`: momentum of `"sgd"` (heavy ball) and `"rmsprop"`, ignored by
  the others;
- `weight_decay`: the optimizer's decoupled weight decay (an L2 strength
  that works for every builder, with or without an `l2` argument);
- `batch_size`: the batch size `fit()` uses;
- `epochs`: the epochs `fit()` runs (not with `Hyperband`, which sets the
  epochs of each trial itself).
"""

import keras

from keras_dlparts import _validation

TRAINING_KEYS = (
    "optimizer",
    "learning_rate",
    "momentum",
    "weight_decay",
    "batch_size",
    "epochs",
)

OPTIMIZERS = (
    "adam",
    "adamw",
    "sgd",
    "rmsprop",
    "adagrad",
    "adadelta",
    "nadam",
    "lion",
)

_WITH_MOMENTUM = ("sgd", "rmsprop")


def split_training(values):
    """Splits sampled values into `(training, builder)` dictionaries."""
    training = {k: v for k, v in values.items() if k in TRAINING_KEYS}
    builder = {k: v for k, v in values.items() if k not in TRAINING_KEYS}
    return training, builder


def check_optimizer_name(name):
    """Raises `ValueError` unless `name` is one of `OPTIMIZERS`."""
    _validation.one_of("search_space['optimizer']", name, OPTIMIZERS)


def make_optimizer(training, default="adam"):
    """A fresh Keras optimizer from the training hyperparameters.

    Args:
        training: a dictionary with any of `optimizer` (a name from
            `OPTIMIZERS`), `learning_rate` (> 0), `momentum` (in [0, 1))
            and `weight_decay` (>= 0); its other `TRAINING_KEYS`
            (`batch_size`, `epochs`) are for `fit` and ignored here.
        default: the optimizer name when `training` has none.

    Returns:
        A `keras.optimizers.Optimizer`.

    Examples:

        >>> optimizer = make_optimizer(
        ...     {"optimizer": "sgd", "learning_rate": 0.1, "momentum": 0.9})
        >>> type(optimizer).__name__, round(float(optimizer.learning_rate), 3)
        ('SGD', 0.1)
        >>> optimizer.momentum
        0.9
    """
    training = _checked_training(training)
    name = training.get(
        "optimizer", _validation.one_of("default", default, OPTIMIZERS)
    )
    config = {}
    if "learning_rate" in training:
        config["learning_rate"] = float(training["learning_rate"])
    if "momentum" in training and name in _WITH_MOMENTUM:
        config["momentum"] = float(training["momentum"])
    if training.get("weight_decay"):
        config["weight_decay"] = float(training["weight_decay"])
    return keras.optimizers.get({"class_name": name, "config": config})


_OPTIMIZER_KEYS = {
    "optimizer": lambda name, value: _validation.one_of(
        name, value, OPTIMIZERS
    ),
    "learning_rate": _validation.positive_number,
    "momentum": _validation.rate,
    "weight_decay": _validation.non_negative_number,
}


def _checked_training(training):
    """`training` as a dict whose optimizer values are checked by key."""
    training = _validation.mapping("training", training)
    unknown = sorted(set(training) - set(TRAINING_KEYS), key=str)
    if unknown:
        raise ValueError(
            f"Argument `training` may only hold keys from {TRAINING_KEYS}. "
            f"Received unknown keys: {unknown}"
        )
    for key, check in _OPTIMIZER_KEYS.items():
        if key in training:
            check(f"training['{key}']", training[key])
    return training
