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


def middle_only_unet():
    # Attention only in the middle block: the same attention block as at
    # the levels (the structure test counts those).
    return tiny_unet(attention_resolutions=())


def _attention_blocks(net):
    return sum(
        layer.__class__.__name__ == "MultiHeadAttention" for layer in net.layers
    )


@pytest.mark.slow
def test_structure_timestep_and_label_change_the_output():
    net = tiny_unet()
    names = [layer.__class__.__name__ for layer in net.layers]
    assert "TimestepEmbedding" in names and "MultiHeadAttention" in names
    # At size 2: one after the encoder's block, two in the decoder; and the
    # middle block's (the only one of the contract's network).
    assert _attention_blocks(net) == 4
    assert _attention_blocks(middle_only_unet()) == 1
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


@pytest.mark.slow
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


# ----------------------------------------------------------------------
# Cross-attention conditioning on a context sequence.


def context_unet(context_mask=True):
    # One level, 4x4 images, 4 filters: the middle block is the only
    # (spatial-transformer) attention block.
    return build_diffusion_unet(
        (4, 4, 1),
        base_filters=4,
        channel_multipliers=(1,),
        attention_resolutions=(),
        groups=2,
        num_heads=2,
        context_shape=(3, 5),
        context_mask=context_mask,
    )


def context_batch(rng, n=2):
    return [
        rng.normal(size=(n, 4, 4, 1)).astype("float32"),
        rng.integers(0, 1000, size=(n,)).astype("int32"),
        rng.normal(size=(n, 3, 5)).astype("float32"),
        np.tile(np.array([[1.0, 1.0, 0.0]], "float32"), (n, 1)),
    ]


def np_group_norm(x, gamma, beta, groups, eps=1e-3):
    b, h, w, c = x.shape
    g = x.reshape(b, h, w, groups, c // groups)
    mean = g.mean(axis=(1, 2, 4), keepdims=True)
    var = g.var(axis=(1, 2, 4), keepdims=True)
    return ((g - mean) / np.sqrt(var + eps)).reshape(x.shape) * gamma + beta


def np_layer_norm(x, gamma, beta, eps=1e-5):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def np_attention(q_in, kv_in, weights, mask=None):
    """Multi-head scaled dot-product attention from the formula."""
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    k = np.einsum("bsc,chd->bhsd", kv_in, wk) + bk[:, None]
    v = np.einsum("bsc,chd->bhsd", kv_in, wv) + bv[:, None]
    q = np.einsum("btc,chd->bhtd", q_in, wq) + bq[:, None]
    scores = np.einsum("bhtd,bhsd->bhts", q, k) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask[:, None, None, :] > 0, scores, -np.inf)
    a = np.exp(scores - scores.max(-1, keepdims=True))
    a /= a.sum(-1, keepdims=True)
    out = np.einsum("bhts,bhsd->bhtd", a, v)
    return np.einsum("bhtd,hdc->btc", out, wo) + bo


@pytest.mark.slow
def test_spatial_transformer_block_against_numpy():
    """GN, proj, self-attn, cross-attn, GELU FFN, proj, two residuals."""
    from scipy.special import erf

    from keras_dlparts.models.diffusion_unet import _Blocks

    blocks = _Blocks(groups=2, num_heads=2, dropout=0.0, memory_efficient=False)
    x_in = keras.Input((2, 3, 4))
    blocks.context = keras.Input((3, 5))
    blocks.context_mask = keras.Input((3,))
    block = keras.Model(
        [x_in, blocks.context, blocks.context_mask],
        blocks.spatial_transformer(x_in),
    )
    rng = np.random.default_rng(0)
    params = {}
    for layer in block.layers:
        values = [0.5 * rng.normal(size=w.shape) for w in layer.get_weights()]
        layer.set_weights(values)
        params.setdefault(layer.__class__.__name__, []).append(values)
    x = rng.normal(size=(2, 2, 3, 4)).astype("float32")
    context = rng.normal(size=(2, 3, 5)).astype("float32")
    mask = np.array([[1, 1, 0], [1, 0, 0]], "float32")
    got = keras.ops.convert_to_numpy(block([x, context, mask]))

    (gn,) = params["GroupNormalization"]
    proj_in, ff_in, ff_out, proj_out = params["Dense"]
    ln1, ln2, ln3 = params["LayerNormalization"]
    self_attn, cross_attn = params["MultiHeadAttention"]
    s = np_group_norm(x, *gn, groups=2).reshape(2, 6, 4)
    s = s @ proj_in[0] + proj_in[1]
    n = np_layer_norm(s, *ln1)
    s = s + np_attention(n, n, self_attn)
    n = np_layer_norm(s, *ln2)
    s = s + np_attention(n, context, cross_attn, mask)
    n = np_layer_norm(s, *ln3)
    f = n @ ff_in[0] + ff_in[1]
    f = 0.5 * f * (1.0 + erf(f / np.sqrt(2.0)))
    s = s + f @ ff_out[0] + ff_out[1]
    s = s @ proj_out[0] + proj_out[1]
    expected = x + s.reshape(x.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
@pytest.mark.starts_early
def test_contract():
    """The context changes the output, masked positions do not; contract.

    The one contract of the U-Net, on its largest block (the spatial
    transformer with a masked context); the label-conditioned U-Net
    trains, saves, reloads and trains on inside `DiffusionModel`
    (test_diffusion.py).
    """
    net = context_unet()
    assert [tuple(i.shape) for i in net.inputs] == [
        (None, 4, 4, 1),
        (None,),
        (None, 3, 5),
        (None, 3),
    ]
    assert _attention_blocks(net) == 2  # self- and cross-attention
    x, t, context, mask = context_batch(np.random.default_rng(1))
    out = lambda c: keras.ops.convert_to_numpy(  # noqa: E731
        net([x, t, c, mask])
    )
    base = out(context)
    padded = context.copy()
    padded[:, 2] += 10.0  # masked in every row
    np.testing.assert_allclose(out(padded), base, atol=1e-5)
    visible = context.copy()
    visible[:, 0] += 1.0
    assert np.abs(out(visible) - base).max() > 1e-4
    rng = np.random.default_rng(0)
    inputs = context_batch(rng, 8)
    noise = rng.normal(size=(8, 4, 4, 1)).astype("float32")
    check_model(context_unet, inputs, noise, learning_rate=3e-3)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"context_shape": (3,)}, ValueError, "context_shape"),
        ({"context_shape": (3, 0)}, ValueError, "context_shape"),
        ({"context_shape": "x"}, TypeError, "context_shape"),
        ({"context_mask": True}, ValueError, "context_mask"),
        ({"context_shape": (2, 4), "context_mask": 1}, TypeError, "mask"),
        ({"context_shape": (2, 4), "num_classes": 3}, ValueError, "exclude"),
    ],
)
def test_bad_context_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        build_diffusion_unet((8, 8, 1), base_filters=8, **kwargs)
