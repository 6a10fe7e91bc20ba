"""The representation-learning examples run end to end and leave their logs."""

import os

import pytest
from support.examples import load_example


@pytest.mark.slow
def test_clip_example_zero_shot_accuracy(tmp_path):
    accuracy = load_example("clip_digits").main(
        epochs=15, log_dir=str(tmp_path)
    )
    assert accuracy > 0.8
    assert os.listdir(tmp_path / "train")


@pytest.mark.slow
def test_word2vec_example_writes_the_projector_files(tmp_path):
    model = load_example("word2vec_corpus").main(log_dir=str(tmp_path))
    assert {"metadata.tsv", "projector_config.pbtxt"} <= set(
        os.listdir(tmp_path)
    )
    words = (tmp_path / "metadata.tsv").read_text().split()
    assert "cat" in words and len(words) == model.vocabulary_size - 2


@pytest.mark.slow
def test_siamese_example_runs(tmp_path, capsys):
    load_example("siamese_digits").main(epochs=3, log_dir=str(tmp_path))
    assert "unseen classes 5-9" in capsys.readouterr().out
    assert (tmp_path / "metadata.tsv").exists()
