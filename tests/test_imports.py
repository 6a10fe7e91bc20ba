"""Importing keras_dlparts on JAX loads neither TensorFlow nor KerasTuner.

Each check imports in a fresh interpreter (this test process has usually
loaded TensorFlow already) and reads `sys.modules` after every import.
"""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

HEAVY = ("tensorflow", "tensorflow_datasets", "keras_tuner")
SUBPACKAGES = (
    "ops",
    "layers",
    "losses",
    "optimizers",
    "callbacks",
    "metrics",
    "models",
    "retrieval",
    "testing",
)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROBE = """
import importlib, json, sys
heavy = {heavy!r}
loaded = {{}}
for name in {modules!r}:
    importlib.import_module(name)
    loaded[name] = [m for m in heavy if m in sys.modules]
{extra}
print(json.dumps(loaded))
"""


def loaded_after_imports(modules, extra=""):
    """`{module: heavy modules in sys.modules after importing it}` on JAX."""
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    script = _PROBE.format(heavy=HEAVY, modules=list(modules), extra=extra)
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.backends("jax")  # checks a fresh JAX process: once is enough
def test_package_and_subpackages_load_no_tensorflow_on_jax():
    modules = ["keras_dlparts"] + [f"keras_dlparts.{s}" for s in SUBPACKAGES]
    # A callback is constructed too: TensorFlow waits for the first summary.
    extra = (
        "from keras_dlparts.callbacks import GradientFlowMonitor\n"
        "GradientFlowMonitor('logs', ([[0.0]], [[0.0]]))\n"
        "loaded['callback constructed'] = "
        "[m for m in heavy if m in sys.modules]"
    )
    loaded = loaded_after_imports(modules, extra)
    assert list(loaded)[: len(modules)] == modules
    assert loaded == {name: [] for name in loaded}


@pytest.mark.slow
@pytest.mark.backends("jax")  # checks a fresh JAX process: once is enough
def test_data_and_tuning_are_imported_on_first_access_on_jax():
    extra = (
        "import keras_dlparts\n"
        "loaded['before access'] = [m for m in heavy if m in sys.modules]\n"
        "keras_dlparts.tuning.MLPHyperModel\n"
        "loaded['after access'] = [m for m in heavy if m in sys.modules]\n"
    )
    loaded = loaded_after_imports([], extra)
    assert loaded["before access"] == []
    assert "keras_tuner" in loaded["after access"]


def test_lazy_data_subpackage_works():
    import keras_dlparts

    assert "data" in dir(keras_dlparts)
    (x, y), _ = keras_dlparts.data.load_digits(as_images=False)
    assert x.shape[1:] == (64,) and len(x) == len(y)
    batches = list(
        keras_dlparts.data.make_dataset(x[:10], y[:10], 4, shuffle=False)
    )
    assert [int(b[0].shape[0]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.asarray(batches[1][1]), y[4:8])
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = keras_dlparts.nope


def test_lazy_tuning_subpackage_builds_a_model():
    import keras_tuner

    import keras_dlparts

    hypermodel = keras_dlparts.tuning.MLPHyperModel(
        input_shape=(8,), num_classes=3
    )
    model = hypermodel.build(keras_tuner.HyperParameters())
    assert isinstance(model, keras.Model)
    assert tuple(model(np.zeros((2, 8), "float32")).shape) == (2, 3)
