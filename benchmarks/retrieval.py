"""Benchmark: exact top-10 search, `NearestNeighborIndex` against peers.

Seeded Gaussian float32 data: `--queries` queries (default 10,000) and,
for each size of `--sizes` (default 100,000), that many reference vectors
of 128 features. For each metric of `--metrics`:

- ours: `keras_dlparts.retrieval.NearestNeighborIndex(metric)` filled
  once (not timed), then `search(queries, k=10)`; the first search, which
  traces and compiles the chunk steps, is reported apart;
- scikit-learn: `NearestNeighbors(algorithm="brute", metric=...)`,
  `kneighbors(queries)` (its own chunking, `working_memory`);
- faiss-cpu: `IndexFlatL2` for "euclidean", `IndexFlatIP` for "cosine"
  (references normalised when added, not timed; the queries' normalising
  is timed). faiss-cpu is optional (`pip install keras_dlparts[benchmark]`):
  without it the script says so and compares with scikit-learn only.

The methods run in one process, interleaved, `--repeats` times (the
largest size once unless `--repeats-large` says otherwise); medians of
wall-clock and of process CPU time (the steadier figure on a shared
machine) are printed with each peer's time over ours (above 1: ours is
faster). Every peer's answer is checked against ours: the ids must be the
same, except where distances tie (within 1e-5 relative), where either
order is right.

Usage: python benchmarks/retrieval.py [--sizes 100000 1000000]
[--queries 10000] [--metrics cosine euclidean] [--repeats 3]
(`--quick`: 1,000 queries over 20,000 references).
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import _steps  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.neighbors import NearestNeighbors  # noqa: E402

from keras_dlparts.retrieval import NearestNeighborIndex  # noqa: E402

try:
    import faiss
except ImportError:  # optional: the `benchmark` extra
    faiss = None

K = 10
FEATURES = 128


def make_data(num_queries, num_references, seed=0):
    rng = np.random.default_rng(seed)
    queries = rng.standard_normal((num_queries, FEATURES), "float32")
    references = rng.standard_normal((num_references, FEATURES), "float32")
    return queries, references


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def methods(metric, references):
    """`{name: search(queries) -> (distances, ids)}`, each built once."""
    ours = NearestNeighborIndex(metric)
    ours.add(references)
    found = {"ours": lambda q: ours.search(q, K)[:2]}
    sklearn = NearestNeighbors(n_neighbors=K, algorithm="brute", metric=metric)
    sklearn.fit(references)
    found["scikit-learn"] = lambda q: sklearn.kneighbors(q)
    if faiss is not None:
        if metric == "cosine":
            index = faiss.IndexFlatIP(FEATURES)
            index.add(_unit(references))

            def search(q):
                scores, ids = index.search(_unit(q), K)
                return 1.0 - scores, ids

        else:
            index = faiss.IndexFlatL2(FEATURES)
            index.add(references)

            def search(q):
                squared, ids = index.search(q, K)
                return np.sqrt(np.maximum(squared, 0.0)), ids

        found["faiss"] = search
    return found


def exact_distances(queries, references, metric):
    """Row-wise distances of paired rows, in float64."""
    q, r = queries.astype("float64"), references.astype("float64")
    if metric == "cosine":
        return 1.0 - np.sum(_unit(q) * _unit(r), axis=1)
    return np.sqrt(np.sum((q - r) ** 2, axis=1))


def same_neighbors(ours, peer, name, queries, references, metric):
    """Ids identical in how many rows; SystemExit unless equal up to ties.

    Where a peer's id differs from ours, its distance to the query (in
    float64) must equal ours at that rank within 1e-4: a tie, in which
    either order is right.
    """
    distances, ids = (np.asarray(a) for a in ours)
    peer_distances, peer_ids = (np.asarray(a) for a in peer)
    if not np.allclose(distances, peer_distances, rtol=1e-4, atol=1e-4):
        worst = np.max(np.abs(distances - peer_distances))
        raise SystemExit(f"{name}'s distances differ from ours by {worst}")
    rows, ranks = np.nonzero(ids != peer_ids)
    exact = exact_distances(
        queries[rows], references[peer_ids[rows, ranks]], metric
    )
    if np.any(np.abs(exact - distances[rows, ranks]) > 1e-4):
        raise SystemExit(f"{name} finds other neighbours than ours")
    if any(len(set(row)) < len(row) for row in peer_ids.tolist()):
        raise SystemExit(f"{name} returns an id twice in a row")
    return len(queries) - len(set(rows.tolist()))


def _timed(fn, queries):
    start, start_cpu = time.perf_counter(), time.process_time()
    result = fn(queries)
    return (time.perf_counter() - start, time.process_time() - start_cpu), (
        result
    )


def benchmark(queries, references, metric, repeats):
    print(
        f"\n{metric}: {len(queries):,} queries, {len(references):,} "
        f"references of {FEATURES} float32, top {K}"
    )
    found = methods(metric, references)
    first, answer = _timed(found["ours"], queries)
    print(
        f"ours, first search (tracing/compiling included): {first[0]:.2f} s "
        f"wall, {first[1]:.2f} s CPU"
    )
    times = {name: [] for name in found}
    for repeat in range(repeats):
        line = []
        for name, search in found.items():
            elapsed, result = _timed(search, queries)
            times[name].append(elapsed)
            line.append(f"{name} {elapsed[0]:.2f} s ({elapsed[1]:.2f} CPU)")
            if name != "ours" and repeat == 0:
                exact = same_neighbors(
                    answer, result, name, queries, references, metric
                )
                print(
                    f"{name} agrees with ours: ids identical in {exact:,} of "
                    f"{len(queries):,} rows, the rest differ only in ties"
                )
        print(f"run {repeat}: " + ", ".join(line))
    for i, kind in enumerate(("wall", "process CPU")):
        medians = {n: statistics.median(t[i] for t in times[n]) for n in times}
        ratios = ", ".join(
            f"{name} {seconds:.2f} s ({seconds / medians['ours']:.2f}x)"
            for name, seconds in medians.items()
            if name != "ours"
        )
        print(
            f"median {kind}: ours {medians['ours']:.2f} s; {ratios} "
            "(peer time / ours)"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--metrics", nargs="+", default=["cosine", "euclidean"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--repeats-large",
        type=int,
        default=1,
        help="repeats at sizes of 1,000,000 and more",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,000 queries over 20,000 references, 2 repeats",
    )
    args = _steps.parse_args(
        parser,
        None,
        {"quick": dict(sizes=[20_000], queries=1_000, repeats=2)},
    )
    print(_steps.describe())
    if faiss is None:
        print(
            "faiss-cpu is NOT installed: comparing with scikit-learn only "
            "(pip install 'keras_dlparts[benchmark]' adds it)"
        )
    else:
        print(
            f"faiss-cpu {faiss.__version__}, {faiss.omp_get_max_threads()} "
            "OpenMP threads"
        )
    for size in args.sizes:
        queries, references = make_data(args.queries, size)
        repeats = args.repeats_large if size >= 1_000_000 else args.repeats
        for metric in args.metrics:
            benchmark(queries, references, metric, repeats)


if __name__ == "__main__":
    main()
