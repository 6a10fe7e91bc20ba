import os

import keras
import numpy as np
import pytest
from nltk.translate.bleu_score import SmoothingFunction
from nltk.translate.bleu_score import corpus_bleu

from keras_dlparts.metrics.bleu import BLEU
from keras_dlparts.testing import distribution_scope


def make_corpus(n=40, length=14, vocab=6, refs=1, seed=0):
    """Padded id arrays plus the same sentences as lists, padding stripped."""
    rng = np.random.default_rng(seed)

    def sentence(min_len=1):
        return rng.integers(
            1, vocab + 1, size=rng.integers(min_len, length + 1)
        ).tolist()

    hyps = [sentence() for _ in range(n)]
    # References: a noisy copy of the hypothesis, so higher orders match.
    references = []
    for h in hyps:
        group = []
        for _ in range(refs):
            r = [
                t if rng.random() < 0.7 else int(rng.integers(1, vocab + 1))
                for t in h
            ]
            r = (
                r[: rng.integers(max(1, len(r) - 3), len(r) + 1)]
                + sentence()[:2]
            )
            group.append(r[:length])
        references.append(group)

    def pad(seqs):
        out = np.zeros((len(seqs), length), "int32")
        for i, s in enumerate(seqs):
            out[i, : len(s)] = s
        return out

    hyp_ids = pad(hyps)
    ref_ids = np.stack(
        [pad([g[k] for g in references]) for k in range(refs)], axis=1
    )
    return hyps, references, hyp_ids, ref_ids


def batched_bleu(metric, ref_ids, hyp_ids, batch=16):
    for start in range(0, len(hyp_ids), batch):
        metric.update_state(
            ref_ids[start : start + batch], hyp_ids[start : start + batch]
        )
    return float(metric.result())


@pytest.mark.slow
@pytest.mark.parametrize("max_order", [1, 2, 4])
@pytest.mark.parametrize("smooth", [False, True])
def test_matches_nltk_corpus_bleu(max_order, smooth):
    hyps, refs, hyp_ids, ref_ids = make_corpus(seed=max_order)
    expected = corpus_bleu(
        refs,
        hyps,
        weights=(1.0 / max_order,) * max_order,
        smoothing_function=SmoothingFunction().method2 if smooth else None,
    )
    got = batched_bleu(BLEU(max_order, smooth=smooth), ref_ids[:, 0], hyp_ids)
    assert 0.05 < expected < 1.0
    assert got == pytest.approx(expected, abs=1e-5)


@pytest.mark.slow
def test_multiple_references_match_nltk():
    hyps, refs, hyp_ids, ref_ids = make_corpus(refs=3, seed=5)
    # An all-padding extra reference is ignored.
    ref_ids = np.concatenate([ref_ids, np.zeros_like(ref_ids[:, :1])], axis=1)
    got = batched_bleu(BLEU(), ref_ids, hyp_ids)
    assert got == pytest.approx(corpus_bleu(refs, hyps), abs=1e-5)


@pytest.mark.filterwarnings("ignore:\\s*The hypothesis contains 0 counts")
@pytest.mark.slow
def test_no_match_short_and_scores_input():
    metric = BLEU()
    metric.update_state(np.array([[1, 2, 3, 0]]), np.array([[4, 5, 0, 0]]))
    assert float(metric.result()) == 0.0  # nltk returns 0 when p_1 = 0
    metric.reset_state()
    # Scores (batch, length, vocab): the argmax is taken; a 2-token candidate
    # has no 3- or 4-grams, so unsmoothed BLEU-4 is ~0 as in nltk.
    scores = keras.ops.one_hot(np.array([[1, 2, 0, 0]]), 6)
    metric.update_state(np.array([[1, 2, 0, 0]]), scores)
    assert float(metric.result()) == pytest.approx(
        corpus_bleu([[[1, 2]]], [[1, 2]]), abs=1e-6
    )
    assert float(
        BLEU(max_order=2)(np.array([[1, 2, 0]]), scores[:, :3])
    ) == pytest.approx(1.0)


@pytest.mark.slow
def test_in_compiled_model_jit_distributed_and_saved(tmp_path):
    _, _, hyp_ids, ref_ids = make_corpus(n=16, seed=3)
    # A model that outputs one-hot scores of its own input ids: BLEU of
    # the hypotheses against the references, computed inside evaluate().
    inputs = keras.Input((hyp_ids.shape[1],), dtype="int32")
    outputs = keras.layers.CategoryEncoding(7, output_mode="one_hot")(inputs)
    model = keras.Model(inputs, outputs)
    expected = batched_bleu(BLEU(), ref_ids[:, 0], hyp_ids, batch=8)
    for jit in (False, True):
        model.compile(
            loss="sparse_categorical_crossentropy",
            metrics=[BLEU()],
            jit_compile=jit,
        )
        logs = model.evaluate(
            hyp_ids, ref_ids[:, 0], batch_size=8, verbose=0, return_dict=True
        )
        assert logs["bleu"] == pytest.approx(expected, abs=1e-5)
    # Data-parallel over two devices (MirroredStrategy on TensorFlow,
    # DataParallel on JAX): the counts of both halves of a batch add up.
    with distribution_scope():
        distributed = keras.Model(inputs, outputs)
        distributed.compile(
            loss="sparse_categorical_crossentropy", metrics=[BLEU()]
        )
        logs = distributed.evaluate(
            hyp_ids, ref_ids[:, 0], batch_size=8, verbose=0, return_dict=True
        )
    assert logs["bleu"] == pytest.approx(expected, abs=1e-5)
    path = os.path.join(str(tmp_path), "m.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    logs = reloaded.evaluate(
        hyp_ids, ref_ids[:, 0], batch_size=8, verbose=0, return_dict=True
    )
    assert logs["bleu"] == pytest.approx(expected, abs=1e-5)


def test_config_and_errors():
    metric = BLEU(max_order=3, smooth=True, name="b3")
    clone = BLEU.from_config(metric.get_config())
    assert clone.get_config() == metric.get_config()
    assert (
        keras.metrics.deserialize(keras.metrics.serialize(metric)).max_order
        == 3
    )
    with pytest.raises(ValueError, match="max_order"):
        BLEU(max_order=0)
    with pytest.raises(TypeError, match="max_order"):
        BLEU(max_order=2.5)
    with pytest.raises(TypeError, match="smooth"):
        BLEU(smooth="yes")
    with pytest.raises(ValueError, match="y_pred"):
        BLEU().update_state(np.ones((2, 3)), np.ones((2,)))
    with pytest.raises(ValueError, match="y_true"):
        BLEU().update_state([[1, 2], [3, 4]][0], np.ones((2, 3)))
    with pytest.raises(ValueError, match="same batch size"):
        BLEU().update_state(np.ones((3, 4)), np.ones((2, 4)))


@pytest.mark.slow
def test_an_empty_batch_adds_nothing():
    bleu = BLEU(max_order=2)
    bleu.update_state(np.array([[1, 2, 3, 4, 0]]), np.array([[1, 2, 3, 5, 0]]))
    before = float(bleu.result())
    bleu.update_state(np.zeros((0, 5), "int32"), np.zeros((0, 5), "int32"))
    assert float(bleu.result()) == before


@pytest.mark.slow
def test_sample_weight_shapes():
    refs = np.array([[1, 2, 3, 0], [4, 5, 0, 0]])
    cands = np.array([[1, 2, 0, 0], [4, 5, 6, 0]])
    flat, column = BLEU(max_order=1), BLEU(max_order=1)
    flat.update_state(refs, cands, sample_weight=np.array([1.0, 2.0]))
    column.update_state(refs, cands, sample_weight=np.array([[1.0], [2.0]]))
    assert float(flat.result()) == pytest.approx(float(column.result()))
    with pytest.raises(ValueError, match="`sample_weight`"):
        BLEU().update_state(refs, cands, sample_weight=np.ones(3))
