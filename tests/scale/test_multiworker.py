"""Two worker processes on 127.0.0.1 train one model with
`MultiWorkerMirroredStrategy` and end with identical weights."""

import json
import os
import pathlib
import socket
import subprocess
import sys

import numpy as np
import pytest

WORKER = pathlib.Path(__file__).with_name("multiworker_worker.py")


def free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow
@pytest.mark.backends("tensorflow")  # tf.distribute exists only there
def test_two_workers_end_with_identical_weights(tmp_path):
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(2):
        env = dict(os.environ)
        env["TF_CONFIG"] = json.dumps(
            {
                "cluster": {"worker": workers},
                "task": {"type": "worker", "index": index},
            }
        )
        env["CUDA_VISIBLE_DEVICES"] = ""
        processes.append(
            subprocess.Popen(
                [
                    sys.executable,
                    str(WORKER),
                    "--out",
                    str(tmp_path / f"worker{index}.npz"),
                ],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=300)[0] for p in processes]
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output[-3000:]

    results = [np.load(tmp_path / f"worker{i}.npz") for i in range(2)]
    assert int(results[0]["replicas"]) == 2  # one replica per worker
    weights = [[r[k] for k in r.files if k.startswith("arr_")] for r in results]
    assert len(weights[0]) == len(weights[1]) > 10
    for a, b in zip(*weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(results[0]["loss"], results[1]["loss"])
    assert results[0]["loss"][-1] < results[0]["loss"][0]
