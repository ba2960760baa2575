"""Documentation hygiene: vignettes committed without outputs, docs pages present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
NOTEBOOKS = sorted((ROOT / "vignettes").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_vignette_committed_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: clear outputs (jupyter nbconvert --clear-output --inplace)"
            assert cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_vignette_listed_in_docs(path):
    assert path.name in (ROOT / "docs" / "vignettes.md").read_text(), f"add {path.name} to docs/vignettes.md"


def test_readme_has_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e . && radiogenomics demo" in readme
    assert 'pip install -e ".[test]" && python -m pytest' in readme
    assert "python -m pytest" in (ROOT / ".ci" / "run").read_text()
