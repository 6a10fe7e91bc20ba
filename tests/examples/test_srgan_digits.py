"""The SRGAN digits example runs end to end on a tiny setting."""

import numpy as np
import pytest
from PIL import Image
from support.examples import load_example


@pytest.mark.slow
def test_srgan_digits_trains_reports_and_draws_the_grid(tmp_path):
    out = str(tmp_path / "grid.png")
    report = load_example("srgan_digits").main(
        [
            "--epochs=2",
            "--gan-epochs=1",
            "--filters=8",
            "--blocks=1",
            f"--out={out}",
        ]
    )
    # The content loss (pixel MSE) of the SRResNet stage fell.
    loss = report["pretraining_loss"]
    assert len(loss) == 2 and loss[-1] < loss[0]
    logs = report["srgan_logs"]
    assert set(logs) == {
        "g_loss",
        "content_loss",
        "adversarial_loss",
        "d_loss",
        "psnr",
    }
    assert all(np.isfinite(v[0]) for v in logs.values())
    results = report["results"]
    assert list(results) == ["bicubic", "SRResNet", "SRGAN"]
    # Bicubic is deterministic: its numbers are those in the docs.
    assert results["bicubic"] == pytest.approx((13.48, 0.5132), abs=5e-3)
    for psnr, ssim in results.values():
        assert 0.0 < psnr < 60.0 and -1.0 <= ssim <= 1.0
    # Five rows (low-res, bicubic, SRResNet, SRGAN, high-res) of ten digits,
    # 8 + 1 px cells less the last gap, 8x enlarged.
    assert Image.open(out).size == (712, 352)
