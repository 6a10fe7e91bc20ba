"""Ready hypermodels for the classifier builders: MLP, CNNs, transformer, ViT.

Each one is a `BuilderHyperModel` over a `keras_dlparts.models` builder with
a default search space over the usual hyperparameters: depth,
width, dropout, L2 strength (the builder's `l2` where it has one, else the
optimizer's `weight_decay`), optimizer, learning rate, momentum and batch
size. `search_space=` updates the defaults key by key (a value of `None`
drops a key, a plain value fixes it); `fixed=` and `compile=` add builder
and `compile()` arguments. The models end in a softmax and compile with
`sparse_categorical_crossentropy` and accuracy.
"""

import math

from keras_dlparts import _validation
from keras_dlparts.models import build_lenet5
from keras_dlparts.models import build_mlp
from keras_dlparts.models import build_resnet
from keras_dlparts.models import build_transformer_classifier
from keras_dlparts.models import build_vgg
from keras_dlparts.models import build_vit
from keras_dlparts.tuning.hypermodel import BuilderHyperModel
from keras_dlparts.tuning.hypermodel import checked_options
from keras_dlparts.tuning.search_space import Boolean
from keras_dlparts.tuning.search_space import Choice
from keras_dlparts.tuning.search_space import Float
from keras_dlparts.tuning.search_space import Int
from keras_dlparts.tuning.search_space import merge_search_space


def training_search_space():
    """The default training ranges: optimizer, learning rate, momentum, ...

    Examples:

        >>> sorted(training_search_space())
        ['batch_size', 'learning_rate', 'momentum', 'optimizer', 'weight_decay']
    """
    return {
        "optimizer": Choice(["adam", "sgd", "rmsprop"]),
        "learning_rate": Float(1e-4, 1e-2, sampling="log", default=1e-3),
        "momentum": Choice([0.0, 0.9]),
        "weight_decay": Choice([0.0, 1e-4, 1e-3]),
        "batch_size": Choice([16, 32, 64]),
    }


CLASSIFIER_COMPILE = {
    "loss": "sparse_categorical_crossentropy",
    "metrics": ["accuracy"],
}


class _ClassifierHyperModel(BuilderHyperModel):
    """Merges a builder's default space, fixed and compile arguments."""

    def __init__(
        self, build_fn, defaults, fixed, search_space, compile, transform, name
    ):
        super().__init__(
            build_fn,
            merge_search_space(
                merge_search_space(training_search_space(), defaults),
                search_space,
            ),
            fixed=fixed,
            compile={**CLASSIFIER_COMPILE, **compile},
            transform=transform,
            name=name,
        )


def _int_range(low, high, **kwargs):
    """`Int(low, high)`, or the constant where the range has one value."""
    return Int(low, high, **kwargs) if high > low else low


def _hidden_units(values):
    values["hidden_units"] = (values.pop("width"),) * values.pop("depth")
    return values


def _vgg_blocks(values):
    width, convolutions = values.pop("width"), values.pop("convolutions")
    values["blocks"] = tuple(
        (width * 2**i, convolutions) for i in range(values.pop("depth"))
    )
    return values


def _resnet_stages(values):
    values["blocks_per_stage"] = (values.pop("blocks"),) * values.pop("stages")
    return values


class MLPHyperModel(_ClassifierHyperModel):
    """Hypermodel of `build_mlp` classifiers.

    Searches `depth` (hidden layers) and `width` (units per layer), giving
    `hidden_units=(width,) * depth`, `dropout`, `l2` and `batch_norm`, plus
    the training ranges (the builder's `l2` replaces `weight_decay`).

    Args:
        input_shape: the input dimension or shape (flattened by the model).
        num_classes: the number of classes.
        search_space: optional updates of the default ranges.
        fixed: optional further `build_mlp` arguments.
        compile: optional further `compile()` arguments.
        name: optional name of the hypermodel.

    Examples:

        >>> import keras_tuner
        >>> space = {"depth": 2, "width": 8}
        >>> hypermodel = MLPHyperModel(64, 10, search_space=space)
        >>> model = hypermodel.build(keras_tuner.HyperParameters())
        >>> [model.get_layer(f"hidden_{i}").units for i in range(2)]
        [8, 8]
    """

    def __init__(
        self,
        input_shape,
        num_classes,
        search_space=None,
        fixed=None,
        compile=None,
        name=None,
    ):
        # Checked now, not when a trial first builds the model.
        _validation.positive_ints("input_shape", input_shape)
        num_classes = _validation.positive_int("num_classes", num_classes)
        search_space, fixed, compile = checked_options(
            search_space, fixed, compile
        )
        defaults = {
            "depth": Int(1, 3),
            "width": Int(16, 128, step=16),
            "dropout": Float(0.0, 0.5, step=0.1),
            "l2": Choice([0.0, 1e-4, 1e-3]),
            "batch_norm": Boolean(),
            "weight_decay": None,
        }
        fixed = {
            "input_shape": input_shape,
            "num_outputs": num_classes,
            "output_activation": "softmax",
            **fixed,
        }
        super().__init__(
            build_mlp,
            defaults,
            fixed,
            search_space,
            compile,
            _hidden_units,
            name,
        )


class LeNet5HyperModel(_ClassifierHyperModel):
    """Hypermodel of `build_lenet5` (inputs of at least 16x16).

    LeNet-5's layers are fixed by design; the search covers its hidden
    `activation` (tanh as in 1998, or relu) and the training ranges.

    Args:
        image_shape: `(height, width, channels)`.
        num_classes: the number of classes.
        search_space, fixed, compile, name: as in `MLPHyperModel`.
    """

    def __init__(
        self,
        image_shape,
        num_classes,
        search_space=None,
        fixed=None,
        compile=None,
        name=None,
    ):
        # Checked now, not when a trial first builds the model.
        image_shape = _validation.image_shape(image_shape)
        if min(image_shape[:2]) < 16:
            raise ValueError(
                "Argument `image_shape` must be at least 16x16 for LeNet-5. "
                f"Received: image_shape={image_shape}"
            )
        num_classes = _validation.positive_int("num_classes", num_classes)
        search_space, fixed, compile = checked_options(
            search_space, fixed, compile
        )
        defaults = {"activation": Choice(["tanh", "relu"])}
        fixed = {
            "image_shape": image_shape,
            "num_classes": num_classes,
            **fixed,
        }
        super().__init__(
            build_lenet5, defaults, fixed, search_space, compile, None, name
        )


class VGGHyperModel(_ClassifierHyperModel):
    """Hypermodel of small `build_vgg` networks.

    Searches `depth` (convolution blocks, at most as many as the image
    side allows halvings, and 3), `width` (filters of the first block,
    doubled per block), `convolutions` per block, `dense_units`,
    `dropout` and `batch_norm`, plus the training ranges.

    Args:
        image_shape: `(height, width, channels)`.
        num_classes: the number of classes.
        search_space, fixed, compile, name: as in `MLPHyperModel`.

    Examples:

        >>> import keras_tuner
        >>> hypermodel = VGGHyperModel((8, 8, 1), 10)
        >>> hp = keras_tuner.HyperParameters()
        >>> hypermodel.build(hp).output_shape, hp.get("depth")
        ((None, 10), 1)
    """

    def __init__(
        self,
        image_shape,
        num_classes,
        search_space=None,
        fixed=None,
        compile=None,
        name=None,
    ):
        # Checked now, not when a trial first builds the model.
        image_shape = _validation.image_shape(image_shape)
        num_classes = _validation.positive_int("num_classes", num_classes)
        search_space, fixed, compile = checked_options(
            search_space, fixed, compile
        )
        halvings = int(math.log2(max(1, min(image_shape[:2]))))
        defaults = {
            "depth": _int_range(1, min(3, halvings)),
            "width": Choice([8, 16, 32]),
            "convolutions": Int(1, 2),
            "dense_units": Choice([32, 64, 128]),
            "dropout": Float(0.0, 0.5, step=0.1),
            "batch_norm": Boolean(),
        }
        fixed = {
            "image_shape": image_shape,
            "num_classes": num_classes,
            "name": "vgg",
            **fixed,
        }
        super().__init__(
            build_vgg, defaults, fixed, search_space, compile, _vgg_blocks, name
        )


class ResNetHyperModel(_ClassifierHyperModel):
    """Hypermodel of small `build_resnet` networks.

    Searches `stages`, `blocks` per stage (giving `blocks_per_stage=
    (blocks,) * stages`), `width` (filters of the stem and first stage)
    and the block `kind` ("basic" or "bottleneck"), plus the training
    ranges.

    Args:
        image_shape: `(height, width, channels)`.
        num_classes: the number of classes.
        search_space, fixed, compile, name: as in `MLPHyperModel`.
    """

    def __init__(
        self,
        image_shape,
        num_classes,
        search_space=None,
        fixed=None,
        compile=None,
        name=None,
    ):
        # Checked now, not when a trial first builds the model.
        image_shape = _validation.image_shape(image_shape)
        num_classes = _validation.positive_int("num_classes", num_classes)
        search_space, fixed, compile = checked_options(
            search_space, fixed, compile
        )
        defaults = {
            "stages": Int(1, 3),
            "blocks": Int(1, 2),
            "width": Choice([8, 16, 32]),
            "kind": Choice(["basic", "bottleneck"]),
        }
        fixed = {
            "image_shape": image_shape,
            "num_classes": num_classes,
            "name": "resnet",
            **fixed,
        }
        super().__init__(
            build_resnet,
            defaults,
            fixed,
            search_space,
            compile,
            _resnet_stages,
            name,
        )


def _transformer_space():
    return {
        "embedding_dim": Choice([16, 32, 64]),
        "num_heads": Choice([1, 2, 4]),  # every choice divides every width
        "intermediate_dim": Choice([32, 64, 128]),
        "num_layers": Int(1, 3),
        "dropout": Float(0.0, 0.3, step=0.1),
        "optimizer": Choice(["adam", "adamw", "rmsprop"]),
        "learning_rate": Float(1e-4, 3e-3, sampling="log", default=1e-3),
    }


class TransformerClassifierHyperModel(_ClassifierHyperModel):
    """Hypermodel of `build_transformer_classifier`.

    Searches `embedding_dim`, `num_heads`, `intermediate_dim`,
    `num_layers`, `dropout` and the `position` encoding, plus the training
    ranges.

    Args:
        input_shape: shape of one sequence (see the builder).
        num_classes: the number of classes.
        search_space, fixed, compile, name: as in `MLPHyperModel`
            (`fixed={"vocabulary_size": ...}` for token ids).
    """

    def __init__(
        self,
        input_shape,
        num_classes,
        search_space=None,
        fixed=None,
        compile=None,
        name=None,
    ):
        # Checked now, not when a trial first builds the model.
        _validation.positive_ints("input_shape", input_shape)
        num_classes = _validation.positive_int("num_classes", num_classes)
        search_space, fixed, compile = checked_options(
            search_space, fixed, compile
        )
        defaults = {
            **_transformer_space(),
            "position": Choice(["learned", "sinusoidal"]),
        }
        fixed = {
            "input_shape": input_shape,
            "num_classes": num_classes,
            **fixed,
        }
        super().__init__(
            build_transformer_classifier,
            defaults,
            fixed,
            search_space,
            compile,
            None,
            name,
        )


class ViTHyperModel(_ClassifierHyperModel):
    """Hypermodel of `build_vit`.

    Searches the `patch_size` (the divisors of the image sides that leave
    at least two patches a side), `embedding_dim`, `num_heads`,
    `intermediate_dim`, `num_layers` and `dropout`, plus the training
    ranges.

    Args:
        image_shape: `(height, width, channels)`.
        num_classes: the number of classes.
        search_space, fixed, compile, name: as in `MLPHyperModel`.
    """

    def __init__(
        self,
        image_shape,
        num_classes,
        search_space=None,
        fixed=None,
        compile=None,
        name=None,
    ):
        # Checked now, not when a trial first builds the model.
        image_shape = _validation.image_shape(image_shape, "image_shape")
        num_classes = _validation.positive_int("num_classes", num_classes)
        search_space, fixed, compile = checked_options(
            search_space, fixed, compile
        )
        side = math.gcd(*image_shape[:2])
        sizes = [p for p in range(2, side // 2 + 1) if side % p == 0] or [side]
        defaults = {**_transformer_space(), "patch_size": Choice(sizes)}
        fixed = {
            "image_shape": image_shape,
            "num_classes": num_classes,
            **fixed,
        }
        super().__init__(
            build_vit, defaults, fixed, search_space, compile, None, name
        )
