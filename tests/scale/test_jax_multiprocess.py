"""Two JAX processes on 127.0.0.1 train one model with `model.fit` under
`keras.distribution.DataParallel`, each feeding half of every global batch,
and end with the weights of one process trained on the global batches."""

import os
import pathlib
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

WORKER = pathlib.Path(__file__).with_name("jax_multiprocess_worker.py")
TIMEOUT = 300  # seconds, for all the processes together (a loaded CI machine)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(out, *args):
    env = dict(os.environ)
    env.update(
        KERAS_BACKEND="jax",
        JAX_PLATFORMS="cpu",
        CUDA_VISIBLE_DEVICES="",
        # One CPU device per process: the mesh spans the processes. XLA's
        # backend optimisations off: compiling dominates these few steps of
        # a tiny dense model, which has no convolution to slow down.
        XLA_FLAGS="--xla_force_host_platform_device_count=1"
        " --xla_backend_optimization_level=0",
    )
    return subprocess.Popen(
        [sys.executable, str(WORKER), "--out", str(out), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.backends("jax")
def test_two_processes_train_like_one_on_the_global_batch(tmp_path):
    coordinator = f"127.0.0.1:{free_port()}"
    processes = []
    try:
        for index in range(2):
            processes.append(
                start(
                    tmp_path / f"process{index}.npz",
                    "--process-id",
                    str(index),
                    "--num-processes",
                    "2",
                    "--coordinator",
                    coordinator,
                )
            )
        processes.append(start(tmp_path / "single.npz"))
        deadline = time.monotonic() + TIMEOUT
        outputs = [
            p.communicate(timeout=max(1.0, deadline - time.monotonic()))[0]
            for p in processes
        ]
    finally:
        for p in processes:
            if p.poll() is None:
                p.kill()
                p.wait()
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]

    *workers, single = [
        np.load(tmp_path / f"{name}.npz")
        for name in ("process0", "process1", "single")
    ]
    for result in workers:
        assert int(result["process_count"]) == 2
        assert int(result["local_device_count"]) == 1
        assert int(result["device_count"]) == 2  # the mesh spans both processes
        assert int(result["replicas"]) == 2
    assert int(single["process_count"]) == 1

    def weights(result):
        arrays = [result[k] for k in result.files if k.startswith("arr_")]
        half = len(arrays) // 2
        return arrays[:half], arrays[half:]  # final, initial

    (final0, initial0), (final1, _), (final, initial) = map(
        weights, (*workers, single)
    )
    assert len(final0) == len(final) > 10
    for a, b in zip(initial0, initial):  # same start as the single process
        np.testing.assert_array_equal(a, b)
    for a, b in zip(final0, final1):  # the processes agree exactly
        np.testing.assert_array_equal(a, b)
    for a, b in zip(final0, final):  # and train like one on the global batch
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    moved = np.array([np.abs(b - s).max() for b, s in zip(final, initial)])
    # Every weight trained but the key bias (the softmax ignores it).
    assert np.sum(moved > 1e-4) == len(moved) - 1, moved
    np.testing.assert_array_equal(workers[0]["loss"], workers[1]["loss"])
    np.testing.assert_allclose(workers[0]["loss"], single["loss"], atol=1e-5)
