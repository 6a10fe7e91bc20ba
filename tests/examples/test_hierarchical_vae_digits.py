"""The flat-against-ladder VAE comparison runs end to end, tiny."""

import os

import numpy as np
import pytest
from support.examples import load_example


@pytest.mark.slow
def test_both_models_train_and_report_finite_held_out_elbos(tmp_path):
    out = os.path.join(tmp_path, "grid.png")
    results = load_example("hierarchical_vae_digits").main(
        ["--epochs=2", "--hidden=32", "--draws=2", f"--out={out}"]
    )
    assert set(results) == {"VAE", "Ladder"}
    for name, r in results.items():
        before, after = r["before"]["neg_elbo"], r["after"]["neg_elbo"]
        assert np.isfinite(after) and after < before - 1.0, name
        # The ELBO's pieces add up, and no KL term is negative.
        kl = r["after"]["kl_1"] + (r["after"]["kl_2"] or 0.0)
        assert min(r["after"]["kl_1"], r["after"]["kl_2"] or 0.0) >= 0.0
        assert after == pytest.approx(r["after"]["reconstruction"] + kl)
    # Same total latent size; parameter counts within 5% of each other.
    assert results["Ladder"]["params"] == pytest.approx(
        results["VAE"]["params"], rel=0.05
    )
    assert os.path.getsize(out) > 0
