"""Every op and layer computes the same on JAX as on TensorFlow, and trains
under JAX's XLA-compiled `fit`: the parts are backend-agnostic (DESIGN.md).

Each backend runs in its own process (Keras picks its backend at import):
TensorFlow exports weights and outputs on fixed inputs, JAX loads the weights
and compares. The TensorFlow outputs are themselves checked against NumPy
references in tests/ops and tests/layers.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

import keras_dlparts

WORKER = pathlib.Path(__file__).with_name("backend_worker.py")
pytest.importorskip("jax", reason="the JAX backend is an optional extra: pip install '.[jax]'")


def run(backend, mode, directory):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run(
        [sys.executable, str(WORKER), mode, str(directory)],
        env=env, capture_output=True, text=True, timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    return result


@pytest.mark.slow
def test_ops_and_layers_match_tensorflow_and_train_on_jax(tmp_path):
    run("tensorflow", "export", tmp_path)
    cases = run("jax", "check", tmp_path)["cases"]
    failures = {name: why for name, why in cases.items() if why != "ok"}
    assert not failures, json.dumps(failures, indent=1)
    # Every public layer and op is covered.
    covered = {name.split("_")[0] for name in cases if not name.startswith("op_")}
    covered_ops = {name[3:] for name in cases if name.startswith("op_")}
    public_layers = {n for n, v in vars(keras_dlparts.layers).items() if isinstance(v, type)}
    public_ops = {n for n, v in vars(keras_dlparts.ops).items() if callable(v) and not isinstance(v, type)}
    assert public_layers <= covered, sorted(public_layers - covered)
    assert public_ops <= covered_ops, sorted(public_ops - covered_ops)
