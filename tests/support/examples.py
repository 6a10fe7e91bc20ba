"""Imports a script of examples/ or benchmarks/ as a module, for tests to
reuse."""

import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def load_script(relative_path):
    """The module of the script at `relative_path` (from the repository
    root)."""
    path = ROOT / relative_path
    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_example(name):
    """The module `examples/<name>.py`."""
    return load_script(f"examples/{name}.py")
