"""Writes the name table of docs/tfa_migration.md from docs/tfa_migration.csv.

The CSV holds one row per public name of TensorFlow Addons 0.23.0, in the
order of its subpackage's `__init__.py`:

- `tfa_name`: the TFA name, e.g. `tfa.layers.GELU`;
- `home`: `keras` (Keras core), `keras_hub`, `keras_dlparts` or `none`;
- `targets`: space-separated dotted names of the replacement (for `none`,
  the nearest parts, possibly empty);
- `since`: the first Keras version with the targets, where newer than this
  package's floor (empty otherwise);
- `note`: how to port, or for `none` why there is no home.

Usage, from the repository root:

    python docs/gen_tfa_migration.py            # rewrite the table
    python docs/gen_tfa_migration.py --check    # exit 1 if it is stale
    python docs/gen_tfa_migration.py --tfa DIR  # compare the CSV's names
                                                # with an unpacked TFA wheel

`--tfa` takes the `tensorflow_addons` folder of the wheel
(`pip download tensorflow-addons==0.23.0 --no-deps`, then unzip) and parses
each subpackage's `__init__.py` without importing TFA.
"""

import argparse
import ast
import csv
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
DATA = HERE / "tfa_migration.csv"
PAGE = HERE / "tfa_migration.md"
COLUMNS = ("tfa_name", "home", "targets", "since", "note")
SUBPACKAGES = (
    "layers",
    "losses",
    "optimizers",
    "metrics",
    "callbacks",
    "activations",
    "image",
    "text",
    "seq2seq",
    "rnn",
)
HOMES = {
    "keras": "Keras",
    "keras_hub": "keras-hub",
    "keras_dlparts": "keras_dlparts",
    "none": "no home",
}
BEGIN = (
    "<!-- tfa-names:begin (written by docs/gen_tfa_migration.py from "
    "docs/tfa_migration.csv; edit the CSV, not this block) -->"
)
END = "<!-- tfa-names:end -->"


def read_entries(path=DATA):
    """The CSV's rows as dicts, checked; `targets` split into a list."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(
                f"{path}: expected the columns {COLUMNS}, "
                f"got {reader.fieldnames}"
            )
        entries = []
        seen = set()
        for line, row in enumerate(reader, start=2):
            entry = dict(row, targets=row["targets"].split())
            _check_entry(entry, f"{path}:{line}")
            if entry["tfa_name"] in seen:
                raise ValueError(
                    f"{path}:{line}: {entry['tfa_name']} is listed twice"
                )
            seen.add(entry["tfa_name"])
            entries.append(entry)
    return entries


def _check_entry(entry, where):
    parts = entry["tfa_name"].split(".")
    if len(parts) != 3 or parts[0] != "tfa" or parts[1] not in SUBPACKAGES:
        raise ValueError(
            f"{where}: expected a name tfa.<subpackage>.<name> with a "
            f"subpackage in {SUBPACKAGES}, got {entry['tfa_name']!r}"
        )
    if entry["home"] not in HOMES:
        raise ValueError(
            f"{where}: expected a home in {tuple(HOMES)}, got {entry['home']!r}"
        )
    if not entry["note"].strip():
        raise ValueError(f"{where}: {entry['tfa_name']} needs a note")
    if "|" in entry["note"]:
        raise ValueError(f"{where}: a note cannot hold '|' (a table cell)")
    home = entry["home"]
    if home != "none" and not any(
        t.split(".")[0] == home for t in entry["targets"]
    ):
        raise ValueError(
            f"{where}: home {home!r} needs a target in {home}, "
            f"got {entry['targets']}"
        )


def _cell_targets(entry):
    names = ", ".join(f"`{t}`" for t in entry["targets"])
    if entry["home"] == "none":
        return f"nearest: {names}" if names else "–"
    return names


def render(entries):
    """The generated block of the page, markers included."""
    lines = [BEGIN, ""]
    for subpackage in SUBPACKAGES:
        rows = [e for e in entries if e["tfa_name"].split(".")[1] == subpackage]
        homes = {h: sum(e["home"] == h for e in rows) for h in HOMES}
        summary = ", ".join(
            f"{count} {HOMES[h]}" for h, count in homes.items() if count
        )
        lines += [
            f"### tfa.{subpackage} ({len(rows)} names: {summary})",
            "",
            "| TensorFlow Addons | home | replacement | note |",
            "| --- | --- | --- | --- |",
        ]
        for e in rows:
            note = e["note"]
            if e["since"]:
                note += f" (Keras {e['since']}+)"
            lines.append(
                f"| `{e['tfa_name']}` | {HOMES[e['home']]} "
                f"| {_cell_targets(e)} | {note} |"
            )
        lines.append("")
    lines.append(END)
    return "\n".join(lines) + "\n"


def rewrite(page, block):
    """`page` with its generated block replaced by `block`."""
    start = page.find(BEGIN)
    stop = page.find(END)
    if start < 0 or stop < start:
        raise ValueError(
            f"the page needs the markers {BEGIN!r} and {END!r}, in order"
        )
    rest = page[stop + len(END) :]
    return page[:start] + block + rest.removeprefix("\n")


def tfa_public_names(package_dir):
    """{subpackage: [names]} bound by the imports of each `__init__.py`."""
    names = {}
    for subpackage in SUBPACKAGES:
        path = pathlib.Path(package_dir) / subpackage / "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found = []
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    name = alias.asname or alias.name.split(".")[0]
                    if not name.startswith("_") and name not in found:
                        found.append(name)
        names[subpackage] = found
    return names


def compare_with_tfa(entries, package_dir):
    """Lines naming what the CSV lacks or has beyond the wheel's names."""
    ours = [e["tfa_name"] for e in entries]
    theirs = [
        f"tfa.{sub}.{name}"
        for sub, found in tfa_public_names(package_dir).items()
        for name in found
    ]
    return [f"missing from the CSV: {n}" for n in theirs if n not in ours] + [
        f"not in TFA: {n}" for n in ours if n not in theirs
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--tfa", metavar="DIR")
    args = parser.parse_args(argv)
    entries = read_entries()
    if args.tfa:
        problems = compare_with_tfa(entries, args.tfa)
        print("\n".join(problems) or f"all {len(entries)} names match")
        return 1 if problems else 0
    page = PAGE.read_text(encoding="utf-8")
    new_page = rewrite(page, render(entries))
    if args.check:
        if new_page != page:
            print(f"{PAGE} is stale: run python {pathlib.Path(__file__).name}")
            return 1
        return 0
    PAGE.write_text(new_page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
