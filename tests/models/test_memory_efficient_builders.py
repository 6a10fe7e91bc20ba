"""`memory_efficient=True` reaches every attention layer of the transformer
blocks and builders, and changes no number."""

import keras
import numpy as np
import pytest

from keras_dlparts import layers
from keras_dlparts import models
from keras_dlparts.layers import MultiHeadAttention

rng = np.random.default_rng(0)
TOKENS = rng.integers(1, 6, size=(2, 5)).astype("int32")
TOKENS[0, 3:] = 0  # padding
SEQUENCE = rng.normal(size=(2, 5, 4)).astype("float32")
ATTRIBUTES = ("self_attention", "cross_attention")
IMAGES = rng.normal(size=(2, 8, 8, 1)).astype("float32")

BUILDERS = {
    "seq2seq": (
        lambda **kw: models.build_seq2seq_transformer(
            6,
            6,
            5,
            5,
            embedding_dim=4,
            num_heads=2,
            intermediate_dim=8,
            num_encoder_layers=1,
            num_decoder_layers=1,
            dropout=0.0,
            **kw,
        ),
        [TOKENS, TOKENS],
    ),
    "transformer_classifier": (
        lambda **kw: models.build_transformer_classifier(
            (5,),
            3,
            vocabulary_size=6,
            embedding_dim=4,
            num_heads=2,
            intermediate_dim=8,
            num_layers=1,
            dropout=0.0,
            mask_zero=True,
            **kw,
        ),
        [TOKENS],
    ),
    "vit": (
        lambda **kw: models.build_vit(
            (8, 8, 1),
            4,
            3,
            embedding_dim=4,
            num_heads=2,
            intermediate_dim=8,
            num_layers=1,
            dropout=0.0,
            **kw,
        ),
        [IMAGES],
    ),
    "diffusion_unet": (
        lambda **kw: models.build_diffusion_unet(
            (8, 8, 1),
            base_filters=4,
            channel_multipliers=(1, 2),
            attention_resolutions=(4,),
            groups=2,
            **kw,
        ),
        [IMAGES, np.array([3, 7], "int32")],
    ),
}


def _attention_layers(model):
    """The attention layers of a model and of its transformer blocks."""
    found = []
    for layer in model.layers:
        for sub in (layer, *(getattr(layer, a, None) for a in ATTRIBUTES)):
            if isinstance(sub, MultiHeadAttention):
                found.append(sub)
    return found


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.slow
def test_builders_pass_the_option_to_every_attention_layer(name):
    build, inputs = BUILDERS[name]
    plain = build()
    chunked = build(memory_efficient=True)
    chunked.set_weights(plain.get_weights())
    attention = _attention_layers(chunked)
    assert attention and all(a.memory_efficient for a in attention)
    assert not any(a.memory_efficient for a in _attention_layers(plain))
    np.testing.assert_allclose(
        chunked.predict(inputs, verbose=0),
        plain.predict(inputs, verbose=0),
        atol=1e-5,
    )


@pytest.mark.parametrize("block", ["encoder", "decoder"])
@pytest.mark.slow
def test_blocks_pass_the_option_and_chunk_sizes(block):
    options = {"query_chunk_size": 2, "key_chunk_size": 3}
    if block == "encoder":
        cls, inputs = layers.TransformerEncoderBlock, (SEQUENCE,)
    else:
        cls, inputs = layers.TransformerDecoderBlock, (SEQUENCE, SEQUENCE)
    plain = cls(2, 8, dropout=0.2, seed=1)
    chunked = cls(2, 8, dropout=0.2, seed=1, memory_efficient=True, **options)
    plain(*inputs)
    chunked(*inputs)
    chunked.set_weights(plain.get_weights())
    np.testing.assert_allclose(chunked(*inputs), plain(*inputs), atol=1e-5)
    attention = chunked.self_attention
    assert attention.memory_efficient and attention.key_chunk_size == 3
    # The chunked attention has no weights to drop; the residuals still do.
    assert attention.dropout == 0.0 and plain.self_attention.dropout == 0.2
    config = chunked.get_config()
    assert config["memory_efficient"] and config["query_chunk_size"] == 2
    restored = cls.from_config(config)
    restored(*inputs)
    assert restored.self_attention.memory_efficient


@pytest.mark.slow
def test_a_memory_efficient_classifier_trains():
    # Seeded: unseeded, 8 epochs of two examples sometimes halved the
    # loss only (0.62 from 1.17); 20 epochs fit them in every seed tried.
    keras.utils.set_random_seed(0)
    build, inputs = BUILDERS["transformer_classifier"]
    model = build(memory_efficient=True)
    model.compile(
        keras.optimizers.Adam(0.05), "sparse_categorical_crossentropy"
    )
    labels = np.array([0, 2])
    before = model.evaluate(inputs, labels, verbose=0)
    model.fit(inputs, labels, epochs=20, verbose=0)
    assert model.evaluate(inputs, labels, verbose=0) < 0.1 * before
