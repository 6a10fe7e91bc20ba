"""benchmarks/run_all.py rewrites only the output blocks of
docs/benchmarks.md."""

from support.examples import load_script

run_all = load_script("benchmarks/run_all.py")


def test_replace_block_keeps_the_prose_and_swaps_the_output():
    text = (
        "# Benchmarks\n\nProse about attention.\n\n"
        "<!-- begin output: attention -->\nold numbers\n"
        "<!-- end output: attention -->\n\n"
        "More prose.\n"
    )
    new = run_all.replace_block(text, "attention", "ratio 1.01")
    assert "old numbers" not in new and "ratio 1.01" in new
    assert new.startswith(
        "# Benchmarks\n\nProse about attention."
    ) and new.endswith("More prose.\n")
    assert new.count("<!-- begin output: attention -->") == 1


def test_replace_block_appends_a_missing_block():
    new = run_all.replace_block("# Benchmarks\n", "som", "10x faster")
    assert "### Latest output: som" in new and "10x faster" in new
    assert "<!-- end output: som -->" in new
