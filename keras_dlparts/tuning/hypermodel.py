"""Any model builder plus a dictionary of ranges, as a KerasTuner HyperModel."""

import keras_tuner

from keras_dlparts import _validation
from keras_dlparts.tuning.search_space import Choice
from keras_dlparts.tuning.search_space import Float
from keras_dlparts.tuning.search_space import Int
from keras_dlparts.tuning.search_space import sample
from keras_dlparts.tuning.search_space import validate_search_space
from keras_dlparts.tuning.training import TRAINING_KEYS
from keras_dlparts.tuning.training import check_optimizer_name
from keras_dlparts.tuning.training import make_optimizer
from keras_dlparts.tuning.training import split_training


class BuilderHyperModel(keras_tuner.HyperModel):
    """A `keras_tuner.HyperModel` from a builder and a search space.

    Each trial samples every range of `search_space` (see
    `keras_dlparts.tuning.search_space`) and splits the values:

    - the training keys (`optimizer`, `learning_rate`, `momentum`,
      `weight_decay`, `batch_size`, `epochs`) build the optimizer passed
      to `compile()` and set `fit()`'s batch size and epochs;
    - the other keys, passed through `transform` when given, are keyword
      arguments of `build_fn`, on top of `fixed`.

    `build_fn(**fixed, **arguments)` must return a `keras.Model`; it is
    compiled with the optimizer and the other `compile` arguments (loss,
    metrics, ...). Where the search space has `batch_size`, `fit` uses it:
    NumPy inputs get `batch_size=`, a `tf.data.Dataset` is re-batched.

    Args:
        build_fn: a function returning an uncompiled `keras.Model`.
        search_space: a dictionary from names to ranges (`Int`, `Float`,
            `Choice`, `Boolean`) or fixed values.
        fixed: optional dictionary of constant keyword arguments of
            `build_fn` (not shown to the tuner), e.g. the input shape.
        compile: optional dictionary of `compile()` arguments; its
            `optimizer`, a name, is the default where the search space has
            none.
        transform: optional function from the dictionary of sampled builder
            values to `build_fn`'s keyword arguments (e.g. `depth` and
            `width` to `hidden_units=(width,) * depth`).
        name: optional name of the hypermodel.

    Examples:

        >>> import keras_tuner
        >>> from keras_dlparts.models import build_mlp
        >>> from keras_dlparts.tuning import BuilderHyperModel, Choice, Float
        >>> hypermodel = BuilderHyperModel(
        ...     build_mlp,
        ...     search_space={
        ...         "hidden_units": Choice([(8,), (16, 16)]),
        ...         "learning_rate": Float(1e-3, 1e-1, sampling="log")},
        ...     fixed={"input_shape": 4, "num_outputs": 3,
        ...            "output_activation": "softmax"},
        ...     compile={"loss": "sparse_categorical_crossentropy"})
        >>> hp = keras_tuner.HyperParameters()
        >>> model = hypermodel.build(hp)
        >>> rate = float(model.optimizer.learning_rate)
        >>> model.get_layer("hidden_0").units, rate
        (8, 0.001)
    """

    def __init__(
        self,
        build_fn,
        search_space,
        fixed=None,
        compile=None,
        transform=None,
        name=None,
        tunable=True,
    ):
        _validation.function("build_fn", build_fn)
        self.search_space = validate_search_space(search_space)
        self.fixed = _validation.mapping("fixed", fixed, allow_none=True)
        self.compile_arguments = _validation.mapping(
            "compile", compile, allow_none=True
        )
        _validation.function("transform", transform, allow_none=True)
        super().__init__(
            name=_validation.optional_string("name", name),
            tunable=_validation.boolean("tunable", tunable),
        )
        for key in self.fixed:
            if key in self.search_space:
                raise ValueError(
                    f"Key {key!r} is both in `search_space` and in `fixed`; "
                    "give it in one of them."
                )
            if key in TRAINING_KEYS:
                raise ValueError(
                    f"Key {key!r} of `fixed` is a training hyperparameter; "
                    "put it in `search_space` (a plain value fixes it)."
                )
        _check_training_ranges(self.search_space)
        self.build_fn = build_fn
        self.transform = transform

    def builder_arguments(self, values):
        """Maps the sampled builder values to `build_fn`'s keyword arguments."""
        return self.transform(dict(values)) if self.transform else dict(values)

    def build(self, hp):
        training, values = split_training(sample(hp, self.search_space))
        model = self.build_fn(**self.fixed, **self.builder_arguments(values))
        compile_arguments = dict(self.compile_arguments)
        default = compile_arguments.pop("optimizer", "adam")
        model.compile(
            optimizer=make_optimizer(training, default=default),
            **compile_arguments,
        )
        return model

    def fit(self, hp, model, *args, **kwargs):
        if "epochs" in self.search_space:
            kwargs["epochs"] = hp.get("epochs")
        if "batch_size" not in self.search_space:
            return model.fit(*args, **kwargs)
        batch_size = hp.get("batch_size")
        x = args[0] if args else kwargs.get("x")
        if hasattr(x, "unbatch"):  # a tf.data.Dataset
            x = x.unbatch().batch(batch_size)
            if args:
                args = (x,) + tuple(args[1:])
            else:
                kwargs["x"] = x
        else:
            kwargs["batch_size"] = batch_size
        return model.fit(*args, **kwargs)


def checked_options(search_space, fixed, compile):
    """The ready hypermodels' `search_space`, `fixed` and `compile` as dicts
    (`None` gives `{}`), checked by name before they are merged."""
    return (
        _validation.mapping("search_space", search_space, allow_none=True),
        _validation.mapping("fixed", fixed, allow_none=True),
        _validation.mapping("compile", compile, allow_none=True),
    )


def _check_training_ranges(search_space):
    optimizer = search_space.get("optimizer")
    if optimizer is not None:
        names = (
            optimizer.values if isinstance(optimizer, Choice) else [optimizer]
        )
        for name in names:
            check_optimizer_name(name)
    for key in ("batch_size", "epochs"):
        _check_positive_ints(key, search_space.get(key))


def _check_positive_ints(key, spec):
    if isinstance(spec, Choice):
        values = spec.values
    elif isinstance(spec, Float):
        values = [float(spec.min_value)]
    elif isinstance(spec, Int):
        values = [spec.min_value]
    else:
        values = [] if spec is None else [spec]
    for value in values:
        _validation.positive_int(f"search_space[{key!r}]", value)
