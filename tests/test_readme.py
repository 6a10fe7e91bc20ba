"""The README's part table is kept current: it names every public part."""

import inspect
import pathlib

import pytest

import keras_dlparts

README = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
FOLDERS = [
    "ops",
    "layers",
    "losses",
    "optimizers",
    "callbacks",
    "metrics",
    "models",
    "data",
]


def public_names(folder):
    module = getattr(keras_dlparts, folder)
    return sorted(
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not inspect.ismodule(value)
    )


@pytest.mark.parametrize("folder", FOLDERS)
def test_readme_table_names_every_public_part(folder):
    missing = [n for n in public_names(folder) if f"`{n}`" not in README]
    assert not missing, f"README's part table lacks {folder}: {missing}"


def test_readme_has_the_two_commands():
    assert "examples/quickstart.py" in README
    assert README.count("python3 -m venv .venv") == 2
    ci = (
        pathlib.Path(__file__).resolve().parents[1] / ".ci" / "run"
    ).read_text()
    test_command = [
        l for l in README.splitlines() if "pytest" in l and "venv" in l
    ][0]
    assert test_command.strip() in ci
