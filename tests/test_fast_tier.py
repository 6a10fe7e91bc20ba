"""The fast tier, `pytest -m "not slow"`, tests every public part.

A public name counts as tested when a test outside `tests/fuzz/` that is
not marked slow refers to it: in its body, in a parametrize entry not
marked slow, or in a helper or fixture it uses (defined in its module, a
`conftest.py` above it, or a module of `tests/` it imports from). The
check reads the test sources with `ast`; it imports no test module.
"""

import ast
import importlib
import inspect
import pathlib
import textwrap

import keras_dlparts

TESTS = pathlib.Path(__file__).resolve().parent
FOLDERS = tuple(n for n in keras_dlparts.__all__ if n != "__version__")
SLOW_MARKS = ("slow", "learning")


def public_names():
    """`{name: folder}` for every public name of every subpackage."""
    names = {}
    for folder in FOLDERS:
        module = importlib.import_module(f"keras_dlparts.{folder}")
        for name, value in vars(module).items():
            if not name.startswith("_") and not inspect.ismodule(value):
                names[name] = folder
    return names


def _is_slow(mark):
    """Whether a mark expression (or a list of them) includes `slow`.

    `learning` counts too: those tests run on one backend only.
    """
    if isinstance(mark, (ast.List, ast.Tuple)):
        return any(_is_slow(m) for m in mark.elts)
    if isinstance(mark, ast.Call):
        mark = mark.func
    if isinstance(mark, ast.Attribute):
        return mark.attr in SLOW_MARKS
    return isinstance(mark, ast.Name) and mark.id in SLOW_MARKS


def _pytestmark_is_slow(body):
    return any(
        isinstance(node, ast.Assign)
        and any(getattr(t, "id", None) == "pytestmark" for t in node.targets)
        and _is_slow(node.value)
        for node in body
    )


def _words(node):
    """Identifiers, attribute names and string constants under `node`."""
    found = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            found.add(sub.id)
        elif isinstance(sub, ast.arg):
            found.add(sub.arg)
        elif isinstance(sub, ast.Attribute):
            found.add(sub.attr)
        elif isinstance(sub, ast.alias):
            found.add(sub.name.rsplit(".", 1)[-1])
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            found.add(sub.value)
    return found


class Module:
    """One test source: its top-level definitions and its test functions."""

    def __init__(self, path, root):
        self.path = path
        self.root = root
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.defs = {}
        for node in self.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                self.defs[node.name] = node
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.defs[target.id] = node.value
            elif isinstance(node, ast.ImportFrom) and node.module:
                source = root / (node.module.replace(".", "/") + ".py")
                for alias in node.names:
                    self.defs.setdefault(alias.asname or alias.name, source)

    def tests(self):
        """`(function, marked_slow)` for every test function."""
        slow = _pytestmark_is_slow(self.tree.body)
        for node in self.tree.body:
            if isinstance(node, ast.FunctionDef):
                if node.name.startswith("test"):
                    yield node, slow
            elif isinstance(node, ast.ClassDef) and node.name.startswith(
                "Test"
            ):
                in_slow = (
                    slow
                    or any(_is_slow(d) for d in node.decorator_list)
                    or _pytestmark_is_slow(node.body)
                )
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef) and sub.name.startswith(
                        "test"
                    ):
                        yield sub, in_slow

    def fast_entries(self, values):
        """The parametrize entries of `values` not marked slow."""
        if isinstance(values, ast.Name) and isinstance(
            self.defs.get(values.id), (ast.List, ast.Tuple)
        ):
            values = self.defs[values.id]
        if not isinstance(values, (ast.List, ast.Tuple)):
            return [values]
        return [
            entry
            for entry in values.elts
            if not (
                isinstance(entry, ast.Call)
                and getattr(entry.func, "attr", None) == "param"
                and any(
                    k.arg == "marks" and _is_slow(k.value)
                    for k in entry.keywords
                )
            )
        ]


class Index:
    """Every test source under `root`, parsed once."""

    def __init__(self, root, skip=("fuzz",)):
        self.root = pathlib.Path(root)
        self.modules = {}
        for path in sorted(self.root.rglob("*.py")):
            parts = path.relative_to(self.root).parts
            if parts[0] not in skip:
                self.modules[path] = Module(path, self.root)

    def _conftests(self, path):
        folder = path.parent
        while True:
            conftest = self.modules.get(folder / "conftest.py")
            if conftest is not None:
                yield conftest
            if folder == self.root:
                return
            folder = folder.parent

    def _expand(self, module, words, seen):
        """`words` plus those of the helpers and fixtures they name."""
        found = set(words)
        scopes = [module, *self._conftests(module.path)]
        for word in words:
            for scope in scopes:
                target = scope.defs.get(word)
                if isinstance(target, pathlib.Path):
                    helper = self.modules.get(target)
                    if helper is None or word not in helper.defs:
                        break
                    scope, target = helper, helper.defs[word]
                if target is None or isinstance(target, pathlib.Path):
                    continue
                if (scope.path, word) not in seen:
                    seen.add((scope.path, word))
                    found |= self._expand(scope, _words(target), seen)
                break
        return found

    def fast_references(self):
        """Every word a test not marked slow refers to, helpers included."""
        found = set()
        for path, module in self.modules.items():
            if not path.name.startswith("test_"):
                continue
            for function, slow in module.tests():
                words = self._fast_words(module, function, slow)
                if words is not None:
                    seen = {(path, function.name)}
                    found |= self._expand(module, words, seen)
        return found

    def _fast_words(self, module, function, slow):
        if slow or any(_is_slow(d) for d in function.decorator_list):
            return None
        words = set()
        for decorator in function.decorator_list:
            if (
                isinstance(decorator, ast.Call)
                and getattr(decorator.func, "attr", None) == "parametrize"
                and len(decorator.args) > 1
            ):
                entries = module.fast_entries(decorator.args[1])
                if not entries:
                    return None
                for entry in entries:
                    words |= _words(entry)
            else:
                words |= _words(decorator)
        words |= _words(function.args)
        for statement in function.body:
            words |= _words(statement)
        return words


def uncovered(names, root=TESTS):
    """The names of `names` no fast test under `root` refers to."""
    references = Index(root).fast_references()
    return sorted(n for n in names if n not in references)


def test_every_public_name_has_a_fast_test():
    names = public_names()
    missing = [f"{names[n]}.{n}" for n in uncovered(names)]
    assert not missing, (
        'No test outside tests/fuzz/ in the fast tier (-m "not slow") '
        f"refers to {missing}: give each a quick test not marked slow"
    )


FAKE_TESTS = {
    "conftest.py": """
        import pytest

        @pytest.fixture
        def made():
            return Fixtured()
    """,
    "support/helpers.py": """
        def build():
            return Imported()
    """,
    "fuzz/test_fuzz.py": """
        def test_fuzz():
            Fuzzed()
    """,
    "parts/test_parts.py": """
        import pytest
        from support.helpers import build

        CASES = [pytest.param(SlowCase, marks=pytest.mark.slow), FastCase]

        def helper():
            return Helped()

        def test_plain(made):
            helper()
            build()
            Direct()

        @pytest.mark.slow
        def test_slow():
            Slow()

        @pytest.mark.parametrize("cls", CASES)
        def test_cases(cls):
            cls()

        @pytest.mark.parametrize(
            "cls", [pytest.param(AllSlow, marks=[pytest.mark.slow])]
        )
        def test_all_slow(cls):
            AlsoSlow()

        @pytest.mark.slow
        class TestSlowClass:
            def test_method(self):
                InSlowClass()

        class TestClass:
            pytestmark = pytest.mark.slow

            def test_method(self):
                InMarkedClass()
    """,
    "parts/test_marked_module.py": """
        import pytest

        pytestmark = [pytest.mark.slow]

        def test_marked():
            InMarkedModule()
    """,
}


def test_the_check_sees_slow_marks_helpers_and_fixtures(tmp_path):
    for name, source in FAKE_TESTS.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    covered = {"Direct", "Helped", "Fixtured", "Imported", "FastCase"}
    refused = {
        "Fuzzed",
        "Slow",
        "SlowCase",
        "AllSlow",
        "AlsoSlow",
        "InSlowClass",
        "InMarkedClass",
        "InMarkedModule",
    }
    assert uncovered(covered | refused, tmp_path) == sorted(refused)
