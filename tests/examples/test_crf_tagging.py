"""The CRF tagging example: padded Markov data, the CRF beats a softmax."""

import numpy as np
import pytest
from support.examples import load_example

tagging = load_example("crf_tagging")


def test_data_are_padded_sequences_of_sticky_tags():
    tokens, tags = tagging.make_data(50, max_length=12, seed=3)
    assert tokens.shape == tags.shape == (50, 12)
    lengths = (tokens > 0).sum(1)
    assert lengths.min() >= 6 and lengths.max() <= 12
    # Padding only on the right, with tag 0.
    assert np.all((tokens > 0) == (np.arange(12) < lengths[:, None]))
    assert np.all(tags[tokens == 0] == 0)
    real = tokens[:, 1:] > 0
    stays = (tags[:, 1:] == tags[:, :-1])[real].mean()
    assert abs(stays - tagging.STAY) < 0.08


def test_token_accuracy_counts_real_tokens_only():
    tokens = np.array([[1, 2, 0]])
    tags = np.array([[0, 1, 0]])
    assert tagging.token_accuracy(np.array([[0, 0, 0]]), tags, tokens) == 0.5


@pytest.mark.slow
def test_the_crf_beats_the_softmax_head():
    accuracies = tagging.main(train=800, test=300, epochs=6)
    assert accuracies["crf_tagger"] > accuracies["softmax_tagger"] + 0.05, (
        accuracies
    )
