"""Every public part computes the same on JAX as on TensorFlow, to 1e-5.

Each backend runs in its own process (Keras picks its backend at import):
TensorFlow exports weights, inputs and results of every op, layer, loss,
metric and optimizer, and of one SGD training step of a small model around
each layer with trainable weights; JAX loads the weights, recomputes and
compares (see backend_worker.py). The TensorFlow results are themselves
checked against NumPy references in the tests of each folder.

The test starts both backends itself, so it runs once, in the TensorFlow
run of the suite.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest

import keras_dlparts

WORKER = pathlib.Path(__file__).with_name("backend_worker.py")
pytest.importorskip(
    "jax", reason="the JAX backend is an optional extra: pip install '.[jax]'"
)


def run(backend, mode, directory):
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    if backend == "jax":
        # Compiling dominates these one-step checks of tiny parts: XLA's
        # backend optimisations off (a JAX session's own setting is kept).
        flags = env.get("XLA_FLAGS", "")
        if "xla_backend_optimization_level" not in flags:
            env["XLA_FLAGS"] = f"{flags} --xla_backend_optimization_level=0"
    done = subprocess.run(
        [sys.executable, str(WORKER), mode, str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["backend"] == backend
    return result


def public_classes(module, base):
    return {
        n
        for n, v in vars(module).items()
        if isinstance(v, type) and issubclass(v, base)
    }


def case_names(cases, kind, variants=True):
    """The cases of `kind` ("layer:MultiHeadAttention_additive" ...), each
    cut at its first "_" (the variant) unless `variants` is False."""
    names = {
        key.split(":", 1)[1] for key in cases if key.startswith(f"{kind}:")
    }
    return {n.split("_")[0] for n in names} if variants else names


@pytest.mark.slow
@pytest.mark.backends("tensorflow")
def test_every_part_matches_tensorflow_on_jax(tmp_path):
    import keras

    run("tensorflow", "export", tmp_path)
    cases = run("jax", "check", tmp_path)["cases"]
    failures = {name: why for name, why in cases.items() if why != "ok"}
    assert not failures, json.dumps(failures, indent=1)
    # Every public op, layer, loss, metric and optimizer has a case.
    public_ops = {
        n
        for n, v in vars(keras_dlparts.ops).items()
        if callable(v) and not isinstance(v, type) and not n.startswith("_")
    }
    expected = {
        "layer": public_classes(keras_dlparts.layers, keras.layers.Layer),
        "loss": public_classes(keras_dlparts.losses, keras.losses.Loss),
        "metric": public_classes(keras_dlparts.metrics, keras.metrics.Metric),
        "optimizer": public_classes(
            keras_dlparts.optimizers, keras.optimizers.Optimizer
        ),
    }
    for kind, names in expected.items():
        missing = sorted(names - case_names(cases, kind))
        assert not missing, f"no {kind} case for {missing}"
    missing_ops = sorted(public_ops - case_names(cases, "op", variants=False))
    assert not missing_ops, f"no op case for {missing_ops}"
    # The worker runs the training step of every layer case with trainable
    # weights (and fails a case whose model has some but no step).
    assert {
        "MultiHeadAttention",
        "LSTMCell",
        "ResidualBlock",
        "RBF",
    } <= case_names(cases, "train")
