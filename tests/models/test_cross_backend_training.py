"""The models with their own loss train alike on TensorFlow and on JAX.

VAE, DiffusionModel, DualEncoder, SiameseNetwork, Word2Vec and
AnomalyDetector compute their loss from their own outputs. Each backend runs
`cross_backend_worker.py` in its own process (Keras picks its backend at
import): from the same weights and the same random draws, one `fit` step
must give the same logs and the same weights to 1e-5.
"""

import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

WORKER = pathlib.Path(__file__).with_name("cross_backend_worker.py")
pytest.importorskip("jax")
pytest.importorskip("tensorflow")

CASES = (
    "VAE",
    "DiffusionModel",
    "DualEncoder",
    "SiameseNetwork_pairs",
    "SiameseNetwork_triplets",
    "Word2Vec_skipgram",
    "Word2Vec_cbow",
    "AnomalyDetector",
)


def _run(backend, directory):
    directory.mkdir()
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("XLA_FLAGS", None)
    done = subprocess.run(
        [sys.executable, str(WORKER), str(directory)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1] == backend
    return directory


# The check starts a TensorFlow and a JAX process itself, so it runs once,
# in the TensorFlow run of the suite, and in one test (a module fixture
# shared by parametrized tests would run once per xdist worker).
pytestmark = pytest.mark.backends("tensorflow")


def _compare(tf_run, jax_run):
    assert sorted(tf_run.files) == sorted(jax_run.files)
    assert any(k.startswith("log_") for k in tf_run.files)
    for key in tf_run.files:
        np.testing.assert_allclose(
            jax_run[key], tf_run[key], rtol=1e-5, atol=1e-5, err_msg=key
        )
    # The comparison is of trained weights, not of the initial ones.
    weights = [k for k in tf_run.files if k.startswith("weight_")]
    moved = [
        k
        for k in weights
        if not np.allclose(
            tf_run[k], tf_run["init_" + k[len("weight_") :]], atol=1e-4
        )
    ]
    assert moved, "the step moved no weight"


@pytest.mark.slow
def test_one_step_gives_the_same_logs_and_weights(tmp_path):
    results = {b: _run(b, tmp_path / b) for b in ("tensorflow", "jax")}
    failures = {}
    for case in CASES:
        try:
            _compare(
                np.load(results["tensorflow"] / f"{case}.npz"),
                np.load(results["jax"] / f"{case}.npz"),
            )
        except AssertionError as error:
            failures[case] = str(error)[:2000]
    assert not failures, failures
