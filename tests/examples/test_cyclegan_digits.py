"""Smoke run of examples/cyclegan_digits.py: metrics in range, a grid."""

import numpy as np
import pytest
from PIL import Image
from support.examples import load_example


@pytest.mark.slow
def test_cyclegan_digits_runs_tiny(tmp_path):
    example = load_example("cyclegan_digits")
    out = str(tmp_path / "grid.png")
    metrics = example.main(epochs=2, seed=0, out=out, verbose=False)
    for key in ("judge_ba", "judge_ab"):
        assert 0.0 <= metrics[key] <= 1.0
    first, last = metrics["cycle_loss"]
    values = [first, last, metrics["d_loss"], metrics["g_loss"]]
    assert np.all(np.isfinite(values + [metrics["test_cycle_loss"]]))
    assert last < first  # the cycle loss falls within two epochs
    assert metrics["test_cycle_loss"] < first
    # Six rows of ten 8x8 digits, one grey pixel between them, each pixel
    # enlarged 8 times.
    assert Image.open(out).size == (8 * (10 * 9 - 1), 8 * (6 * 9 - 1))
    b, a_back = example.TRANSFORMS["rotate"]
    x = np.arange(64, dtype="float32").reshape(1, 8, 8, 1)
    np.testing.assert_array_equal(a_back(b(x)), x)
    assert not np.array_equal(b(x), x)
