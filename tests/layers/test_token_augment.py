import numpy as np
import pytest
from support.backend import MappedBatches

from keras_dlparts.layers.token_augment import RandomTokenDeletion
from keras_dlparts.layers.token_augment import RandomTokenInsertion
from keras_dlparts.layers.token_augment import RandomTokenSwap
from keras_dlparts.testing import check_layer


def padded_ids(batch, length, seed=0, min_len=1):
    """Distinct ids 1..length per row, random true lengths, then padding."""
    rng = np.random.default_rng(seed)
    ids = np.zeros((batch, length), "int32")
    lengths = rng.integers(min_len, length + 1, size=batch)
    for row, n in enumerate(lengths):
        ids[row, :n] = rng.permutation(np.arange(1, length + 1))[:n]
    return ids, lengths


def check_padding_and_shape(x, y, lengths_out):
    assert y.shape == x.shape and y.dtype == x.dtype
    for row, n in zip(y, lengths_out):
        assert np.all(row[:n] != 0) and np.all(row[n:] == 0)


LAYERS = [
    (RandomTokenDeletion, {"rate": 0.3, "seed": 1}),
    (RandomTokenSwap, {"rate": 0.3, "seed": 1}),
    (RandomTokenInsertion, {"rate": 0.3, "vocabulary_size": 11, "seed": 1}),
]


@pytest.mark.slow
@pytest.mark.parametrize("cls, kwargs", LAYERS)
def test_contract(cls, kwargs):
    x, _ = padded_ids(8, 10)
    check_layer(
        cls,
        kwargs,
        x,
        reference=lambda layer, x: x,
        expected_output_dtype="int32",
    )


@pytest.mark.slow
def test_deletion_rate_order_and_padding():
    x, lengths = padded_ids(400, 40, seed=1)
    y = np.asarray(RandomTokenDeletion(0.25, seed=0)(x, training=True))
    kept = (y != 0).sum(1)
    check_padding_and_shape(x, y, kept)
    assert 1 - kept.sum() / lengths.sum() == pytest.approx(0.25, abs=0.015)
    for row_x, row_y, k in zip(x, y, kept):
        # The survivors are a subsequence of the input, in order.
        position = [list(row_x).index(t) for t in row_y[:k]]
        assert position == sorted(position)


def test_swap_permutes_selected_tokens_only():
    x, lengths = padded_ids(400, 40, seed=2, min_len=20)
    rate = 0.3
    y = np.asarray(RandomTokenSwap(rate, seed=0)(x, training=True))
    check_padding_and_shape(x, y, lengths)
    np.testing.assert_array_equal(np.sort(x, 1), np.sort(y, 1))
    moved = (x != y).sum() / lengths.sum()
    # A random permutation of k >= 1 selected tokens fixes one on average.
    p_any = 1 - (1 - rate) ** lengths
    expected = (rate * lengths.sum() - p_any.sum()) / lengths.sum()
    assert moved == pytest.approx(expected, abs=0.015)


@pytest.mark.parametrize("vocabulary_size", [None, 1000])
@pytest.mark.slow
def test_insertion_rate_and_order(vocabulary_size):
    # Short sequences in long rows, so nothing is cut off.
    x = np.zeros((400, 40), "int32")
    x[:, :15] = np.arange(1, 16)
    rate = 0.2
    layer = RandomTokenInsertion(rate, vocabulary_size=vocabulary_size, seed=0)
    y = np.asarray(layer(x, training=True))
    n = (y != 0).sum(1)
    check_padding_and_shape(x, y, n)
    assert (n - 15).sum() / x.size * (40 / 15) == pytest.approx(rate, abs=0.015)
    for row, k in zip(y, n):
        # The original sequence is a subsequence of the output.
        it = iter(row[:k].tolist())
        assert all(any(t == s for s in it) for t in range(1, 16))
        if vocabulary_size is None:  # copies of the sequence's own ids
            assert set(row[:k]) <= set(range(1, 16))
    assert (y > 15).any() == (vocabulary_size is not None)


@pytest.mark.slow
def test_insertion_truncates_at_full_length():
    x = np.tile(np.arange(1, 9, dtype="int32"), (50, 1))
    y = np.asarray(RandomTokenInsertion(0.5, seed=3)(x, training=True))
    assert y.shape == x.shape and np.all(y != 0)


@pytest.mark.parametrize("cls, kwargs", LAYERS)
@pytest.mark.slow
def test_rank_one_in_python_data_pipeline(cls, kwargs):
    x, _ = padded_ids(6, 12, seed=4)
    layer = cls(**kwargs)
    # One example (rank one) at a time, as a per-example map would.
    examples = MappedBatches(x, 1, lambda b: layer(b[0], training=True))
    out = np.stack([examples[i] for i in range(len(examples))])
    assert out.shape == x.shape and out.dtype == x.dtype
    assert not np.array_equal(out, x)
    for row, ids in zip(out, x):
        n = (row != 0).sum()
        assert np.all(row[n:] == 0)
        if cls is RandomTokenSwap:
            assert sorted(row) == sorted(ids)
    batched = MappedBatches(x, 3, layer)
    np.testing.assert_array_equal(np.concatenate([batched[0], batched[1]]), x)


@pytest.mark.backends("tensorflow")
@pytest.mark.parametrize("cls, kwargs", LAYERS)
def test_rank_one_and_tf_data(cls, kwargs):
    import tensorflow as tf

    x, _ = padded_ids(6, 12, seed=4)
    layer = cls(**kwargs)
    ds = tf.data.Dataset.from_tensor_slices(x).map(
        lambda s: layer(s, training=True)
    )
    out = np.stack([np.asarray(s) for s in ds])
    assert out.shape == x.shape and out.dtype == x.dtype
    for row in out:
        n = (row != 0).sum()
        assert np.all(row[n:] == 0)
    batched = tf.data.Dataset.from_tensor_slices(x).batch(3).map(layer)
    np.testing.assert_array_equal(np.concatenate(list(batched)), x)


def test_seeded_runs_repeat():
    x, _ = padded_ids(16, 12)
    a = RandomTokenSwap(0.5, seed=9)(x, training=True)
    b = RandomTokenSwap(0.5, seed=9)(x, training=True)
    np.testing.assert_array_equal(a, b)


def test_bad_inputs():
    with pytest.raises(ValueError, match="rate"):
        RandomTokenDeletion(rate=-0.1)
    with pytest.raises(ValueError, match="vocabulary_size"):
        RandomTokenInsertion(0.1, vocabulary_size=1)
    with pytest.raises(ValueError, match="integer token ids"):
        RandomTokenDeletion(0.1)(np.ones((2, 3), "float32"), training=True)
    with pytest.raises(ValueError, match="rank"):
        RandomTokenSwap(0.1)(np.ones((2, 3, 4), "int32"))


@pytest.mark.parametrize("rate", [float("nan"), 1.5])
def test_a_nan_or_too_large_rate_is_refused(rate):
    with pytest.raises(ValueError, match="rate"):
        RandomTokenDeletion(rate)


@pytest.mark.parametrize(
    "make, name",
    [
        (lambda: RandomTokenSwap("0.1"), "rate"),
        (
            lambda: RandomTokenInsertion(0.1, vocabulary_size=5.0),
            "vocabulary_size",
        ),
    ],
)
def test_wrong_types_raise_type_error(make, name):
    with pytest.raises(TypeError, match=name):
        make()


@pytest.mark.parametrize(
    "cls", [RandomTokenDeletion, RandomTokenSwap, RandomTokenInsertion]
)
def test_an_empty_batch_gives_an_empty_output(cls):
    out = cls(0.5, seed=0)(np.zeros((0, 5), "int32"), training=True)
    assert tuple(out.shape) == (0, 5)
