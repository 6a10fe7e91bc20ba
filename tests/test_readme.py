"""The README stays true: its part table names every public part, and CI
runs its test command, the lint and the floor-version contract tests."""

import inspect
import pathlib
import re

import pytest

import keras_dlparts

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CI = (ROOT / ".ci" / "run").read_text()
FOLDERS = [
    "ops",
    "layers",
    "losses",
    "optimizers",
    "callbacks",
    "metrics",
    "models",
    "retrieval",
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
    assert _test_command() in CI


def _test_command():
    return next(
        line.strip()
        for line in README.splitlines()
        if "pytest" in line and "venv" in line
    )


def test_ci_lints_first_then_runs_the_contract_on_floor_versions():
    lint = CI.index(".venv/bin/ruff format --check .")
    check = CI.index(".venv/bin/ruff check .")
    suite = CI.index(_test_command())
    floor_install = CI.index(
        '.venv-floor/bin/pip install -q -e ".[test]" '
        "-c .ci/floor-constraints.txt"
    )
    floor_runs = [
        CI.index(
            f"KERAS_BACKEND={backend} .venv-floor/bin/python -m pytest "
            "-n 2 -k contract"
        )
        for backend in ("tensorflow", "jax")
    ]
    assert lint < check < suite < floor_install < min(floor_runs)
    assert "set -euo pipefail" in CI


def test_floor_constraints_pin_the_floors_pyproject_states():
    pyproject = (ROOT / "pyproject.toml").read_text()
    stated = re.findall(r'"([A-Za-z0-9_.-]+)(?:\[\w+\])?>=([\w.]+)"', pyproject)
    pins = dict(
        re.findall(
            r"^([A-Za-z0-9_.-]+)==([\w.]+)$",
            (ROOT / ".ci" / "floor-constraints.txt").read_text(),
            re.MULTILINE,
        )
    )
    for name in ("keras", "tensorflow", "jax", "keras-tuner"):
        assert name in pins, f"floor-constraints.txt does not pin {name}"
    assert set(pins) <= {name for name, _ in stated}
    for name, version in stated:
        assert pins.get(name, version) == version, (
            f"pyproject.toml states {name}>={version}, "
            f"floor-constraints.txt pins {name}=={pins[name]}"
        )
    assert re.search(r'"ruff==[\w.]+"', pyproject), "pin ruff exactly"
