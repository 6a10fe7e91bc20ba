"""Tests of build_seq2seq_transformer and greedy_decode."""

import keras
import numpy as np
import pytest

from keras_dlparts.models import build_seq2seq_transformer
from keras_dlparts.models import greedy_decode
from keras_dlparts.testing import check_model

START, END = 1, 2
TINY = {
    "embedding_dim": 8,
    "num_heads": 2,
    "intermediate_dim": 16,
    "num_encoder_layers": 1,
    "num_decoder_layers": 1,
}


def reverse_task(n, rng, max_len=5):
    """Sources: 2..max_len tokens in 3..9 (0-padded); targets: reversed, END."""
    source = np.zeros((n, max_len), "int32")
    target = np.zeros((n, max_len + 1), "int32")
    for i in range(n):
        k = rng.integers(2, max_len + 1)
        tokens = rng.integers(3, 10, size=k)
        source[i, :k] = tokens
        target[i, :k] = tokens[::-1]
        target[i, k] = END
    target_input = np.concatenate([np.full((n, 1), START), target[:, :-1]], 1)
    target_input[target_input == END] = 0
    return source, target_input.astype("int32"), target


def _loss():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


@pytest.mark.slow
def test_contract():
    source, target_input, target = reverse_task(8, np.random.default_rng(0))
    check_model(
        lambda: build_seq2seq_transformer(10, 10, 5, 6, dropout=0.0, **TINY),
        [source, target_input],
        target,
        loss=_loss(),
    )


@pytest.mark.slow
def test_teacher_forcing_is_causal_and_ignores_source_padding():
    # Two decoder blocks read the same encoder outputs: both must see its mask.
    model = build_seq2seq_transformer(
        10, 10, 6, 6, dropout=0.0, **{**TINY, "num_decoder_layers": 2}
    )
    source = np.array([[4, 5, 6, 0, 0, 0]], "int32")
    target_input = np.array([[START, 7, 8, 9, 3, 4]], "int32")
    logits = model.predict([source, target_input], verbose=0)
    changed_future = target_input.copy()
    changed_future[:, 3:] = [5, 5, 5]
    later = model.predict([source, changed_future], verbose=0)
    np.testing.assert_allclose(logits[:, :3], later[:, :3], atol=1e-5)
    # Shorter, unpadded source: identical logits (padding fully masked).
    short = model.predict([source[:, :3], target_input], verbose=0)
    np.testing.assert_allclose(logits, short, atol=1e-5)


@pytest.mark.slow
def test_padding_targets_are_masked_in_the_loss():
    model = build_seq2seq_transformer(10, 10, 5, 6, dropout=0.0, **TINY)
    model.compile(loss=_loss())
    source = np.array([[4, 5, 0, 0, 0]], "int32")
    target_input = np.array([[START, 5, 4, 0, 0, 0]], "int32")
    logits = model.predict([source, target_input], verbose=0)
    target = np.array([[5, 4, END, 0, 0, 0]], "int32")
    # Keras masks the loss with the decoder mask (target_input != 0).
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = -np.take_along_axis(log_probs, target[..., None], -1)[0, :3, 0]
    expected = picked.mean()
    got = model.evaluate([source, target_input], target, verbose=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4)


@pytest.mark.slow
@pytest.mark.learning
def test_learns_to_reverse_and_decodes_greedily():
    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    source, target_input, target = reverse_task(1500, rng)
    model = build_seq2seq_transformer(
        10,
        10,
        5,
        7,
        embedding_dim=32,
        num_heads=4,
        intermediate_dim=64,
        num_encoder_layers=1,
        num_decoder_layers=1,
        dropout=0.0,
    )
    model.compile(keras.optimizers.Adam(3e-3), loss=_loss())
    model.fit(
        [source, target_input], target, epochs=5, batch_size=32, verbose=0
    )
    test_source, _, test_target = reverse_task(50, rng)
    decoded = greedy_decode(model, test_source, START, END, max_length=7)
    assert decoded.shape == (50, 7)
    assert np.all(decoded[:, 0] == START)
    exact = (decoded[:, 1:] == test_target).all(1).mean()
    assert exact >= 0.9


def test_greedy_decode_stops_and_pads_after_end():
    class Scripted(keras.Model):
        """Always predicts token 3, except END at position 2."""

        def call(self, inputs):
            source, target = inputs
            steps = keras.ops.arange(keras.ops.shape(target)[1])
            ids = keras.ops.where(steps == 2, END, 3)
            logits = keras.ops.one_hot(ids, 5)[None]
            return keras.ops.repeat(logits, keras.ops.shape(source)[0], axis=0)

    out = greedy_decode(Scripted(), np.ones((2, 4), "int32"), START, END, 6)
    np.testing.assert_array_equal(out, [[START, 3, 3, END, 0, 0]] * 2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"source_length": 0}, r"`source_length`.*=0"),
        (
            {"embedding_dim": 9, "num_heads": 2},
            r"`embedding_dim`.*`num_heads`=2.*=9",
        ),
        ({"num_decoder_layers": -1}, r"`num_decoder_layers`.*=-1"),
    ],
)
def test_bad_arguments(kwargs, match):
    args = {
        "source_vocabulary_size": 5,
        "target_vocabulary_size": 5,
        "source_length": 4,
        "target_length": 4,
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        build_seq2seq_transformer(**args)


def test_greedy_decode_bad_arguments():
    model = build_seq2seq_transformer(5, 5, 4, 4, **TINY)
    with pytest.raises(ValueError, match=r"`max_length`.*=0"):
        greedy_decode(model, np.ones((1, 3)), START, END, 0)
    with pytest.raises(
        ValueError, match=r"`source_ids` must have rank 2.*\(3,\)"
    ):
        greedy_decode(model, np.ones(3), START, END, 4)
    for call_args, match in [
        ((np.ones((1, 3)), START, END, 5), r"`max_length`.*=5"),
        ((np.ones((1, 3)), 5, END, 4), r"`start_id` .*\[0, 5\).*=5"),
        ((np.ones((1, 5)), START, END, 4), r"`source_ids` .*length 4 wide"),
        ((np.full((1, 3), 5), START, END, 4), r"`source_ids`.*< 5"),
        ((np.full((1, 3), 1.5), START, END, 4), r"`source_ids`.*whole"),
    ]:
        with pytest.raises(ValueError, match=match):
            greedy_decode(model, *call_args)
