"""Stored tables and public parameters use the names of docs/glossary.md, never its synonyms."""

from __future__ import annotations

import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg

GLOSSARY = Path(__file__).parents[1] / "docs" / "glossary.md"
MODULES = ("io", "imaging", "omics", "integrate", "survival", "enrich", "pl", "get", "datasets")


def _glossary(section: str | None = None) -> tuple[set[str], set[str]]:
    """Allowed names and forbidden synonyms from the glossary's tables (one section, or both)."""
    text = GLOSSARY.read_text()
    parts = []
    for title in ("## Columns of stored tables", "## Parameters"):
        if section is None or title.endswith(section):
            start = text.index(title)
            parts.append(text[start : text.find("\n## ", start + 1)])
    allowed, forbidden = set(), set()
    for line in "\n".join(parts).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            allowed |= set(re.findall(r"`([^`]+)`", cells[0]))
            forbidden |= set(re.findall(r"`([^`]+)`", cells[2]))
    return allowed, forbidden


def _tables(value, path: str):
    if isinstance(value, pd.DataFrame):
        yield path, value
    elif isinstance(value, dict) or hasattr(value, "items"):
        for k, v in value.items():
            yield from _tables(v, f"{path}[{k!r}]")


def _names(mdata) -> tuple[dict[str, str], dict[str, str]]:
    """Column names of every stored table, and keys of every stored ``params`` dict -> where."""
    columns, params = {}, {}
    sources = [("uns", mdata.uns)] + [(f"mod[{m!r}].uns", a.uns) for m, a in mdata.mod.items()]
    for where, uns in sources:
        for path, frame in _tables(uns, where):
            for col in frame.columns:
                columns.setdefault(str(col), path)
        for key, value in uns.items():
            if isinstance(value, dict) and isinstance(value.get("params"), dict):
                for name in value["params"]:
                    params.setdefault(str(name), f"{where}[{key!r}]['params']")
    return columns, params


@pytest.fixture(scope="module")
def written():
    mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=200, seed=0)
    rna = mdata["rna"]
    rna.layers["log"] = np.log1p(rna.X / rna.X.sum(axis=1, keepdims=True) * 1e6)
    sets = {t: list(g["gene"]) for t, g in mdata.uns["truth"]["gene_sets"].groupby("term")}
    feature = str(mdata["radiomics"].var_names[0])
    mdata.obsm["X_mofa"] = mdata.uns["truth"]["factors"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small-sample notes of the writers
        rg.survival.cox(mdata, ["age", "idh_mutant"])
        rg.survival.kaplan_meier(mdata, groupby="idh_mutant")
        rg.survival.logrank(mdata, "idh_mutant")
        rg.survival.ph_test(mdata)
        rg.survival.compare(mdata, ["age"], ["idh_mutant"], n_boot=10, cv=None)
        rg.survival.dichotomize(mdata, "age", method="quantile", quantile=0.4)
        rg.survival.dichotomize(mdata, "age", method="maxstat", key_added="age_maxstat")
        rg.survival.signature(mdata, features="radiomics", clinical=["age", "sex"], cv=3, n_alphas=10)
        rg.survival.nomogram(mdata)
        rg.integrate.factor_associations(mdata, obs=["age"], time="os_months", event="os_event")
        rg.integrate.associate(mdata, x="radiomics", y="mut", n_permutations=9)
        rg.integrate.cca(mdata, "radiomics", "mut", n_components=1, n_pcs=5, n_permutations=9)
        rg.integrate.fuse(mdata, ["radiomics", "mut"])
        rg.integrate.predict(mdata, "idh_mutant", features="radiomics", cv=3, repeats=1, n_permutations=2)
        rg.enrich.gsea(mdata, f"radiomics:{feature}", layer="log", gene_sets=sets, n_permutations=20, min_size=5)
        rg.enrich.pathway_scores(mdata, layer="log", gene_sets=sets, method="zscore", min_size=5)
        rg.omics.markers(mdata, ["CD274"] if "CD274" in rna.var_names else [str(rna.var_names[0])])
        rg.imaging.harmonize(mdata, batch_key="site")
    return mdata


def test_stored_tables_use_the_glossary(written):
    allowed, forbidden = _glossary()
    assert {"p", "padj", "ci_lower", "n_permutations", "quantile", "batch_key"} <= allowed
    columns, params = _names(written)
    bad = {name: where for name, where in columns.items() if name in forbidden}
    assert not bad, f"synonyms of glossary names in stored tables: {bad}"
    _, forbidden_params = _glossary("Parameters")
    bad = {name: where for name, where in params.items() if name in forbidden_params}
    assert not bad, f"synonyms of glossary names in stored params: {bad}"
    # the writers above do store the glossary's names (the check is not vacuous)
    assert {"p", "padj", "p_fwer", "ci_lower", "ci_upper", "statistic", "covariate"} <= set(columns)
    assert {"n_permutations", "n_boot", "quantile", "batch_key", "seed", "p_method"} <= set(params)


def test_no_stored_table_has_a_key_column(written):
    """``key`` names a stored result; a stored table holding value keys calls that column ``covariate``."""
    _, forbidden = _glossary("tables")
    assert "key" in forbidden
    columns, _ = _names(written)
    assert "key" not in columns, f"a stored table has a 'key' column: {columns.get('key')}"
    assert "covariate" in written.uns["signature"]["coefficients"].columns


def test_public_parameters_use_the_glossary():
    _, forbidden = _glossary("Parameters")
    bad = []
    for sub in MODULES:
        module = getattr(rg, sub)
        for name in module.__all__:
            func = getattr(module, name)
            if not callable(func):
                continue
            bad += [f"{sub}.{name}({p})" for p in inspect.signature(func).parameters if p in forbidden]
    assert not bad


def test_glossary_is_in_the_docs():
    index = (GLOSSARY.parent / "index.md").read_text()
    assert "\nglossary\n" in index
