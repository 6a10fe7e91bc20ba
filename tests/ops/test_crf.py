"""Tests of keras_dlparts.ops.crf_log_likelihood and viterbi_decode.

The reference enumerates every tag path of short sequences in NumPy.
"""

import itertools

import keras
import numpy as np
import pytest

from keras_dlparts._autodiff import value_and_gradients
from keras_dlparts.ops import crf_log_likelihood
from keras_dlparts.ops import viterbi_decode


def _path_score(u, path, steps, A, start, end):
    """Score of `path` over the real `steps` (indices) of one sequence."""
    tags = [path[t] for t in steps]
    score = start[tags[0]] + end[tags[-1]]
    score += sum(u[t, path[t]] for t in steps)
    score += sum(A[a, b] for a, b in zip(tags[:-1], tags[1:]))
    return score


def _brute_force(u, mask, A, start, end):
    """(log Z, best path over the real steps, best score) for one sequence."""
    steps = [t for t in range(len(u)) if mask[t]]
    if not steps:
        return 0.0, (), 0.0
    scores = {
        path: _path_score(u, dict(zip(steps, path)), steps, A, start, end)
        for path in itertools.product(range(u.shape[1]), repeat=len(steps))
    }
    best = max(scores, key=scores.get)
    values = np.array(list(scores.values()))
    log_z = values.max() + np.log(np.exp(values - values.max()).sum())
    return log_z, dict(zip(steps, best)), scores[best]


def _problem(seed, batch=4, steps=4, tags=3, boundary=True):
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(batch, steps, tags)).astype("float32")
    A = rng.normal(size=(tags, tags)).astype("float32")
    start = rng.normal(size=tags).astype("float32")
    end = rng.normal(size=tags).astype("float32")
    if not boundary:
        start, end = np.zeros(tags, "float32"), np.zeros(tags, "float32")
    y = rng.integers(0, tags, size=(batch, steps))
    return u, y, A, start, end


MASKS = {
    "none": None,
    "lengths": np.array([4, 2, 1, 0]),
    "holes": np.array(
        [[1, 0, 1, 1], [0, 0, 1, 0], [1, 1, 0, 0], [0, 1, 0, 1]], bool
    ),
}


def _as_mask(value, batch=4, steps=4):
    if value is None:
        return np.ones((batch, steps), bool)
    if value.ndim == 1:
        return np.arange(steps)[None, :] < value[:, None]
    return value


@pytest.mark.parametrize("boundary", [True, False])
@pytest.mark.parametrize("mask_name", sorted(MASKS))
@pytest.mark.slow
def test_log_likelihood_equals_enumeration(mask_name, boundary):
    u, y, A, start, end = _problem(0, boundary=boundary)
    mask = _as_mask(MASKS[mask_name])
    kwargs = (
        {"start_transitions": start, "end_transitions": end} if boundary else {}
    )
    got = np.asarray(crf_log_likelihood(u, y, MASKS[mask_name], A, **kwargs))
    expected = []
    for b in range(len(u)):
        log_z, _, _ = _brute_force(u[b], mask[b], A, start, end)
        steps = [t for t in range(u.shape[1]) if mask[b, t]]
        gold = _path_score(u[b], y[b], steps, A, start, end) if steps else 0.0
        expected.append(gold - log_z)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mask_name", sorted(MASKS))
def test_viterbi_equals_enumeration(mask_name):
    u, _, A, start, end = _problem(1)
    mask = _as_mask(MASKS[mask_name])
    tags, scores = viterbi_decode(u, A, MASKS[mask_name], start, end)
    tags, scores = np.asarray(tags), np.asarray(scores)
    for b in range(len(u)):
        _, best, best_score = _brute_force(u[b], mask[b], A, start, end)
        want = [best[t] if mask[b, t] else 0 for t in range(u.shape[1])]
        assert tags[b].tolist() == want
        np.testing.assert_allclose(scores[b], best_score, rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_probabilities_of_every_path_sum_to_one():
    u, _, A, start, end = _problem(2, batch=1, steps=3, tags=2)
    paths = np.array(list(itertools.product(range(2), repeat=3)))
    lls = crf_log_likelihood(
        np.repeat(u, len(paths), 0), paths, None, A, start, end
    )
    np.testing.assert_allclose(np.exp(np.asarray(lls)).sum(), 1.0, rtol=1e-5)


def test_16_bit_potentials_are_computed_in_float32():
    u, y, A, start, end = _problem(3)
    got = crf_log_likelihood(u.astype("float16"), y, None, A, start, end)
    assert keras.backend.standardize_dtype(got.dtype) == "float32"
    np.testing.assert_allclose(
        np.asarray(got),
        np.asarray(crf_log_likelihood(u, y, None, A, start, end)),
        atol=2e-2,
    )


@pytest.mark.slow
def test_gradients_are_finite_and_reach_every_argument():
    u, y, A, start, end = _problem(4)
    lengths = np.array([4, 2, 1, 0])
    variables = [keras.Variable(v) for v in (u, A, start, end)]

    def loss():
        ll = crf_log_likelihood(
            variables[0], y, lengths, variables[1], *variables[2:]
        )
        return -keras.ops.sum(ll), None

    _, grads = value_and_gradients(loss, variables)
    grads = [np.asarray(g) for g in grads]
    for g in grads:
        assert np.all(np.isfinite(g)) and np.any(g != 0)
    # The fourth sequence has no real step: no gradient reaches it.
    np.testing.assert_array_equal(grads[0][3], 0.0)
    np.testing.assert_array_equal(grads[0][1, 2:], 0.0)


def test_traces_under_xla():
    u, y, A, start, end = _problem(5)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        compile_ = tf.function(jit_compile=True)
    else:
        import jax

        compile_ = jax.jit
    ll = compile_(lambda u: crf_log_likelihood(u, y, None, A, start, end))
    decode = compile_(lambda u: viterbi_decode(u, A, None, start, end)[0])
    np.testing.assert_allclose(
        np.asarray(ll(u)),
        np.asarray(crf_log_likelihood(u, y, None, A, start, end)),
        rtol=1e-5,
    )
    np.testing.assert_array_equal(
        np.asarray(decode(u)),
        np.asarray(viterbi_decode(u, A, None, start, end)[0]),
    )


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"transitions": np.zeros((2, 2), "float32")}, "transitions"),
        ({"start_transitions": np.zeros(2, "float32")}, "start_transitions"),
        ({"lengths_or_mask": np.ones((4, 3), bool)}, "lengths_or_mask"),
        ({"lengths_or_mask": np.ones(3, "int32")}, "lengths_or_mask"),
        ({"tags": np.full((4, 4), 3)}, "tags"),
        ({"tags": np.zeros((4, 3), "int32")}, "tags"),
        ({"potentials": np.zeros((4, 3), "float32")}, "potentials"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs, match):
    u, y, A, start, end = _problem(6)
    args = {
        "potentials": u,
        "tags": y,
        "lengths_or_mask": None,
        "transitions": A,
        "start_transitions": start,
        "end_transitions": end,
        **kwargs,
    }
    with pytest.raises(ValueError, match=match):
        crf_log_likelihood(**args)
