"""The retrieval example trains, measures both splits and writes its logs."""

import os

import pytest
from support.examples import load_example


@pytest.mark.slow
def test_retrieval_example_figures_and_logs(tmp_path):
    results = load_example("retrieval_digits").main(
        epochs=2, steps_per_epoch=20, log_dir=str(tmp_path)
    )
    assert set(results) == {"multi-similarity", "triplet", "untrained"}
    untrained = results["untrained"]["seen"]["map@r"]
    for loss in ("multi-similarity", "triplet"):
        # Training on 0-4 pays off on held-out images of 0-4.
        assert results[loss]["seen"]["map@r"] > untrained + 0.2
        assert results[loss]["seen"]["recall@1"] > 0.95
        # And the unseen classes are still retrieved far above chance (0.2).
        assert results[loss]["unseen"]["recall@1"] > 0.8
    # Each training run logged its retrieval scalars; the projector's files.
    for run in ("multi-similarity", "triplet"):
        assert any(
            f.startswith("events.out.tfevents")
            for f in os.listdir(tmp_path / run)
        )
    projector = os.listdir(tmp_path / "multi-similarity")
    assert {"metadata.tsv", "projector_config.pbtxt"} <= set(projector)
