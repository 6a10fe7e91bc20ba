"""benchmarks/retrieval.py: its answer check, and a tiny run of it."""

import pathlib
import sys

import numpy as np
import pytest
from support.examples import load_script

BENCHMARKS = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def script():
    sys.path.insert(0, str(BENCHMARKS))  # the script imports `_steps`
    try:
        yield load_script("benchmarks/retrieval.py")
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_the_check_allows_ties_only(script):
    queries = np.array([[0.0, 0.0]], "float32")
    references = np.array([[1, 0], [0, 1], [3, 0]], "float32")  # 0, 1 tie
    ours = (np.array([[1.0, 1.0, 3.0]]), np.array([[0, 1, 2]]))
    swapped = (ours[0], np.array([[1, 0, 2]]))
    wrong = (ours[0], np.array([[0, 2, 1]]))
    check = script.same_neighbors
    assert check(ours, ours, "peer", queries, references, "euclidean") == 1
    assert check(ours, swapped, "peer", queries, references, "euclidean") == 0
    with pytest.raises(SystemExit, match="other neighbours"):
        check(ours, wrong, "peer", queries, references, "euclidean")


def test_a_tiny_run_says_when_faiss_is_missing(script, monkeypatch, capsys):
    monkeypatch.setattr(script, "faiss", None)
    argv = ["retrieval.py", "--sizes", "300", "--queries", "20"]
    monkeypatch.setattr(sys, "argv", argv + ["--repeats", "1"])
    script.main()
    out = capsys.readouterr().out
    assert "faiss-cpu is NOT installed" in out
    assert out.count("scikit-learn agrees with ours") == 2  # both metrics
    assert "median process CPU: ours" in out
