import contextlib
import os
from collections import Counter

import keras
import numpy as np
import pytest

from keras_dlparts.metrics.rouge import ROUGE
from keras_dlparts.testing import distribution_scope


# ---- Reference implementation from the definition (Lin, 2004) -------------
def ngrams(tokens, n):
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def lcs(a, b):
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a, 1):
        for j, y in enumerate(b, 1):
            table[i][j] = (
                table[i - 1][j - 1] + 1
                if x == y
                else max(table[i - 1][j], table[i][j - 1])
            )
    return table[-1][-1]


def reference_rouge(references, candidates, variant, order, score):
    values = []
    for ref, cand in zip(references, candidates):
        if variant == "n":
            c, r = ngrams(cand, order), ngrams(ref, order)
            overlap = sum((c & r).values())
            n_c, n_r = sum(c.values()), sum(r.values())
        else:
            overlap, n_c, n_r = lcs(cand, ref), len(cand), len(ref)
        p = overlap / n_c if n_c else 0.0
        rec = overlap / n_r if n_r else 0.0
        f = 2 * p * rec / (p + rec) if p + rec else 0.0
        values.append({"precision": p, "recall": rec, "f1": f}[score])
    return float(np.mean(values))


# ---- Fixed corpus ----------------------------------------------------------
def corpus(n=40, length=12, vocab=5, seed=0):
    rng = np.random.default_rng(seed)
    refs, cands = [], []
    for _ in range(n):
        ref = rng.integers(
            1, vocab + 1, size=rng.integers(1, length + 1)
        ).tolist()
        cand = [
            t if rng.random() < 0.6 else int(rng.integers(1, vocab + 1))
            for t in ref
        ]
        cand = (
            cand[: rng.integers(1, len(cand) + 1)]
            + rng.integers(1, vocab + 1, size=rng.integers(0, 3)).tolist()
        )
        refs.append(ref)
        cands.append(cand[:length])

    def pad(seqs):
        out = np.zeros((len(seqs), length), "int32")
        for i, s in enumerate(seqs):
            out[i, : len(s)] = s
        return out

    return refs, cands, pad(refs), pad(cands)


@pytest.mark.parametrize(
    "variant, order, score",
    [
        ("n", 1, "f1"),
        ("n", 2, "f1"),
        ("n", 2, "precision"),
        ("n", 3, "recall"),
        ("l", 1, "f1"),
        ("l", 1, "precision"),
        ("l", 1, "recall"),
    ],
)
@pytest.mark.slow
def test_matches_reference(variant, order, score):
    refs, cands, ref_ids, cand_ids = corpus(seed=order)
    metric = ROUGE(variant, order, score)
    for start in range(0, len(ref_ids), 16):
        metric.update_state(
            ref_ids[start : start + 16], cand_ids[start : start + 16]
        )
    expected = reference_rouge(refs, cands, variant, order, score)
    assert 0.05 < expected < 1.0
    assert float(metric.result()) == pytest.approx(expected, abs=1e-6)


@pytest.mark.slow
def test_worked_example_and_weights():
    # ref "1 2 3 4", cand "1 3 4": bigrams {34} shared -> P = 1/2, R = 1/3.
    metric = ROUGE("n", 2)
    metric.update_state(np.array([[1, 2, 3, 4]]), np.array([[1, 3, 4, 0]]))
    assert float(metric.result()) == pytest.approx(2 * 0.5 / 3 / (0.5 + 1 / 3))
    weighted = ROUGE("l")
    weighted.update_state(
        np.array([[1, 2, 0], [1, 2, 0]]),
        np.array([[1, 2, 0], [3, 0, 0]]),
        sample_weight=np.array([3.0, 1.0]),
    )
    assert float(weighted.result()) == pytest.approx(0.75)


@pytest.mark.slow
def test_compiled_jit_distributed_and_saved(tmp_path):
    refs, cands, ref_ids, cand_ids = corpus(n=16, seed=7)
    expected = reference_rouge(refs, cands, "l", 1, "f1")

    def build():
        inputs = keras.Input((cand_ids.shape[1],), dtype="int32")
        outputs = keras.layers.CategoryEncoding(6, output_mode="one_hot")(
            inputs
        )
        return keras.Model(inputs, outputs)

    # Compiled with XLA on one device, then data-parallel over two
    # (MirroredStrategy on TensorFlow, DataParallel on JAX).
    for jit, scope in [
        (True, contextlib.nullcontext),
        (False, distribution_scope),
    ]:
        with scope():
            model = build()
            model.compile(
                loss="sparse_categorical_crossentropy",
                metrics=[ROUGE("l"), ROUGE("n", 2)],
                jit_compile=jit,
            )
            logs = model.evaluate(
                cand_ids, ref_ids, batch_size=8, verbose=0, return_dict=True
            )
        assert logs["rouge_l"] == pytest.approx(expected, abs=1e-5)
        assert logs["rouge_2"] == pytest.approx(
            reference_rouge(refs, cands, "n", 2, "f1"), abs=1e-5
        )
    path = os.path.join(str(tmp_path), "m.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    logs = reloaded.evaluate(
        cand_ids, ref_ids, batch_size=8, verbose=0, return_dict=True
    )
    assert logs["rouge_l"] == pytest.approx(expected, abs=1e-5)


def test_config_and_errors():
    metric = ROUGE("n", order=3, score="recall")
    assert metric.name == "rouge_3"
    assert (
        ROUGE.from_config(metric.get_config()).get_config()
        == metric.get_config()
    )
    with pytest.raises(ValueError, match="variant"):
        ROUGE("w")
    with pytest.raises(ValueError, match="order"):
        ROUGE("n", order=0)
    with pytest.raises(ValueError, match="score"):
        ROUGE(score="f2")
    with pytest.raises(ValueError, match="y_true"):
        ROUGE().update_state(np.ones((2, 2, 3)), np.ones((2, 3)))
    with pytest.raises(TypeError, match="order"):
        ROUGE("n", order=1.5)
    with pytest.raises(ValueError, match="same batch size"):
        ROUGE().update_state(np.ones((3, 4)), np.ones((2, 4)))


@pytest.mark.parametrize("variant", ["n", "l"])
@pytest.mark.slow
def test_an_empty_batch_adds_nothing(variant):
    rouge = ROUGE(variant)
    rouge.update_state(np.array([[1, 2, 3, 4]]), np.array([[1, 3, 4, 0]]))
    before = float(rouge.result())
    rouge.update_state(np.zeros((0, 4), "int32"), np.zeros((0, 4), "int32"))
    assert float(rouge.result()) == before


@pytest.mark.slow
def test_sample_weight_of_another_batch_size_is_refused():
    with pytest.raises(ValueError, match="`sample_weight`"):
        ROUGE().update_state(
            np.ones((2, 4)), np.ones((2, 4)), sample_weight=np.ones(3)
        )
