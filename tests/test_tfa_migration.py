"""docs/tfa_migration.md lists every TFA 0.23 name, each with a real home.

The list is docs/tfa_migration.csv; docs/gen_tfa_migration.py writes the
page's table from it. The counts per subpackage are those of TFA 0.23.0's
`__init__.py` files (`python docs/gen_tfa_migration.py --tfa DIR` compares
the names one by one with an unpacked wheel).
"""

import importlib
import importlib.util
import pathlib

import keras
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

TFA_0_23_COUNTS = {
    "layers": 28,
    "losses": 21,
    "optimizers": 23,
    "metrics": 16,
    "callbacks": 3,
    "activations": 9,
    "image": 26,
    "text": 19,
    "seq2seq": 32,
    "rnn": 5,
}


def _generator():
    path = ROOT / "docs" / "gen_tfa_migration.py"
    spec = importlib.util.spec_from_file_location("gen_tfa_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()
ENTRIES = GEN.read_entries()


def _resolve(dotted):
    """The object a dotted name names, importing its longest module."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _version(text):
    return tuple(int(p) for p in text.split(".")[:2])


def _targets(prefix):
    return sorted(
        {
            (t, e["since"])
            for e in ENTRIES
            for t in e["targets"]
            if t.split(".")[0] == prefix
        }
    )


def test_page_table_is_the_generated_one():
    page = (ROOT / "docs" / "tfa_migration.md").read_text(encoding="utf-8")
    assert GEN.rewrite(page, GEN.render(ENTRIES)) == page, (
        "docs/tfa_migration.md is stale: run python docs/gen_tfa_migration.py"
    )
    assert f"All {len(ENTRIES)} public names" in page


def test_every_subpackage_is_complete():
    counts = {sub: 0 for sub in TFA_0_23_COUNTS}
    for e in ENTRIES:
        counts[e["tfa_name"].split(".")[1]] += 1
    assert counts == TFA_0_23_COUNTS
    # The porting notes above the table name only TFA parts that the list
    # holds (or parts of other packages, such as tf.contrib or tfmot).
    names = {e["tfa_name"] for e in ENTRIES}
    page = (ROOT / "docs" / "tfa_migration.md").read_text(encoding="utf-8")
    notes = page.split("<!-- tfa-names:begin")[0]
    for word in notes.replace("(", " ").replace("`", " ").split():
        if word.startswith("tfa.") and word.count(".") == 2:
            assert word.rstrip(",") in names, word


def test_homes_with_a_target_and_no_home_with_a_reason():
    by_name = {e["tfa_name"]: e for e in ENTRIES}
    for e in ENTRIES:
        note = e["note"]
        if note.startswith("as `"):
            # "as `other`": the same answer as another entry, which must
            # exist (a short name is in the same subpackage) with this home.
            other = note.split("`")[1]
            if not other.startswith("tfa."):
                other = e["tfa_name"].rsplit(".", 1)[0] + "." + other
            assert by_name[other]["home"] == e["home"], e
            assert not by_name[other]["note"].startswith("as `"), e
        elif e["home"] == "none":
            assert len(note.split()) >= 4, e
        if e["home"] != "none":
            assert any(t.startswith(e["home"] + ".") for t in e["targets"])


@pytest.mark.parametrize("prefix", ["keras", "keras_dlparts"])
def test_targets_import(prefix):
    installed = _version(keras.version())
    checked = 0
    for target, since in _targets(prefix):
        if since and installed < _version(since):
            continue
        obj = _resolve(target)
        assert obj is not None, target
        checked += 1
    assert checked > 20


def test_keras_hub_targets_import():
    pytest.importorskip("keras_hub")
    for target, _ in _targets("keras_hub"):
        _resolve(target)


def test_read_entries_refuses_bad_rows(tmp_path):
    header = ",".join(GEN.COLUMNS) + "\n"
    bad_rows = {
        "tfa.layer.GELU,keras,keras.layers.Activation,,x": "subpackage",
        "tfa.layers.GELU,tf,keras.layers.Activation,,x": "home",
        "tfa.layers.GELU,keras,,,x": "needs a target",
        "tfa.layers.GELU,none,,,": "needs a note",
    }
    for row, message in bad_rows.items():
        path = tmp_path / "bad.csv"
        path.write_text(header + row + "\n")
        with pytest.raises(ValueError, match=message):
            GEN.read_entries(path)


def test_tfa_public_names_parses_init_files(tmp_path):
    for sub in GEN.SUBPACKAGES:
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "__init__.py").write_text(
            '"""Doc."""\n'
            f"from tensorflow_addons.{sub} import mod\n"
            f"from tensorflow_addons.{sub}.mod import (\n    A,\n    b,\n)\n"
            "from x import _private\n"
        )
    names = GEN.tfa_public_names(tmp_path)
    assert names == {sub: ["mod", "A", "b"] for sub in GEN.SUBPACKAGES}
