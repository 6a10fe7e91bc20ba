"""Keras's own test file for a layer we claim to replace, run against ours.

`keras_dlparts.layers.MultiHeadAttention` is documented as a drop-in for
`keras.layers.MultiHeadAttention`. This test copies Keras's
`multi_head_attention_test.py` from the installed Keras, swaps only the
class (and, where ours words an error differently, the expected message),
and runs it in a subprocess on the current backend. A new Keras release
that changes the layer's contract (or moves the file) fails here at once.
"""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

#: Keras's test file, relative to the `keras/src` package.
MHA_TEST = "layers/attention/multi_head_attention_test.py"

#: The number of tests in that file for the installed Keras (3.15); two
#: skip on TensorFlow (flash attention).
MHA_TEST_COUNT = 50

#: (Keras's text, ours): where ours words an error differently. Ours says
#: "Argument `num_heads` must be a positive integer" and, as everywhere in
#: keras_dlparts, raises TypeError for a value of the wrong type (1.5).
MHA_WORDING = tuple(
    (
        f'assertRaisesRegex(ValueError, "argument `{name}`")',
        f'assertRaisesRegex((TypeError, ValueError), "Argument `{name}`")',
    )
    for name in ("num_heads", "key_dim", "value_dim")
)

_HEADER = "from keras_dlparts.layers import MultiHeadAttention as _OurMHA\n"


def _keras_file(relative):
    spec = importlib.util.find_spec("keras")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("Keras is not installed: cannot find its test files.")
    root = pathlib.Path(list(spec.submodule_search_locations)[0])
    path = root / "src" / relative
    if not path.is_file():
        pytest.fail(
            f"Keras's test file {relative} is missing from the installed "
            f"Keras ({root}); Keras moved or dropped it: update this test."
        )
    return path


def _swapped(source, class_ref, replacements):
    """`source` with `class_ref` replaced by ours and the wording edits."""
    count = source.count(class_ref)
    if count == 0:
        pytest.fail(f"Keras's test file no longer uses {class_ref}.")
    source = source.replace(class_ref, "_OurMHA")
    for theirs, ours in replacements:
        if theirs not in source:
            pytest.fail(
                "Keras's test file changed: the expected text "
                f"{theirs!r} is gone; review the wording edits here."
            )
        source = source.replace(theirs, ours)
    return _HEADER + source


def _run(path, cwd, timeout=1200):
    env = dict(os.environ)
    repo = pathlib.Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(
        [str(repo), env.get("PYTHONPATH", "")]
    ).rstrip(os.pathsep)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:xdist",
            "-p",
            "no:cacheprovider",
            "-q",
            "-o",
            "addopts=",
            "--rootdir",
            str(cwd),
            str(path),
        ],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return result.returncode, result.stdout + result.stderr


def _counts(output):
    """{'passed': n, 'failed': n, 'skipped': n, ...} from pytest's summary."""
    return {
        word: int(number)
        for number, word in re.findall(r"(\d+) (\w+)", output.splitlines()[-1])
    }


@pytest.mark.slow
def test_keras_multi_head_attention_tests_pass_against_ours(tmp_path):
    source = _keras_file(MHA_TEST).read_text()
    path = tmp_path / "test_keras_mha_against_ours.py"
    path.write_text(_swapped(source, "layers.MultiHeadAttention", MHA_WORDING))
    code, output = _run(path, tmp_path)
    counts = _counts(output)
    ran = sum(counts.get(k, 0) for k in ("passed", "failed", "skipped"))
    assert code == 0 and counts.get("failed", 0) == 0, (
        "Keras's MultiHeadAttention tests fail against ours:\n" + output[-6000:]
    )
    assert ran == MHA_TEST_COUNT, (
        f"Keras's {MHA_TEST} now has {ran} tests, not {MHA_TEST_COUNT}: a "
        "new Keras changed the layer's contract; review it and update "
        f"MHA_TEST_COUNT.\n{output[-2000:]}"
    )
