"""Smoke runs of the VAE and GAN digits examples: PNG grid, TensorBoard
samples."""

import os

import pytest
from PIL import Image
from support.examples import load_example
from support.tensorboard_events import read_events


@pytest.mark.parametrize(
    "name, shape",
    [
        ("vae_digits", (712, 712)),
        pytest.param("gan_digits", (712, 712), marks=pytest.mark.slow),
    ],
)
def test_example_writes_grid_and_tensorboard_samples(name, shape, tmp_path):
    output, logdir = str(tmp_path / "grid.png"), str(tmp_path / "logs")
    extra = []
    if name == "gan_digits":  # with every remedy and the diversity report
        extra = ["--per-class", "10", "--spectral-norm", "--ttur"]
        extra += ["--minibatch-std", "4", "--diversity"]
    accuracy = load_example(name).main(
        [
            "--epochs",
            "2",
            "--log-every",
            "1",
            "--output",
            output,
            "--logdir",
            logdir,
        ]
        + extra
    )
    assert 0.0 <= accuracy <= 1.0
    assert (
        Image.open(output).size == shape
    )  # 10 x 10 cells of 8 + 1 px, less 1, x8
    assert [step for step, _ in read_events(logdir)["samples"]] == [1, 2]
    assert len(os.listdir(os.path.join(logdir, "png"))) == 2
