from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest

import data_loaders as dl

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def examples(tmp_path) -> Path:
    """A writable copy of data_loaders/_examples (tests corrupt files in it)."""
    target = tmp_path / "examples"
    shutil.copytree(dl.example_file("maf").parent, target, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return target


def _rewrite(path: Path, edit) -> Path:
    """Apply ``edit`` (list of lines -> list of lines) to a text file, keeping LF endings."""
    lines = path.read_text().split("\n")
    path.write_text("\n".join(edit(lines)))
    return path


@pytest.fixture
def rewrite():
    return _rewrite
