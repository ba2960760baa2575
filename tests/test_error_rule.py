"""One rule for errors: the package raises its own typed errors, never a bare built-in exception."""

from __future__ import annotations

import ast
import builtins
import inspect
from pathlib import Path

import pytest

from radiogenomics import errors

ROOT = Path(__file__).parents[1]
BUILTIN_ERRORS = {
    name for name, obj in vars(builtins).items() if inspect.isclass(obj) and issubclass(obj, BaseException)
}
# Deliberate bare raises: (file, exception) -> reason.
ALLOWED = {
    ("radiogenomics/__init__.py", "AttributeError"): "module __getattr__ (PEP 562) must raise AttributeError",
    (
        "radiogenomics/datasets/_synthetic.py",
        "RuntimeError",
    ): "internal invariant of the generator, not reachable by user input",
    ("radiogenomics/cli.py", "SystemExit"): "python -m radiogenomics.cli passes main()'s exit status to the shell",
}


def _bare_raises(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Raise) or node.exc is None:
            continue
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        if isinstance(exc, ast.Name) and exc.id in BUILTIN_ERRORS:
            yield node.lineno, exc.id


def _sources():
    for package in ("radiogenomics", "data_loaders"):
        yield from sorted((ROOT / package).rglob("*.py"))


def test_no_bare_builtin_raise_in_the_package():
    found = []
    for path in _sources():
        rel = path.relative_to(ROOT).as_posix()
        found += [f"{rel}:{line} raise {name}" for line, name in _bare_raises(path) if (rel, name) not in ALLOWED]
    assert not found, "raise the matching class from radiogenomics.errors instead:\n" + "\n".join(found)


def test_allow_list_entries_are_used_and_explained():
    for (rel, name), reason in ALLOWED.items():
        assert len(reason) > 20, f"{rel}: give a reason for allowing {name}"
        assert any(n == name for _, n in _bare_raises(ROOT / rel)), f"{rel} no longer raises {name}: drop the entry"


def test_the_scan_finds_a_bare_raise(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x):\n    if x:\n        raise ValueError('no')\n    raise errors.ParameterError('ok')\n")
    assert list(_bare_raises(bad)) == [(3, "ValueError")]


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_subclasses_the_base_and_a_builtin(name):
    cls = getattr(errors, name)
    assert issubclass(cls, errors.RadiogenomicsError)
    if cls is not errors.RadiogenomicsError:
        assert any(base.__name__ in BUILTIN_ERRORS and base is not Exception for base in cls.__mro__[1:]), name
