"""Fuzz table: the model builders of keras_dlparts.models (tiny shapes)."""

import functools

import keras
import numpy as np
from fuzz.cases import ACTIVATION
from fuzz.cases import BOOLEAN
from fuzz.cases import CHOICE
from fuzz.cases import FRACTION
from fuzz.cases import INF
from fuzz.cases import MODEL
from fuzz.cases import NAN
from fuzz.cases import NON_NEGATIVE_NUMBER
from fuzz.cases import OPTIONAL_POSITIVE_INT
from fuzz.cases import POSITIVE_INT
from fuzz.cases import POSITIVE_NUMBER
from fuzz.cases import RATE
from fuzz.cases import SHAPE
from fuzz.cases import Entry
from fuzz.cases import fresh

from keras_dlparts import models

#: Bad values for a non-empty sequence of positive integers (`filters`).
INTS = ((0,), (2, -1), (2.5,), (True,), (), "x", None, 1.5)
#: Bad values for a possibly empty sequence of positive integers.
INTS_OR_EMPTY = tuple(v for v in INTS if v != ())
#: Bad values for a (features,) or (h, w, c) shape where any rank works.
ANY_RANK_SHAPE = tuple(v for v in SHAPE if v != (4, 4))
#: Bad choices where `None` picks a default.
OPTIONAL_CHOICE = tuple(v for v in CHOICE if v is not None)

_TRANSFORMER = {"embedding_dim": 4, "num_heads": 1, "intermediate_dim": 4}


def _positive_ints(*names):
    return {name: POSITIVE_INT for name in names}


@functools.lru_cache(maxsize=None)
def _seq2seq():
    # Built once: greedy_decode does not change the model.
    return models.build_seq2seq_transformer(
        5, 5, 3, 3, num_encoder_layers=1, num_decoder_layers=1, **_TRANSFORMER
    )


def _mesh():
    return keras.distribution.DeviceMesh((1, 1), ["batch", "model"], ["cpu:0"])


# Five 8x8 "digits" in [0, 1] for the judge's features and FD-digits.
_DIGITS = np.random.default_rng(0).random((5, 8, 8, 1)).astype("float32")
_LABELS = np.array([0, 0, 1, 1, 1], "int32")

TABLE = {
    "models.build_autoencoder": Entry(
        models.build_autoencoder,
        args={"input_shape": (4,), "latent_dim": 2, "hidden_units": (4,)},
        bad={
            "input_shape": ANY_RANK_SHAPE,
            "latent_dim": POSITIVE_INT,
            "kind": CHOICE,
            "upsampling": CHOICE,
            "denoising": FRACTION + (INF,),
            "hidden_units": INTS,
            "filters": INTS,
            "activation": ACTIVATION,
            "output_activation": ACTIVATION,
            "batch_norm_momentum": FRACTION,
        },
    ),
    "models.build_dcgan_generator": Entry(
        models.build_dcgan_generator,
        args={"latent_dim": 4, "image_shape": (4, 4, 1), "filters": (2,)},
        bad={
            "latent_dim": POSITIVE_INT,
            "image_shape": SHAPE + ((5, 5, 1),),
            "filters": INTS,
            "num_classes": OPTIONAL_POSITIVE_INT + (1,),
            "output_activation": ACTIVATION,
        },
    ),
    "models.build_dcgan_discriminator": Entry(
        models.build_dcgan_discriminator,
        args={"image_shape": (4, 4, 1), "filters": (2,)},
        bad={
            "image_shape": SHAPE + ((5, 5, 1),),
            "filters": INTS,
            "num_classes": OPTIONAL_POSITIVE_INT + (1,),
            "dropout": RATE,
            "spectral_norm": BOOLEAN,
            "minibatch_std": OPTIONAL_POSITIVE_INT,
        },
    ),
    "models.build_srgan_generator": Entry(
        models.build_srgan_generator,
        args={
            "scale": 2,
            "channels": 1,
            "filters": 2,
            "num_residual_blocks": 1,
        },
        bad={
            "scale": POSITIVE_INT + (1, 3),  # a power of two >= 2
            "channels": POSITIVE_INT,
            "filters": POSITIVE_INT,
            "num_residual_blocks": POSITIVE_INT,
            "output_activation": ACTIVATION,
        },
    ),
    "models.build_srgan_discriminator": Entry(
        models.build_srgan_discriminator,
        args={"image_shape": (4, 4, 1), "filters": (2,), "dense_units": 2},
        bad={
            "image_shape": SHAPE + ((5, 5, 1),),
            "filters": INTS,
            "dense_units": POSITIVE_INT,
        },
    ),
    "models.build_densenet": Entry(
        models.build_densenet,
        args={
            "image_shape": (8, 8, 1),
            "num_classes": 2,
            "blocks": (1, 1),
            "growth_rate": 2,
        },
        bad={
            "image_shape": SHAPE,
            "num_classes": POSITIVE_INT,
            "blocks": INTS,
            "growth_rate": POSITIVE_INT,
            "compression": (0, -0.5, 1.5, NAN, INF, "x", None),
            "bottleneck": BOOLEAN,
            "stem_filters": OPTIONAL_POSITIVE_INT,
            "dropout": RATE,
            "classifier_activation": ACTIVATION,
        },
        note="`depth` is ignored where `blocks` is given: see "
        "tests/models/test_builder_arguments.py",
    ),
    "models.build_diffusion_unet": Entry(
        models.build_diffusion_unet,
        args={
            "image_shape": (4, 4, 1),
            "base_filters": 4,
            "channel_multipliers": (1,),
            "attention_resolutions": (),
            "groups": 2,
        },
        bad={
            "image_shape": SHAPE,
            "base_filters": POSITIVE_INT,
            "channel_multipliers": INTS,
            "num_res_blocks": POSITIVE_INT,
            "attention_resolutions": INTS_OR_EMPTY,
            "num_classes": OPTIONAL_POSITIVE_INT,
            "num_heads": POSITIVE_INT + (8,),
            "groups": POSITIVE_INT + (3,),
            "memory_efficient": BOOLEAN,
            "dropout": RATE,
            # None: no context; context_mask needs a context_shape.
            "context_shape": ((0, 4), (-1, 4), (4,), (2, 4, 1), "x", 5.5),
            "context_mask": BOOLEAN,
        },
    ),
    "models.build_lenet5": Entry(
        models.build_lenet5,
        args={"image_shape": (16, 16, 1), "num_classes": 2},
        bad={
            "image_shape": SHAPE + ((8, 8, 1),),
            "num_classes": POSITIVE_INT,
            "activation": ACTIVATION,
            "classifier_activation": ACTIVATION,
        },
    ),
    "models.build_vgg": Entry(
        models.build_vgg,
        args={
            "image_shape": (4, 4, 1),
            "num_classes": 2,
            "blocks": ((2, 1),),
            "dense_units": 4,
        },
        bad={
            "blocks": (((0, 1),), ((2, 0),), ((2,),), ((2.5, 1),), (), "x", 3),
            "image_shape": SHAPE,
            "num_classes": POSITIVE_INT,
            "dense_units": POSITIVE_INT,
            "dropout": RATE,
            "batch_norm": BOOLEAN,
            "classifier_activation": ACTIVATION,
        },
        note="`depth` is ignored where `blocks` is given: see "
        "tests/models/test_builder_arguments.py",
    ),
    "models.build_lstm_language_model": Entry(
        models.build_lstm_language_model,
        args={"vocabulary_size": 5, "embedding_dim": 2, "units": 2},
        bad={
            **_positive_ints(
                "vocabulary_size", "embedding_dim", "units", "num_layers"
            ),
            "sequence_length": OPTIONAL_POSITIVE_INT,
            "dropout": RATE,
            "recurrent_dropout": RATE,
            "layer_norm": BOOLEAN,
            "peephole": BOOLEAN,
        },
    ),
    "models.build_mlp": Entry(
        models.build_mlp,
        args={"input_shape": 2, "hidden_units": (2,)},
        bad={
            "input_shape": (0, -1, True, (0,), (2, -1), "x", None, 1.5),
            "hidden_units": INTS_OR_EMPTY,
            "num_outputs": POSITIVE_INT,
            "activation": ACTIVATION,
            "output_activation": ACTIVATION,
            "dropout": RATE,
            "l2": NON_NEGATIVE_NUMBER,
            "batch_norm": BOOLEAN,
            "kernel_initializer": ("no-such-choice", "", 3),
        },
    ),
    "models.build_q_network": Entry(
        models.build_q_network,
        args={"num_states": 3, "num_actions": 2},
        bad={
            **_positive_ints("num_states", "num_actions"),
            "hidden_units": INTS_OR_EMPTY,
            "activation": ACTIVATION,
            "use_bias": BOOLEAN,
        },
    ),
    "models.build_rbf_network": Entry(
        models.build_rbf_network,
        args={"input_shape": 2, "num_centers": 2},
        bad={
            "input_shape": (0, (2, 2), (0,), "x", None, 1.5),
            "num_centers": POSITIVE_INT,
            "num_outputs": POSITIVE_INT,
            "gamma": POSITIVE_NUMBER,
            "centers": (
                np.zeros((3, 2)),  # (num_centers, features) is (2, 2)
                [[NAN, 0.0], [0.0, 0.0]],
                [[0.0], [0.0, 1.0]],
                "x",
            ),
            "output_activation": ACTIVATION,
            "trainable_centers": BOOLEAN,
            "trainable_gamma": BOOLEAN,
        },
    ),
    "models.build_resnet": Entry(
        models.build_resnet,
        args={
            "image_shape": (8, 8, 1),
            "num_classes": 2,
            "width": 2,
            "blocks_per_stage": (1,),
            "kind": "basic",
        },
        bad={
            "blocks_per_stage": tuple(v for v in INTS if v is not None),
            "kind": OPTIONAL_CHOICE,
            "image_shape": SHAPE,
            "num_classes": POSITIVE_INT,
            "width": POSITIVE_INT,
            "classifier_activation": ACTIVATION,
            "use_bias": BOOLEAN,
        },
        note="`depth` is ignored where `blocks_per_stage` and `kind` are "
        "given: see tests/models/test_builder_arguments.py",
    ),
    "models.build_seq2seq_transformer": Entry(
        models.build_seq2seq_transformer,
        args={
            "source_vocabulary_size": 5,
            "target_vocabulary_size": 5,
            "source_length": 3,
            "target_length": 3,
            "num_encoder_layers": 1,
            "num_decoder_layers": 1,
            **_TRANSFORMER,
        },
        bad={
            **_positive_ints(
                "source_vocabulary_size",
                "target_vocabulary_size",
                "source_length",
                "target_length",
                "embedding_dim",
                "num_heads",
                "intermediate_dim",
                "num_encoder_layers",
                "num_decoder_layers",
            ),
            "dropout": RATE,
            "norm_first": BOOLEAN,
            "score": CHOICE,
            "memory_efficient": BOOLEAN,
        },
    ),
    "models.greedy_decode": Entry(
        models.greedy_decode,
        args={
            "model": fresh(_seq2seq),
            "source_ids": np.array([[3, 4, 0], [2, 3, 4]], "int32"),
            "start_id": 1,
            "end_id": 2,
            "max_length": 3,
        },
        tensors=("source_ids",),
        bad={
            "model": MODEL,
            "start_id": (-1, 1.5, True, "x", None, 5),
            "end_id": (-1, 1.5, True, "x", None, 5),
            "max_length": POSITIVE_INT + (4,),
        },
        bad_calls=[
            (
                "source_ids",
                {"source_ids": np.array([[3, 5]])},
            ),  # id >= vocabulary
            ("source_ids", {"source_ids": np.array([[3, -1]])}),
            (
                "source_ids",
                {"source_ids": np.ones((1, 4), "int32")},
            ),  # too long
            ("source_ids", {"source_ids": np.zeros((1, 0), "int32")}),
            ("source_ids", {"source_ids": np.array([[3.5, 1.0]])}),
            ("source_ids", {"source_ids": np.array([["a", "b"]])}),
        ],
    ),
    "models.build_timeseries_cnn": Entry(
        models.build_timeseries_cnn,
        args={"window": 4, "filters": (2,), "dense_units": 2},
        bad={
            **_positive_ints(
                "window",
                "num_features",
                "horizon",
                "kernel_size",
                "dense_units",
            ),
            "filters": INTS,
        },
    ),
    "models.build_transformer_classifier": Entry(
        models.build_transformer_classifier,
        args={
            "input_shape": (3, 2),
            "num_classes": 2,
            "num_layers": 1,
            **_TRANSFORMER,
        },
        bad={
            "input_shape": ((0, 2), (3, -1), (3,), (3, 2.5), "x", None, 1.5),
            "vocabulary_size": OPTIONAL_POSITIVE_INT,
            **_positive_ints(
                "num_classes", "embedding_dim", "intermediate_dim", "num_layers"
            ),
            "num_heads": POSITIVE_INT + (3,),
            "dropout": RATE,
            "position": CHOICE,
            "pooling": CHOICE,
            "norm_first": BOOLEAN,
            "score": CHOICE,
            "mask_zero": BOOLEAN,
            "memory_efficient": BOOLEAN,
        },
    ),
    "models.build_unet": Entry(
        models.build_unet,
        args={"image_shape": (4, 4, 1), "filters": (2,)},
        bad={
            "image_shape": SHAPE + ((3, 3, 1),),
            "num_classes": POSITIVE_INT,
            "filters": INTS,
            "bottleneck_filters": OPTIONAL_POSITIVE_INT,
            "batch_norm": BOOLEAN,
            "upsampling": CHOICE,
            "dropout": RATE,
            "output_activation": ACTIVATION,
        },
    ),
    "models.build_vit": Entry(
        models.build_vit,
        args={
            "image_shape": (4, 4, 1),
            "patch_size": 2,
            "num_classes": 2,
            "num_layers": 1,
            **_TRANSFORMER,
        },
        bad={
            "image_shape": SHAPE,
            "patch_size": POSITIVE_INT + ((2,), (2, 0), 3),
            **_positive_ints(
                "num_classes", "embedding_dim", "intermediate_dim", "num_layers"
            ),
            "num_heads": POSITIVE_INT + (3,),
            "dropout": RATE,
            "activation": ACTIVATION,
            "score": CHOICE,
            "memory_efficient": BOOLEAN,
        },
    ),
    "models.transformer_layout_map": Entry(
        models.transformer_layout_map,
        args={"device_mesh": fresh(_mesh), "model_axis": "model"},
        bad={"device_mesh": MODEL + (["cpu:0"],), "model_axis": CHOICE},
    ),
    "models.digits_judge": Entry(
        models.digits_judge, note="no arguments: the trained judge itself"
    ),
    "models.digits_features": Entry(
        models.digits_features,
        args={"images": _DIGITS[:3]},
        tensors=("images",),
        bad_calls=[("images", {"images": _DIGITS[:3, :7]})],
    ),
    "models.fd_digits": Entry(
        models.fd_digits,
        args={"images_a": _DIGITS[:3], "images_b": _DIGITS[3:]},
        tensors=("images_a", "images_b"),
        batch_free=("images_a", "images_b"),  # set sizes may differ
        bad_calls=[
            ("images_b", {"images_b": _DIGITS[3:4]}),
            ("images_b", {"images_b": _DIGITS[3:] + 1.5}),
        ],
    ),
    "models.per_class_fd_digits": Entry(
        models.per_class_fd_digits,
        args={
            "images": _DIGITS,
            "labels": _LABELS,
            "reference_images": _DIGITS[::-1],
            "reference_labels": _LABELS,
        },
        tensors=("images", "labels", "reference_images", "reference_labels"),
        batch_free=("reference_images", "reference_labels"),
        bad_calls=[
            ("labels", {"labels": np.array([0, 0, 0, 0, 1])}),
            ("reference_labels", {"reference_labels": _LABELS + 0.5}),
            ("images", {"images": _DIGITS - 1.0}),
        ],
    ),
    "models.mean_pairwise_distance": Entry(
        models.mean_pairwise_distance,
        args={"images": _DIGITS, "labels": _LABELS},
        tensors=("images", "labels"),
        bad_calls=[
            ("labels", {"labels": np.array([0, 0, 0, 0, 1])}),
            ("labels", {"labels": _LABELS + 0.5}),
            ("images", {"images": _DIGITS + 1.5}),
        ],
    ),
}
