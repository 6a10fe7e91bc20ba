import keras
import numpy as np
import pytest

from keras_dlparts.models.diffusion_unet import build_diffusion_unet
from keras_dlparts.testing import check_model


def tiny_unet(attention_resolutions=(2,)):
    return build_diffusion_unet(
        (4, 4, 1),
        base_filters=8,
        channel_multipliers=(1, 2),
        num_res_blocks=1,
        attention_resolutions=attention_resolutions,
        num_classes=3,
        groups=4,
    )


def contract_unet():
    # Attention only in the middle block: the same attention block as at
    # the levels (the structure test counts those); three attention blocks
    # less to trace in each check (about a quarter of TensorFlow's time).
    return tiny_unet(attention_resolutions=())


def _attention_blocks(net):
    return sum(
        layer.__class__.__name__ == "MultiHeadAttention" for layer in net.layers
    )


@pytest.mark.slow
def test_contract():
    rng = np.random.default_rng(0)
    x_t = rng.normal(size=(8, 4, 4, 1)).astype("float32")
    t = rng.integers(0, 1000, size=(8,)).astype("int32")
    labels = rng.integers(0, 4, size=(8,)).astype("int32")
    noise = rng.normal(size=(8, 4, 4, 1)).astype("float32")
    check_model(contract_unet, [x_t, t, labels], noise, learning_rate=3e-3)


@pytest.mark.slow
def test_structure_timestep_and_label_change_the_output():
    net = tiny_unet()
    names = [layer.__class__.__name__ for layer in net.layers]
    assert "TimestepEmbedding" in names and "MultiHeadAttention" in names
    # At size 2: one after the encoder's block, two in the decoder; and the
    # middle block's (the only one of the contract's network).
    assert _attention_blocks(net) == 4
    assert _attention_blocks(contract_unet()) == 1
    assert "Embedding" in names
    # The label embedding has a row for the "no label" index num_classes.
    emb = next(
        layer for layer in net.layers if layer.__class__.__name__ == "Embedding"
    )
    assert emb.input_dim == 4
    x = np.random.default_rng(1).normal(size=(2, 4, 4, 1)).astype("float32")
    out = lambda t, y: keras.ops.convert_to_numpy(  # noqa: E731
        net([x, np.array([t, t], "int32"), np.array([y, y], "int32")])
    )
    assert out(5, 0).shape == (2, 4, 4, 1)
    assert np.abs(out(5, 0) - out(500, 0)).max() > 1e-4
    assert np.abs(out(5, 0) - out(5, 3)).max() > 1e-4


def test_unconditional_has_two_inputs():
    net = build_diffusion_unet(
        (8, 8, 1),
        base_filters=8,
        channel_multipliers=(1,),
        attention_resolutions=(),
    )
    assert [tuple(i.shape) for i in net.inputs] == [(None, 8, 8, 1), (None,)]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"image_shape": (8, 8)}, "image_shape"),
        (
            {"image_shape": (6, 6, 1), "channel_multipliers": (1, 2, 2)},
            "divisible",
        ),
        ({"base_filters": 0}, "base_filters"),
        ({"base_filters": 12, "groups": 8}, "groups"),
        ({"channel_multipliers": ()}, "channel_multipliers"),
        ({"num_classes": 0}, "num_classes"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_bad_arguments(kwargs, match):
    kwargs = {"image_shape": (8, 8, 1), "base_filters": 8, **kwargs}
    with pytest.raises(ValueError, match=match):
        build_diffusion_unet(**kwargs)
