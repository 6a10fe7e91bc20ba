"""The documentation site builds without a single warning (mkdocs --strict).

The build reads the sources (mkdocstrings parses the docstrings without
importing the package), so it is the same on every backend: it runs once,
in the TensorFlow run of the suite.
"""

import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.backends("tensorflow")
def test_docs_build_strict(tmp_path):
    result = subprocess.run(
        # No --quiet: it hides the warnings that --strict turns into errors.
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-d",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    assert (tmp_path / "api" / "layers" / "index.html").exists()
