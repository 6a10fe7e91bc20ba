"""Tests of keras_dlparts.layers.CRF (with losses.CRFLoss)."""

import os

import keras
import numpy as np
import pytest

from keras_dlparts.layers import CRF
from keras_dlparts.losses import CRFLoss
from keras_dlparts.ops import crf_log_likelihood
from keras_dlparts.ops import viterbi_decode
from keras_dlparts.testing import check_layer

rng = np.random.default_rng(0)
X = rng.normal(size=(6, 4, 5)).astype("float32")
TAGS = rng.integers(0, 3, size=(6, 4))
# Token ids, 0 = padding on the right: lengths 5, 3, 1 and 4.
TOKENS = np.array(
    [[1, 2, 3, 4, 1], [2, 2, 1, 0, 0], [3, 0, 0, 0, 0], [4, 3, 2, 1, 0]]
)


def _weights(layer):
    return {w.name: keras.ops.convert_to_numpy(w) for w in layer.weights}


def _numpy_scores(layer, x, mask=None):
    """The pairwise form written from its definition, step by step."""
    w = _weights(layer)
    u = x @ w["kernel"] + w["bias"] if layer.use_kernel else x
    n = layer.num_tags
    start = w.get("start_transitions", np.zeros(n))
    end = w.get("end_transitions", np.zeros(n))
    mask = np.ones(x.shape[:2], bool) if mask is None else mask
    out = np.empty(x.shape[:2] + (n, n))
    for b in range(len(x)):
        real = np.flatnonzero(mask[b])
        for t in range(x.shape[1]):
            if not mask[b, t]:
                out[b, t] = np.where(np.eye(n, dtype=bool), 0.0, -1e9)
                continue
            out[b, t] = w["transitions"] + u[b, t][None, :]
            if t == real[0]:
                out[b, t] = np.broadcast_to(u[b, t] + start, (n, n))
            if t == real[-1]:
                out[b, t] += end[None, :]
    return out


def _tagger(num_tags=3, **kwargs):
    inputs = keras.Input((None,), dtype="int32")
    hidden = keras.layers.Embedding(5, 4, mask_zero=True)(inputs)
    crf = CRF(num_tags, **kwargs)
    return keras.Model(inputs, crf(hidden)), crf


@pytest.mark.slow
def test_contract_with_numpy_reference():
    check_layer(
        CRF,
        {"num_tags": 3},
        X,
        reference=lambda layer, x: _numpy_scores(layer, x),
        expected_output_dtype="float32",
        targets=TAGS,
        loss=CRFLoss(),
        learning_rate=5e-2,
    )


@pytest.mark.slow
def test_scores_follow_the_keras_mask():
    model, crf = _tagger()
    scores = keras.ops.convert_to_numpy(model(TOKENS))
    embedded = keras.ops.convert_to_numpy(model.layers[1](TOKENS))
    np.testing.assert_allclose(
        scores, _numpy_scores(crf, embedded, TOKENS > 0), rtol=1e-5, atol=1e-5
    )


@pytest.mark.slow
def test_loss_and_decode_equal_the_ops_on_the_unary_scores():
    model, crf = _tagger(chain_initializer="random_normal")
    keras.ops.convert_to_numpy(model(TOKENS))
    w = _weights(crf)
    embedded = keras.ops.convert_to_numpy(model.layers[1](TOKENS))
    unary = embedded @ w["kernel"] + w["bias"]
    chain = (w["transitions"], TOKENS > 0, w["start_transitions"])
    tags = np.where(TOKENS > 0, TAGS[:4, :1] % 3, -1)  # -1: padding
    tags[:, 1:] = TAGS[:4, :1] % 3
    tags = np.where(TOKENS > 0, tags, -1)
    expected = -np.asarray(
        crf_log_likelihood(
            unary,
            np.maximum(tags, 0),
            chain[1],
            chain[0],
            chain[2],
            w["end_transitions"],
        )
    )
    scores = model(TOKENS)
    per_sequence = CRFLoss(reduction=None)(tags, scores)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(per_sequence), expected, rtol=1e-5
    )
    # Whatever the tags at padded steps, the loss is the same.
    other = CRFLoss(reduction=None)(np.where(TOKENS > 0, tags, 2), scores)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(other), expected, rtol=1e-5
    )
    best, _ = viterbi_decode(
        unary, chain[0], chain[1], chain[2], w["end_transitions"]
    )
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(CRF.decode(scores)), np.asarray(best)
    )


@pytest.mark.slow
def test_fit_learns_a_transition_rule_and_saves(tmp_path):
    # A token's tag is its id's parity, except that tag 2 always follows
    # tag 1: a rule of the tags that the transitions alone can learn (the
    # encoder sees one token at a time).
    data = np.random.default_rng(1).integers(1, 5, size=(64, 5))
    tags = data % 2
    for t in range(1, data.shape[1]):
        tags[:, t] = np.where(tags[:, t - 1] == 1, 2, tags[:, t])
    model, crf = _tagger(3, chain_initializer="zeros")
    model.compile(keras.optimizers.Adam(0.1), CRFLoss())
    history = model.fit(data, tags, epochs=15, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    decoded = keras.ops.convert_to_numpy(CRF.decode(model.predict(data)))
    assert np.mean(decoded == tags) > 0.95
    path = os.path.join(tmp_path, "crf.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(data, verbose=0), model.predict(data, verbose=0)
    )
    assert isinstance(loaded.loss, CRFLoss)


def test_a_symbolic_tagger_model_decodes():
    model, crf = _tagger()
    tagger = keras.Model(model.inputs, CRF.decode(model.outputs[0]))
    tags = tagger.predict(TOKENS, verbose=0)
    assert tags.shape == TOKENS.shape
    np.testing.assert_array_equal(tags[TOKENS == 0], 0)


def test_without_kernel_or_boundary():
    crf = CRF(5, use_kernel=False, use_boundary=False)
    out = keras.ops.convert_to_numpy(crf(X))
    assert [w.name for w in crf.weights] == ["transitions"]
    np.testing.assert_allclose(out, _numpy_scores(crf, X), rtol=1e-6)


def test_config_round_trip():
    crf = CRF(4, use_boundary=False, chain_initializer="zeros", name="tags")
    clone = CRF.from_config(crf.get_config())
    assert clone.get_config() == crf.get_config()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_tags": 0}, ValueError, "num_tags"),
        ({"num_tags": 2.0}, TypeError, "num_tags"),
        ({"num_tags": 2, "use_kernel": "yes"}, TypeError, "use_kernel"),
        ({"num_tags": 2, "use_boundary": 1}, TypeError, "use_boundary"),
        ({"num_tags": 2, "chain_initializer": "x"}, ValueError, "chain"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        CRF(**kwargs)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="`inputs`"):
        CRF(3)(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match="num_tags"):
        CRF(3, use_kernel=False)(np.ones((2, 4, 5), "float32"))
    with pytest.raises(ValueError, match="`mask`"):
        CRF(3)(X, mask=np.ones((6, 3), bool))
