"""Smoke run of examples/generative_diversity.py (tiny: one epoch each)."""

import numpy as np
import pytest
from support.examples import load_example


@pytest.mark.slow  # TF 35 s, JAX 88 s on the loaded 2-core VM (load ~7)
def test_table_rows_for_real_data_gan_vae_and_diffusion():
    rows = load_example("generative_diversity").main(
        [
            "--gan-configs",
            "all",
            "--gan-epochs",
            "1",
            "--vae-epochs",
            "1",
            "--diffusion-epochs",
            "1",
            "--diffusion-filters",
            "8",
            "--sample-steps",
            "2",
        ]
    )
    names = [row["model"] for row in rows]
    assert names == [
        "real test split",
        "GAN all",
        "VAE",
        "diffusion",
    ]
    real = rows[0]  # the baseline against itself
    assert real["fd_mean"] == pytest.approx(1.0)
    assert real["spread_mean"] == pytest.approx(1.0)
    assert real["fd_within_3x"] == 10 and real["accuracy"] > 0.95
    for row in rows[1:]:
        assert row["fd_worst"] >= row["fd_mean"] > 0
        assert row["spread_mean"] >= row["spread_worst"] >= 0
        assert 0.0 <= row["accuracy"] <= 1.0
        if row["model"] != "VAE":  # conditional: every class is drawn
            assert np.isfinite(row["fd_worst"]) and row["spread_worst"] > 0
