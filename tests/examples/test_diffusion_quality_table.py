"""The diffusion quality-table script runs end to end on a tiny setting."""

import numpy as np
import pytest
from support.examples import load_example


@pytest.mark.slow
def test_quality_table_rows_and_real_data_baseline():
    rows = load_example("diffusion_quality_table").main(
        [
            "--epochs=1",
            "--base-filters=8",
            "--per-class=1",
            "--schedule-steps=100",
            "--predictions",
            "v",
        ]
    )
    # The baseline row: the judge reads real held-out digits (>95%) and
    # their FD-digits to the training digits is small (the docs give 0.40).
    name, _, _, accuracy, fd = rows[0]
    assert name == "real test split"
    assert accuracy > 0.95 and fd < 1.0
    # One row per sampler and EMA setting, each a valid accuracy and a
    # finite FD well above the real data's after one epoch of training.
    samplers = [row[0] for row in rows[1:]]
    assert samplers == [
        "DDPM, 100 steps",
        "DDPM, 100 steps",
        "DDIM, 50 steps",
        "DDIM, 50 steps",
        "DPM-Solver++(2M), 20 steps",
        "DPM-Solver++(2M), 20 steps",
        "DPM-Solver++(2M), 10 steps",
        "DPM-Solver++(2M), 10 steps",
    ]
    assert [row[2] for row in rows[1:]] == ["yes", "no"] * 4
    for _, prediction, _, accuracy, fd in rows[1:]:
        assert prediction == "v"
        assert 0.0 <= accuracy <= 1.0
        assert np.isfinite(fd) and fd > rows[0][4]
