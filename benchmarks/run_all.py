"""Reruns the benchmarks on both backends and refreshes docs/benchmarks.md.

    python benchmarks/run_all.py                # every script, both backends
    python benchmarks/run_all.py attention som  # some of them
    python benchmarks/run_all.py --quick        # small shapes, few repeats
    python benchmarks/run_all.py --backend jax lstm # one backend

Each script runs once per backend, in its own subprocess with
`KERAS_BACKEND` set (TensorFlow, then JAX), and its printed report replaces
the block between `<!-- begin output: NAME/BACKEND -->` and
`<!-- end output: NAME/BACKEND -->` in docs/benchmarks.md (the prose around
the blocks is kept), together with the command, the date and the machine
it ran on. A script that fails leaves its error in its block, the others
still run, and the runner exits with status 1. Not a test: run it by hand,
on a quiet machine for figures worth quoting.
"""

import argparse
import datetime
import os
import pathlib
import platform
import re
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
SCRIPTS = (
    "attention",
    "long_attention",
    "lstm",
    "resnet",
    "som",
    "diffusion",
    "retrieval",
)
BACKENDS = ("tensorflow", "jax")


def machine():
    cores = os.cpu_count()
    try:
        load = ", load average {:.1f}".format(os.getloadavg()[0])
    except OSError:
        load = ""
    return (
        f"{platform.machine()} {platform.processor() or 'CPU'}, {cores} cores"
        f"{load}, Python {platform.python_version()}"
    )


def command(name, backend=None, quick=False):
    """The shell command that reruns one block."""
    env = f"KERAS_BACKEND={backend} " if backend else ""
    return f"{env}python benchmarks/{name}.py" + (" --quick" if quick else "")


def run(name, backend, quick=False):
    """(succeeded, report) of `benchmarks/NAME.py` under `backend`."""
    env = dict(
        os.environ,
        KERAS_BACKEND=backend,
        TF_CPP_MIN_LOG_LEVEL="2",
        PYTHONUNBUFFERED="1",
    )
    argv = [sys.executable, str(ROOT / "benchmarks" / f"{name}.py")]
    done = subprocess.run(
        argv + (["--quick"] if quick else []),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    output = done.stdout.strip()
    if done.returncode != 0:
        output += (
            f"\nFAILED with exit status {done.returncode}:\n"
            + done.stderr.strip()[-2000:]
        )
        return False, output
    return True, output


def replace_block(text, name, output, command=None):
    """`text` with the output block of `name` replaced (or appended).

    `name` is the block's key (`attention/jax`); `command` the command line
    shown above the output (default `python benchmarks/NAME.py`).
    """
    stamp = datetime.date.today().isoformat()
    command = command or f"python benchmarks/{name}.py"
    block = (
        f"<!-- begin output: {name} -->\n"
        f"Output of `{command}` on {stamp} ({machine()}):\n\n"
        f"```text\n{output}\n```\n"
        f"<!-- end output: {name} -->"
    )
    pattern = re.compile(
        rf"<!-- begin output: {re.escape(name)} -->.*?"
        rf"<!-- end output: {re.escape(name)} -->",
        re.DOTALL,
    )
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip() + f"\n\n### Latest output: {name}\n\n{block}\n"


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "names",
        nargs="*",
        metavar="NAME",
        help=f"scripts to run (default: all of {SCRIPTS})",
    )
    parser.add_argument(
        "--backend",
        action="append",
        choices=BACKENDS,
        help="backend to run on (repeatable; default: both)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="pass --quick to every script (small shapes)",
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in SCRIPTS]
    if unknown:
        parser.error(f"unknown scripts {unknown}; choose from {SCRIPTS}")
    return args


def main(argv=None):
    args = parse_args(argv)
    failed = []
    for name in args.names or SCRIPTS:
        for backend in args.backend or BACKENDS:
            shown = command(name, backend, args.quick)
            print(f"running {shown} ...", flush=True)
            start = time.perf_counter()
            ok, output = run(name, backend, args.quick)
            output += f"\n(whole run {time.perf_counter() - start:.0f} s)"
            DOC.write_text(
                replace_block(
                    DOC.read_text(), f"{name}/{backend}", output, shown
                )
            )
            print(output, flush=True)
            if not ok:
                failed.append(shown)
    if failed:
        raise SystemExit("failed: " + "; ".join(failed))


if __name__ == "__main__":
    main()
