"""Structure test: every public function follows the package conventions (as scanpy enforces)."""

from __future__ import annotations

import inspect

import pytest

import radiogenomics as rg

MODULES = ["datasets", "enrich", "get", "imaging", "integrate", "io", "omics", "pl", "survival"]
FIRST_PARAMS = {
    "data",
    "adata",
    "mdata",
    "path",
    "paths",
    "manifest",
    "table",
    "image",
    "genes",
    "ranking",
    "X",
    "time",
    "risk",
}
# Deliberate exceptions, with the reason.
FIRST_PARAM_EXCEPTIONS = {
    "datasets.synthetic_cohort": "a generator: its first parameter is the cohort size",
    "datasets.tcga_glioma": "a loader of bundled data: no input",
    "enrich.gene_sets": "a loader of a named collection ('hallmark'), a GMT path or a dict; the issue names it gene_sets(name)",
    "io.build_mudata": "builds the container from a mapping of modalities",
    "io.normalize_ids": "pure helper on identifiers",
    "io.parse_tcga_barcode": "pure helper on one barcode",
    "io.sample_priority": "pure helper on parsed barcode parts",
}


def _public_functions():
    for name in MODULES:
        module = getattr(rg, name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isfunction(obj):
                yield f"{name}.{attr}", obj


FUNCTIONS = list(_public_functions())


def test_every_all_entry_exists():
    for name in MODULES:
        module = getattr(rg, name)
        for attr in module.__all__:
            assert hasattr(module, attr), f"rg.{name}.__all__ lists {attr!r} but it is missing"


@pytest.mark.parametrize(("qualname", "func"), FUNCTIONS, ids=[q for q, _ in FUNCTIONS])
def test_conventions(qualname, func):
    sig = inspect.signature(func)
    params = list(sig.parameters.values())
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    assert len(positional) <= 3, f"{qualname}: at most 3 positional parameters, got {[p.name for p in positional]}"
    if params and qualname not in FIRST_PARAM_EXCEPTIONS:
        assert params[0].name in FIRST_PARAMS, f"{qualname}: first parameter {params[0].name!r} is not a container/path"
    for p in params:
        if isinstance(p.default, bool):
            assert p.kind == p.KEYWORD_ONLY, f"{qualname}: boolean {p.name!r} must be keyword-only"
    if "copy" in sig.parameters:
        assert sig.parameters["copy"].default is False
        assert "inplace" not in sig.parameters, f"{qualname}: never both copy and inplace"
    doc = inspect.getdoc(func) or ""
    for section in ("Parameters", "Returns", "Examples"):
        if section == "Parameters" and not params:
            continue
        assert f"\n{section}\n" in doc, f"{qualname}: docstring lacks a {section} section"
    if qualname.startswith("pl."):
        assert "ax" in sig.parameters, f"{qualname}: plots take ax="


def test_docs_api_lists_every_public_name():
    from pathlib import Path

    api = (Path(__file__).parents[1] / "docs" / "api.md").read_text()
    missing = [q for q, _ in FUNCTIONS if f"   {q.split('.')[-1]}\n" not in api]
    assert not missing, f"docs/api.md lacks {missing}"
