"""Reruns the benchmarks and refreshes their output in docs/benchmarks.md.

    python benchmarks/run_all.py                 # every script below
    python benchmarks/run_all.py attention som   # some of them

Each script's printed report replaces the block between
`<!-- begin output: NAME -->` and `<!-- end output: NAME -->` in
docs/benchmarks.md (the prose around the blocks is kept), together with the
date and the machine it ran on. Not a test: run it by hand on a quiet machine.
"""

import datetime
import os
import pathlib
import platform
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
#: Scripts run by default (attention_jax.py needs a GPU and JAX: run it by name).
SCRIPTS = ("attention", "lstm", "resnet", "som", "diffusion")


def machine():
    cores = os.cpu_count()
    return f"{platform.machine()} {platform.processor() or 'CPU'}, {cores} cores, Python {platform.python_version()}"


def run(name):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1")
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / f"{name}.py")],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"benchmarks/{name}.py failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip()


def replace_block(text, name, output):
    """`text` with the output block of `name` replaced (or appended)."""
    stamp = datetime.date.today().isoformat()
    block = (
        f"<!-- begin output: {name} -->\n"
        f"Output of `python benchmarks/{name}.py` on {stamp} ({machine()}):\n\n"
        f"```text\n{output}\n```\n"
        f"<!-- end output: {name} -->"
    )
    pattern = re.compile(
        rf"<!-- begin output: {re.escape(name)} -->.*?<!-- end output: {re.escape(name)} -->",
        re.DOTALL,
    )
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    return text.rstrip() + f"\n\n### Latest output: {name}\n\n{block}\n"


def main(names):
    for name in names or SCRIPTS:
        print(f"running benchmarks/{name}.py ...", flush=True)
        output = run(name)
        DOC.write_text(replace_block(DOC.read_text(), name, output))
        print(output)


if __name__ == "__main__":
    main(sys.argv[1:])
