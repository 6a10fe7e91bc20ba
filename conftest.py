"""Test session setup: the backend, quiet TensorFlow, two devices.

The suite runs on the backend named by `KERAS_BACKEND` (TensorFlow when
unset); CI runs it on TensorFlow and on JAX. Two devices let the
distribution checks run for real on a CPU: two logical CPUs for
TensorFlow's `MirroredStrategy`, two virtual CPU devices for JAX's
`keras.distribution.DataParallel` (set before JAX starts).

A test marked `@pytest.mark.backends("tensorflow")` runs only on the named
backends: keep it for what only exists there (`tf.data`, `tf.distribute`).

The docstring examples (doctests of `keras_dlparts/`) count as slow: the
fast tier, `pytest -m "not slow"`, leaves them to CI (each compiles a
small model, about 300 s of JAX's fast tier), and tests the same parts
through `tests/`. They and the tests of the example scripts
(`tests/examples/`) run on one backend, `DOCS_AND_EXAMPLES_BACKEND`.

A test marked `@pytest.mark.learning` trains for hundreds of steps to a
quality bar on real data (digits learnt, samples recognised, a
KerasTuner search of several trials): it runs on one backend,
`LEARNING_BACKEND`.
"""

import os
import pathlib

import pytest

EXAMPLE_TESTS = pathlib.Path(__file__).parent / "tests" / "examples"


def _jaxlib_version():
    """The installed jaxlib's version as a tuple, read before JAX starts."""
    from importlib import metadata

    try:
        release = metadata.version("jaxlib").split("+")[0]
    except metadata.PackageNotFoundError:
        return ()
    return tuple(int(part) for part in release.split(".")[:3] if part.isdigit())


os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
if os.environ["KERAS_BACKEND"] == "jax":
    # Two virtual CPU devices, and XLA's backend optimisations off (level
    # 0): the tests' models and batches are tiny, so compiling dominates
    # most tests. The whole JAX run took 27 min at level 0 against about 40
    # at level 1 (the contract tests alone half as long), with the same
    # results. Level 0 runs convolutions several times slower, so the long
    # convolutional training runs to a quality bar (marked `learning`) run
    # in the TensorFlow run. XLA's CPU fusion emitters are turned off too:
    # the older emitters compile a small U-Net's training step 1.6x faster,
    # and run it as fast. Subprocess workers inherit these flags.
    _flags = os.environ.get("XLA_FLAGS", "").split()
    _wanted = [
        "--xla_force_host_platform_device_count=2",
        "--xla_backend_optimization_level=0",
    ]
    if (0, 5, 3) <= _jaxlib_version() < (0, 11):
        # Known from jaxlib 0.5.3 and tried up to 0.10: XLA stops at
        # start-up on a flag it does not know, so a release that drops it
        # must not get it.
        _wanted.append("--xla_cpu_use_fusion_emitters=false")
    for _flag in _wanted:
        if not any(f.split("=")[0] == _flag.split("=")[0] for f in _flags):
            _flags.append(_flag)
    os.environ["XLA_FLAGS"] = " ".join(_flags)

import keras  # noqa: E402

from keras_dlparts.testing import configure_logical_cpus  # noqa: E402

configure_logical_cpus(2)


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "backends(*names): run only on these Keras backends",
    )
    config.addinivalue_line(
        "markers",
        "learning: a long training run to a quality bar, run on "
        "LEARNING_BACKEND only",
    )
    config.addinivalue_line(
        "markers",
        "starts_early: collected first, so that a test of several minutes "
        "starts while the other xdist worker has work left (the U-Net's "
        "contract, 4-8 minutes on the floor JAX)",
    )


#: The backend whose run checks the docstring examples and the example
#: scripts (tests/examples/). They use the parts, which every other test
#: checks on both backends; run once, on JAX, the stricter of the two for a
#: backend-neutral script (a TensorFlow-only call fails there), they leave
#: the TensorFlow run about 5 minutes shorter.
DOCS_AND_EXAMPLES_BACKEND = "jax"

#: The backend whose run trains the tests marked `learning`: long runs to a
#: quality bar, whose steps are the parts' own (each part trains on both
#: backends in its contract, and `tests/models/test_cross_backend_training.py`
#: and `tests/backends/` check that a step gives the same numbers on both).
#: The example scripts make the same kind of demonstration in the JAX run.
#: TensorFlow's run, without the examples and docstrings, is the shorter.
LEARNING_BACKEND = "tensorflow"


def _docs_or_example(item):
    return isinstance(item, pytest.DoctestItem) or EXAMPLE_TESTS in (
        item.path.parents
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    # A stable sort: the tests marked starts_early first, the rest in order.
    items.sort(key=lambda item: item.get_closest_marker("starts_early") is None)
    backend = keras.backend.backend()
    for item in items:
        if isinstance(item, pytest.DoctestItem):
            item.add_marker(pytest.mark.slow)
        if _docs_or_example(item) and backend != DOCS_AND_EXAMPLES_BACKEND:
            item.add_marker(
                pytest.mark.skip(
                    reason="docstring examples and example scripts run in "
                    f"the {DOCS_AND_EXAMPLES_BACKEND} run"
                )
            )
        if item.get_closest_marker("learning") and backend != LEARNING_BACKEND:
            item.add_marker(
                pytest.mark.skip(
                    reason="long training runs to a quality bar run in the "
                    f"{LEARNING_BACKEND} run"
                )
            )
        marker = item.get_closest_marker("backends")
        if marker is not None and backend not in marker.args:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"needs the {' or '.join(marker.args)} backend; "
                    f"running on {backend}"
                )
            )
