"""Documentation hygiene: vignettes committed without outputs, docs pages present, the study page complete against the schema."""

from __future__ import annotations

import json
import re
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


def _study_doc_rows() -> dict[str, str]:
    """Rows of the tables in docs/study.md, keyed on their first cell (a backticked key)."""
    rows = {}
    for line in (ROOT / "docs" / "study.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 2:
            rows[cells[0].strip("`")] = " | ".join(cells[1:])
    return rows


def _documented_default(row: str, field: str) -> str | None:
    """The text in parentheses right after `field` in a table row, without backticks; None if absent."""
    start = row.find(f"`{field}` (")
    if start < 0:
        return None
    depth, i = 0, start + len(field) + 4
    for j in range(i, len(row)):
        depth += {"(": 1, ")": -1}.get(row[j], 0)
        if depth < 0:
            return row[i:j].split(";")[0].replace("`", "")  # "default; other values"
    return None


def _as_doc_text(value) -> str | None:
    """How a scalar or list-of-scalars default is written in the docs; None for others."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float, str)):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return "[" + ", ".join(value) + "]"
    return None


def test_study_page_documents_every_schema_key():
    """docs/study.md has a row per top-level key, input and step, naming every key of each model."""
    from radiogenomics.study._schema import (
        STEP_MODELS,
        ClinicalColumns,
        ClinicalInput,
        FileInput,
        ImagesInput,
        Inputs,
        ReportOptions,
        Study,
    )

    rows = _study_doc_rows()
    missing = [k for k in Study.model_fields if k not in rows]
    missing += [k for k in Inputs.model_fields if k != "dataset_options" and k not in rows]
    missing += [f"steps.{k}" for k in STEP_MODELS if k not in rows]
    assert not missing, f"docs/study.md: add a table row for {missing}"
    where = {
        "report": [ReportOptions],
        "dataset": [Inputs],  # dataset_options is described in the dataset row
        "images": [ImagesInput],
        "radiomics": [FileInput],
        "omics": [FileInput],
        "clinical": [ClinicalInput, ClinicalColumns],
    }
    where.update({name: [model] for name, model in STEP_MODELS.items()})
    unnamed = []
    for row_key, models in where.items():
        text = rows[row_key] if row_key not in ("radiomics", "omics") else rows["radiomics"] + rows["omics"]
        if row_key == "dataset":
            fields = ["dataset_options"]
        else:
            fields = [f for m in models for f in m.model_fields if m is not ClinicalInput or f != "columns"]
        unnamed += [f"{row_key}.{f}" for f in fields if f"`{f}`" not in text]
    assert not unnamed, f"docs/study.md does not name these study-file keys: {unnamed}"
    stale = [k for k in rows if k in ("pair", "export") and k not in STEP_MODELS]
    assert not stale


def test_study_page_defaults_match_the_schema():
    """Every default written as `key` (value) in the steps table equals the schema's default."""
    from pydantic_core import PydanticUndefined

    from radiogenomics.study._schema import STEP_MODELS, ReportOptions

    rows = _study_doc_rows()
    models = dict(STEP_MODELS, report=ReportOptions)
    wrong, checked = [], 0
    for name, model in models.items():
        for field, info in model.model_fields.items():
            documented = _documented_default(rows[name], field)
            default = info.default if info.default is not PydanticUndefined else None
            expected = _as_doc_text(default)
            if documented is None or expected is None or " " in documented.replace(", ", ","):
                continue  # no default written, or a sentence ("from `robustness`", "required")
            checked += 1
            if documented != expected:
                wrong.append(f"{name}.{field}: docs say ({documented}), schema default {expected}")
    assert checked >= 30, checked
    assert not wrong, "docs/study.md: " + "; ".join(wrong)


def _literal_values(annotation) -> set:
    """The allowed values of every ``Literal`` inside a type annotation (``list[Literal[...]] | None``)."""
    import typing

    if typing.get_origin(annotation) is typing.Literal:
        return set(typing.get_args(annotation))
    return {v for arg in typing.get_args(annotation) for v in _literal_values(arg)}


def test_study_page_names_every_allowed_value():
    """Each choice of a fixed-choice key (``Literal`` in the schema) is named in its table row."""
    from radiogenomics.study._schema import STEP_MODELS, ClinicalColumns, FileInput, ReportOptions

    rows = _study_doc_rows()
    rows["files"] = rows["radiomics"] + rows["omics"]
    models = dict(STEP_MODELS, report=ReportOptions, files=FileInput, clinical=ClinicalColumns)
    unnamed, checked = [], 0
    for name, model in models.items():
        spans = re.findall(r"`([^`]*)`", rows[name])  # whole code spans (e.g. `log2(count+1)`) and their words
        named = set(spans) | set(re.findall(r"[\w().]+", " ".join(spans)))
        for field, info in model.model_fields.items():
            values = sorted(map(str, _literal_values(info.annotation)))
            checked += len(values)
            unnamed += [f"{name}.{field}: {v}" for v in values if v not in named]
    assert checked >= 40, checked
    assert not unnamed, f"docs/study.md does not name these allowed values: {unnamed}"


def test_study_page_examples_follow_the_schema():
    """Every YAML example on docs/study.md validates (a fragment without ``inputs`` gets a bundled dataset)."""
    import yaml

    from radiogenomics.study._schema import STEP_MODELS, Study

    blocks = re.findall(r"```yaml\n(.*?)```", (ROOT / "docs" / "study.md").read_text(), flags=re.S)
    steps_shown = set()
    for text in blocks:
        example = yaml.safe_load(text)
        Study.model_validate({"inputs": {"dataset": "synthetic"}, **example})
        steps_shown |= set(example.get("steps", {}))
    assert len(blocks) >= 4
    assert not set(STEP_MODELS) - steps_shown - {"pair"}, "docs/study.md: show every step in an example"
