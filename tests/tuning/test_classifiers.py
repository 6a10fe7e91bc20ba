"""Two-trial searches of the classifier hypermodels.

The sampled values are the model's.
"""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import PatchEmbedding
from keras_dlparts.layers import ResidualBlock
from keras_dlparts.layers import TransformerEncoderBlock
from keras_dlparts.tuning import LeNet5HyperModel
from keras_dlparts.tuning import MLPHyperModel
from keras_dlparts.tuning import ResNetHyperModel
from keras_dlparts.tuning import TransformerClassifierHyperModel
from keras_dlparts.tuning import VGGHyperModel
from keras_dlparts.tuning import ViTHyperModel

# One training step per epoch. TensorFlow runs one eager step faster than
# it traces one; JAX compiles each eager op on its own, so there one
# compiled step is the faster.
ONE_STEP = {"run_eagerly": keras.backend.backend() == "tensorflow"}


def _images(shape, n=32, classes=10):
    # 32 examples: every sampled batch size (16, 32, 64) gives batches of
    # one shape, so JAX compiles one training step per trial.
    rng = np.random.default_rng(0)
    return rng.random((n,) + shape).astype("float32"), np.arange(n) % classes


def _of_type(model, cls):
    return [layer for layer in model.layers if isinstance(layer, cls)]


def _check_training(values, model):
    """Optimizer kind, learning rate and momentum are the sampled ones."""
    assert type(model.optimizer).__name__.lower() == values["optimizer"]
    assert float(model.optimizer.learning_rate) == pytest.approx(
        values["learning_rate"], rel=1e-6
    )
    if values["optimizer"] in ("sgd", "rmsprop") and "momentum" in values:
        assert model.optimizer.momentum == values["momentum"]
    if values.get("weight_decay"):
        assert model.optimizer.weight_decay == pytest.approx(
            values["weight_decay"]
        )
    assert model.loss == "sparse_categorical_crossentropy"
    assert model.output_shape[-1] == 10


@pytest.mark.slow  # 15-60 s on JAX (compiling), under 10 s on TensorFlow
@pytest.mark.learning
def test_mlp_hypermodel(two_trial_search):
    x, y = _images((8, 8, 1))
    hypermodel = MLPHyperModel((8, 8, 1), 10, compile=ONE_STEP)
    for values, model in two_trial_search(hypermodel, x, y):
        _check_training(values, model)
        dense = [
            layer
            for layer in _of_type(model, keras.layers.Dense)
            if layer.name.startswith("hidden")
        ]
        assert [layer.units for layer in dense] == [values["width"]] * values[
            "depth"
        ]
        l2 = dense[0].kernel_regularizer
        assert (l2.l2 if l2 else 0.0) == pytest.approx(values["l2"])
        assert len(_of_type(model, keras.layers.BatchNormalization)) == (
            values["depth"] if values["batch_norm"] else 0
        )
        rates = {layer.rate for layer in _of_type(model, keras.layers.Dropout)}
        assert rates == ({values["dropout"]} if values["dropout"] else set())


@pytest.mark.slow  # 15-60 s on JAX (compiling), under 10 s on TensorFlow
@pytest.mark.learning
def test_vgg_hypermodel(two_trial_search):
    x, y = _images((8, 8, 1))
    hypermodel = VGGHyperModel((8, 8, 1), 10, compile=ONE_STEP)
    for values, model in two_trial_search(hypermodel, x, y):
        _check_training(values, model)
        convs = _of_type(model, keras.layers.Conv2D)
        assert len(convs) == values["depth"] * values["convolutions"]
        assert convs[0].filters == values["width"]
        assert convs[-1].filters == values["width"] * 2 ** (values["depth"] - 1)
        dense = _of_type(model, keras.layers.Dense)
        assert [d.units for d in dense[:-1]] == [values["dense_units"]] * 2
        norms = _of_type(model, keras.layers.BatchNormalization)
        assert bool(norms) == values["batch_norm"]


@pytest.mark.slow  # 15-60 s on JAX (compiling), under 10 s on TensorFlow
@pytest.mark.learning
def test_resnet_hypermodel(two_trial_search):
    x, y = _images((8, 8, 1))
    hypermodel = ResNetHyperModel((8, 8, 1), 10, compile=ONE_STEP)
    for values, model in two_trial_search(hypermodel, x, y):
        _check_training(values, model)
        blocks = _of_type(model, ResidualBlock)
        assert len(blocks) == values["stages"] * values["blocks"]
        assert {b.get_config()["kind"] for b in blocks} == {values["kind"]}
        assert model.get_layer("stem_conv").filters == values["width"]


@pytest.mark.slow  # 15-60 s on JAX (compiling), under 10 s on TensorFlow
@pytest.mark.learning
def test_lenet5_hypermodel(two_trial_search):
    x, y = _images((16, 16, 1))
    hypermodel = LeNet5HyperModel((16, 16, 1), 10, compile=ONE_STEP)
    for values, model in two_trial_search(hypermodel, x, y):
        _check_training(values, model)
        activation = model.get_layer("c1").activation.__name__
        assert activation == values["activation"]


def _check_encoder_blocks(values, model):
    blocks = _of_type(model, TransformerEncoderBlock)
    assert len(blocks) == values["num_layers"]
    config = blocks[0].get_config()
    assert config["num_heads"] == values["num_heads"]
    assert config["intermediate_dim"] == values["intermediate_dim"]
    assert config["dropout"] == pytest.approx(values["dropout"])
    assert blocks[0].output.shape[-1] == values["embedding_dim"]


@pytest.mark.slow  # 15-60 s on JAX (compiling), under 10 s on TensorFlow
@pytest.mark.learning
def test_transformer_classifier_hypermodel(two_trial_search):
    x, y = _images((8, 8))  # 8 rows of 8 pixels
    hypermodel = TransformerClassifierHyperModel((8, 8), 10, compile=ONE_STEP)
    for values, model in two_trial_search(hypermodel, x, y):
        _check_training(values, model)
        _check_encoder_blocks(values, model)


@pytest.mark.slow  # 15-60 s on JAX (compiling), under 10 s on TensorFlow
@pytest.mark.learning
def test_vit_hypermodel(two_trial_search):
    x, y = _images((8, 8, 1))
    hypermodel = ViTHyperModel((8, 8, 1), 10, compile=ONE_STEP)
    assert hypermodel.search_space["patch_size"].values == [2, 4]
    for values, model in two_trial_search(hypermodel, x, y):
        _check_training(values, model)
        _check_encoder_blocks(values, model)
        (patches,) = _of_type(model, PatchEmbedding)
        assert patches.get_config()["patch_size"] in (
            values["patch_size"],
            (values["patch_size"],) * 2,
        )


def test_search_space_overrides_reach_the_model():
    import keras_tuner

    hypermodel = MLPHyperModel(
        64, 10, search_space={"depth": 3, "width": 8, "batch_norm": None}
    )
    assert "batch_norm" not in hypermodel.search_space
    model = hypermodel.build(keras_tuner.HyperParameters())
    assert [model.get_layer(f"hidden_{i}").units for i in range(3)] == [8, 8, 8]
    with pytest.raises(
        ValueError, match=r"`search_space\['depth'\]` must be a finite"
    ):
        MLPHyperModel(64, 10, search_space={"depth": float("nan")})


@pytest.mark.parametrize(
    "make, error, argument",
    [
        (lambda: MLPHyperModel(64, 0), ValueError, "num_classes"),
        (lambda: MLPHyperModel(64, 2.5), TypeError, "num_classes"),
        (lambda: MLPHyperModel((0,), 10), ValueError, "input_shape"),
        (lambda: MLPHyperModel(None, 10), TypeError, "input_shape"),
        (
            lambda: MLPHyperModel(64, 10, search_space="depth"),
            TypeError,
            "search_space",
        ),
        (lambda: MLPHyperModel(64, 10, fixed=3), TypeError, "fixed"),
        (lambda: MLPHyperModel(64, 10, compile="mse"), TypeError, "compile"),
        (lambda: MLPHyperModel(64, 10, name=3), TypeError, "name"),
        (lambda: LeNet5HyperModel((8, 8, 1), 10), ValueError, "image_shape"),
        (lambda: VGGHyperModel((8, 8), 10), ValueError, "image_shape"),
        (lambda: ResNetHyperModel("x", 10), TypeError, "image_shape"),
        (
            lambda: TransformerClassifierHyperModel((8,), -1),
            ValueError,
            "num_classes",
        ),
        (lambda: ViTHyperModel((8, 8, 0), 10), ValueError, "image_shape"),
    ],
)
def test_bad_arguments_name_themselves(make, error, argument):
    with pytest.raises(error, match=f"`{argument}`"):
        make()
