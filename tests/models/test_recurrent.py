"""Tests of keras_dlparts.models.build_lstm_language_model."""

import keras
import numpy as np
import pytest

from keras_dlparts.layers import LSTMCell
from keras_dlparts.models import build_lstm_language_model
from keras_dlparts.testing import check_model


def _cyclic_corpus(n=64, length=12, vocab=6, seed=0):
    """Sequences 1, 2, ..., vocab-1, 1, 2, ... from random starting points."""
    starts = np.random.default_rng(seed).integers(0, vocab - 1, n)
    ids = (starts[:, None] + np.arange(length + 1)) % (vocab - 1) + 1
    return ids[:, :-1].astype("int32"), ids[:, 1:].astype("int32")


@pytest.mark.slow
def test_uses_our_cell_and_masks_padding():
    model = build_lstm_language_model(
        10, embedding_dim=4, units=5, num_layers=2, peephole=True
    )
    cells = [model.get_layer(f"lstm{i}").cell for i in (1, 2)]
    assert all(isinstance(c, LSTMCell) and c.peephole for c in cells)
    ids = np.array([[3, 4, 5, 0, 0]], "int32")
    logits = np.asarray(model(ids))
    # Steps before the padding do not depend on what the padding holds.
    np.testing.assert_allclose(
        logits[:, :3], np.asarray(model(ids[:, :3])), atol=1e-6
    )
    mask = model.get_layer("logits").output._keras_mask
    assert mask is not None


@pytest.mark.slow
def test_learns_a_deterministic_sequence():
    x, y = _cyclic_corpus()
    keras.utils.set_random_seed(0)
    model = build_lstm_language_model(6, embedding_dim=8, units=16)
    model.compile(
        keras.optimizers.Adam(1e-2),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(x, y, epochs=15, batch_size=16, verbose=0)
    accuracy = np.mean(np.argmax(np.asarray(model(x)), -1) == y)
    assert accuracy > 0.95


def _tiny():
    return build_lstm_language_model(
        6, embedding_dim=4, units=4, layer_norm=True, dropout=0.1
    )


@pytest.mark.slow
def test_contract_tiny():
    x, y = _cyclic_corpus(n=8, length=6)
    check_model(
        _tiny,
        x,
        y,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        epochs=3,
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"vocabulary_size": 0}, "vocabulary_size"),
        ({"vocabulary_size": 5, "num_layers": 0}, "num_layers"),
        ({"vocabulary_size": 5, "dropout": 1.0}, "`dropout`"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_lstm_language_model(**kwargs)
