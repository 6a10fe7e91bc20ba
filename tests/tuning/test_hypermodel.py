"""BuilderHyperModel: sampled values reach the builder, compile() and fit()."""

import keras
import keras_tuner
import numpy as np
import pytest

from keras_dlparts.models import build_mlp
from keras_dlparts.tuning import BuilderHyperModel
from keras_dlparts.tuning import Choice
from keras_dlparts.tuning import Float
from keras_dlparts.tuning import Int
from keras_dlparts.tuning import make_optimizer

FIXED = {"input_shape": 4, "num_outputs": 3, "output_activation": "softmax"}
COMPILE = {"loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]}
# One training step per epoch. TensorFlow runs one eager step faster than
# it traces one; JAX compiles each eager op on its own, so there one
# compiled step is the faster.
ONE_STEP = {"run_eagerly": keras.backend.backend() == "tensorflow"}


def _hypermodel(**space):
    return BuilderHyperModel(
        build_mlp,
        search_space=space,
        fixed=FIXED,
        compile=COMPILE,
        transform=_depth_width,
    )


def _depth_width(values):
    values["hidden_units"] = (values.pop("width"),) * values.pop("depth")
    return values


def _hp(**values):
    hp = keras_tuner.HyperParameters()
    hp.values.update(values)
    return hp


def test_values_reach_builder_and_optimizer():
    hypermodel = _hypermodel(
        depth=Int(1, 3),
        width=Int(4, 32, step=4),
        dropout=0.25,
        l2=Choice([0.0, 0.01]),
        optimizer=Choice(["adam", "sgd", "rmsprop"]),
        learning_rate=Float(1e-4, 1e-1, sampling="log"),
        momentum=Choice([0.0, 0.9]),
    )
    model = hypermodel.build(
        _hp(
            depth=2,
            width=12,
            l2=0.01,
            optimizer="sgd",
            learning_rate=0.05,
            momentum=0.9,
        )
    )
    assert [model.get_layer(f"hidden_{i}").units for i in range(2)] == [12, 12]
    assert "hidden_2" not in [layer.name for layer in model.layers]
    assert model.get_layer("dropout_0").rate == 0.25
    assert model.get_layer("hidden_0").kernel_regularizer.l2 == pytest.approx(
        0.01
    )
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    assert model.optimizer.momentum == 0.9
    assert model.loss == "sparse_categorical_crossentropy"


def test_weight_decay_and_default_optimizer():
    hypermodel = BuilderHyperModel(
        build_mlp,
        {"weight_decay": Choice([1e-3, 1e-2])},
        fixed=FIXED,
        compile={"loss": "mse", "optimizer": "rmsprop"},
    )
    model = hypermodel.build(_hp(weight_decay=1e-2))
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert model.optimizer.weight_decay == pytest.approx(1e-2)
    assert (
        make_optimizer({"optimizer": "adam", "momentum": 0.9})
        .get_config()
        .get("momentum")
        is None
    )  # momentum only goes to sgd and rmsprop


class _Steps(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.steps = self.params["steps"]


def test_batch_size_reaches_fit_for_arrays_and_datasets():
    hypermodel = _hypermodel(depth=1, width=4, batch_size=Choice([5, 10]))
    hp = _hp(batch_size=5)
    model = hypermodel.build(hp)
    x = np.random.default_rng(0).normal(size=(20, 4)).astype("float32")
    y = np.arange(20) % 3
    steps = _Steps()
    hypermodel.fit(hp, model, x, y, epochs=1, verbose=0, callbacks=[steps])
    assert steps.steps == 4  # 20 samples / batch 5
    import tensorflow as tf  # tf.data feeds `fit` on every backend

    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(20)
    history = hypermodel.fit(hp, model, x=dataset, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    counted = []
    original_fit = model.fit
    model.fit = lambda data, **kw: counted.append(sum(1 for _ in data))
    hypermodel.fit(hp, model, dataset)
    model.fit = original_fit
    assert counted == [4]  # the 1-batch dataset re-batched into 4


def test_epochs_reach_fit():
    hypermodel = _hypermodel(depth=1, width=4, epochs=Choice([2, 3]))
    hypermodel.compile_arguments.update(ONE_STEP)
    hp = _hp(epochs=3)
    model = hypermodel.build(hp)
    x = np.zeros((4, 4), "float32")
    history = hypermodel.fit(hp, model, x, np.zeros(4), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 3


@pytest.mark.slow
@pytest.mark.learning
def test_batch_size_search_in_random_search(two_trial_search):
    hypermodel = _hypermodel(
        depth=1, width=Int(4, 8, step=4), batch_size=Choice([4, 8])
    )
    hypermodel.compile_arguments.update(ONE_STEP)
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    for values, model in two_trial_search(hypermodel, x, np.arange(16) % 3):
        assert model.get_layer("hidden_0").units == values["width"]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (
            {"search_space": {3: 1}},
            TypeError,
            r"`search_space.keys\(\)` must hold strings",
        ),
        (
            {"search_space": {"optimizer": Choice(["adam", "adamax2"])}},
            ValueError,
            "'optimizer'.*adamax2",
        ),
        (
            {"search_space": {"batch_size": Choice([8, 0])}},
            ValueError,
            "'batch_size'.*0",
        ),
        (
            {"search_space": {"batch_size": Float(8, 32)}},
            TypeError,
            "'batch_size'",
        ),
        ({"search_space": {"epochs": Int(0, 3)}}, ValueError, "'epochs'.*0"),
        (
            {"search_space": {"l2": Choice([0.0, 0.1])}, "fixed": {"l2": 0.1}},
            ValueError,
            "'l2' is both",
        ),
        (
            {"search_space": {}, "fixed": {"learning_rate": 0.1}},
            ValueError,
            "training hyperparameter",
        ),
        (
            {"search_space": {}, "compile": "mse"},
            TypeError,
            "`compile` must be a dict",
        ),
        (
            {"search_space": {}, "fixed": ["x"]},
            TypeError,
            "`fixed` must be a dict",
        ),
        (
            {"search_space": {}, "transform": 3},
            TypeError,
            "`transform` must be callable",
        ),
        ({"search_space": {}, "name": 3}, TypeError, "`name` must be a string"),
        ({"search_space": {}, "tunable": "yes"}, TypeError, "`tunable`"),
        ({"search_space": None}, TypeError, "`search_space` must be a dict"),
    ],
)
def test_bad_arguments_raise(kwargs, error, message):
    with pytest.raises(error, match=message):
        BuilderHyperModel(build_mlp, **kwargs)
    with pytest.raises(TypeError, match="`build_fn` must be callable"):
        BuilderHyperModel("build_mlp", {})


@pytest.mark.parametrize(
    "training, error, message",
    [
        ("adam", TypeError, "`training` must be a dict"),
        (
            {"optimizer": "adamax2"},
            ValueError,
            r"`training\['optimizer'\]` must be one of",
        ),
        (
            {"learning_rate": float("nan")},
            ValueError,
            r"`training\['learning_rate'\]`",
        ),
        ({"learning_rate": 0.0}, ValueError, r"`training\['learning_rate'\]`"),
        ({"learning_rate": "x"}, TypeError, r"`training\['learning_rate'\]`"),
        ({"momentum": 1.5}, ValueError, r"`training\['momentum'\]`"),
        ({"weight_decay": -1e-4}, ValueError, r"`training\['weight_decay'\]`"),
        (
            {"learning rate": 0.1},
            ValueError,
            "unknown keys: \\['learning rate'\\]",
        ),
    ],
)
def test_make_optimizer_names_the_bad_value(training, error, message):
    with pytest.raises(error, match=message):
        make_optimizer(training)


def test_make_optimizer_checks_the_default_name():
    with pytest.raises(ValueError, match="`default` must be one of"):
        make_optimizer({}, default="adamax2")
    assert (
        type(make_optimizer({"batch_size": 8}, default="sgd")).__name__ == "SGD"
    )
