"""The model builders check their arguments first, naming their own.

The fuzz table (`tests/fuzz/table_models_builders.py`) tries every argument
with the usual bad values; these are the cases it does not reach (arguments
read only in some configurations) and the regressions of issue 11.
"""

import math

import numpy as np
import pytest

from keras_dlparts import models

NAN = math.nan


def _refuses(error, argument, build):
    """`build()` raises `error` naming `argument` (and no Keras layer's)."""
    with pytest.raises(error, match=rf"`{argument}`") as info:
        build()
    return str(info.value)


# ------------------------------------------- issue 11: the wrong argument


def test_autoencoder_denoising_is_named_not_stddev():
    message = _refuses(
        ValueError,
        "denoising",
        lambda: models.build_autoencoder((4,), 2, denoising=1.5),
    )
    assert "stddev" not in message
    assert r"[0, 1]" in message


def test_rbf_network_num_centers_is_named_not_units():
    message = _refuses(
        ValueError, "num_centers", lambda: models.build_rbf_network(2, 0)
    )
    assert "`units`" not in message


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: models.build_mlp(2, activation="relux"), "activation"),
        (
            lambda: models.build_mlp(2, kernel_initializer="nope"),
            "kernel_initializer",
        ),
        (
            lambda: models.build_lenet5(classifier_activation="x"),
            "classifier_activation",
        ),
        (
            lambda: models.build_unet(
                (4, 4, 1), filters=(2,), output_activation="x"
            ),
            "output_activation",
        ),
        (
            lambda: models.build_dcgan_generator(
                2, (4, 4, 1), (2,), output_activation=3
            ),
            "output_activation",
        ),
        (
            lambda: models.build_vit((4, 4, 1), 2, 2, activation="x"),
            "activation",
        ),
        (
            lambda: models.build_diffusion_unet(
                (4, 4, 1),
                base_filters=4,
                channel_multipliers=(1,),
                groups=2,
                num_heads=8,
            ),
            "num_heads",
        ),
    ],
)
def test_arguments_passed_to_keras_layers_are_named(build, argument):
    # Keras would name its own argument (`identifier`, `key_dim`, ...).
    _refuses(ValueError, argument, build)


# ---------------------------------------- NaN, inf and wrong types


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: models.build_mlp(2, l2=NAN), "l2"),
        (lambda: models.build_rbf_network(2, 2, gamma=NAN), "gamma"),
        (
            lambda: models.build_rbf_network(2, 2, centers=[[NAN, 0], [0, 0]]),
            "centers",
        ),
        (
            lambda: models.build_autoencoder((4,), 2, batch_norm_momentum=NAN),
            "batch_norm_momentum",
        ),
        (
            lambda: models.build_autoencoder((4,), 2, denoising=math.inf),
            "denoising",
        ),
        (
            lambda: models.build_densenet(blocks=(1,), compression=NAN),
            "compression",
        ),
        (
            lambda: models.build_diffusion_unet((4, 4, 1), dropout=NAN),
            "dropout",
        ),
    ],
)
def test_nan_and_inf_are_refused(build, argument):
    _refuses(ValueError, argument, build)


@pytest.mark.parametrize(
    "build, argument",
    [
        (lambda: models.build_mlp(2, dropout="x"), "dropout"),
        (lambda: models.build_mlp(2, batch_norm=1), "batch_norm"),
        (lambda: models.build_diffusion_unet(None), "image_shape"),
        (lambda: models.build_transformer_classifier(None, 2), "input_shape"),
        (
            lambda: models.build_q_network(3, 2, hidden_units="x"),
            "hidden_units",
        ),
        (lambda: models.build_autoencoder((4,), "2"), "latent_dim"),
    ],
)
def test_wrong_types_are_type_errors(build, argument):
    _refuses(TypeError, argument, build)


# ---------------------------- zero no longer falls back to the default


@pytest.mark.parametrize(
    "build, argument",
    [
        (
            lambda: models.build_densenet(blocks=(1,), stem_filters=0),
            "stem_filters",
        ),
        (
            lambda: models.build_unet(
                (4, 4, 1), filters=(2,), bottleneck_filters=0
            ),
            "bottleneck_filters",
        ),
        (lambda: models.build_vgg(blocks=()), "blocks"),
        (
            lambda: models.build_resnet(blocks_per_stage=(), kind="basic"),
            "blocks_per_stage",
        ),
        (lambda: models.build_resnet(blocks_per_stage=(1,), kind=""), "kind"),
        (
            lambda: models.build_q_network(3, 2, hidden_units=(True,)),
            "hidden_units",
        ),
    ],
)
def test_falsy_values_are_refused_not_replaced_by_defaults(build, argument):
    _refuses(ValueError, argument, build)


@pytest.mark.parametrize(
    "build",
    [
        lambda depth: models.build_vgg(depth),
        lambda depth: models.build_densenet(depth),
        lambda depth: models.build_resnet(depth),
    ],
)
@pytest.mark.parametrize(
    "depth, error",
    [
        (12, ValueError),
        (0, ValueError),
        ("16", TypeError),
        (16.0, TypeError),
        (None, TypeError),
    ],
)
def test_depth_is_checked_where_it_chooses_the_blocks(build, depth, error):
    _refuses(error, "depth", lambda: build(depth))


@pytest.mark.parametrize("size, fits", [(28, False), (29, True)])
@pytest.mark.slow
def test_densenet_input_must_survive_its_transitions(size, fits):
    # Four blocks: the stem divides by 4 and three transitions by 8.
    build = lambda: models.build_densenet(  # noqa: E731
        image_shape=(size, size, 1),
        num_classes=2,
        blocks=(1, 1, 1, 1),
        growth_rate=2,
    )
    if fits:
        assert build().output_shape == (None, 2)
    else:
        _refuses(ValueError, "image_shape", build)


# ----------------------------------------------------------- greedy_decode


@pytest.fixture(scope="module")
def seq2seq():
    return models.build_seq2seq_transformer(
        5,
        6,
        3,
        4,
        embedding_dim=4,
        num_heads=1,
        intermediate_dim=4,
        num_encoder_layers=1,
        num_decoder_layers=1,
    )


SOURCE = np.array([[3, 4, 0], [2, 3, 4]], "int32")


@pytest.mark.parametrize(
    "change, error, argument",
    [
        ({"model": None}, TypeError, "model"),
        ({"source_ids": SOURCE[0]}, ValueError, "source_ids"),  # no batch axis
        ({"source_ids": SOURCE[None]}, ValueError, "source_ids"),
        ({"source_ids": SOURCE[:0]}, ValueError, "source_ids"),  # empty batch
        ({"source_ids": SOURCE[:, :0]}, ValueError, "source_ids"),
        ({"source_ids": np.ones((1, 4), "int32")}, ValueError, "source_ids"),
        ({"source_ids": [[3, 5]]}, ValueError, "source_ids"),  # >= vocabulary
        ({"source_ids": [[3, -1]]}, ValueError, "source_ids"),
        # A float that is no whole number is a wrong value, as in class_labels.
        ({"source_ids": [[3.5, 1.0]]}, ValueError, "source_ids"),
        ({"source_ids": [["a"]]}, TypeError, "source_ids"),
        ({"max_length": 0}, ValueError, "max_length"),
        ({"max_length": 5}, ValueError, "max_length"),  # > target_length 4
        ({"max_length": 2.0}, TypeError, "max_length"),
        ({"start_id": 6}, ValueError, "start_id"),  # >= target vocabulary
        ({"end_id": -1}, ValueError, "end_id"),
        ({"end_id": "2"}, TypeError, "end_id"),
    ],
)
def test_greedy_decode_refuses_bad_input(seq2seq, change, error, argument):
    call = {
        "model": seq2seq,
        "source_ids": SOURCE,
        "start_id": 1,
        "end_id": 2,
        "max_length": 4,
        **change,
    }
    _refuses(error, argument, lambda: models.greedy_decode(**call))


def test_greedy_decode_accepts_integral_floats_and_fills_the_width(seq2seq):
    out = models.greedy_decode(seq2seq, SOURCE.astype("float32"), 1, 2, 4)
    assert out.dtype == np.int32 and out.shape == (2, 4)
    assert np.all(out[:, 0] == 1) and np.all((out >= 0) & (out < 6))


# ------------------------------------------ valid uses are unchanged


def test_valid_edge_values_still_build():
    assert models.build_mlp(3, hidden_units=()).count_params() == 4
    assert models.build_q_network(4, 2, hidden_units=[]).count_params() == 10
    # Denoising at Keras's upper limit; a length unknown with sinusoids.
    noisy = models.build_autoencoder((4,), 2, hidden_units=(3,), denoising=1.0)
    assert noisy.get_layer("input_noise").stddev == 1.0
    model = models.build_transformer_classifier(
        (None,),
        2,
        vocabulary_size=5,
        position="sinusoidal",
        embedding_dim=4,
        num_heads=1,
        intermediate_dim=4,
        num_layers=1,
    )
    assert model.input_shape == (None, None)
    assert models.build_vit(
        (4, 4, 1),
        (2, 2),
        2,
        embedding_dim=4,
        num_heads=1,
        intermediate_dim=4,
        num_layers=1,
    ).output_shape == (None, 2)
    assert (
        models.build_resnet(
            18,
            image_shape=(8, 8, 1),
            num_classes=2,
            width=2,
            blocks_per_stage=(1,),
        ).name
        == "resnet18"
    )
