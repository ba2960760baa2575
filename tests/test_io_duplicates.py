"""Rules that collapse duplicates warn with the count and the rule and record both; degenerate ORA queries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg


def _planted(mdata):
    truth = mdata.uns["truth"]["gene_sets"]
    return {t: g["gene"].tolist() for t, g in truth.groupby("term")}


def test_gsea_duplicated_genes_in_a_ranking_warn_and_are_recorded(mdata):
    sets = _planted(mdata)
    genes = list(mdata["rna"].var_names)
    values = pd.Series(np.linspace(1, -1, len(genes)), index=genes, name="lin")
    dup = pd.concat([values, pd.Series([-5.0, 4.0, 3.0], index=genes[:3], name="lin")])
    with pytest.warns(
        UserWarning, match=r"gsea: 3 duplicated gene label\(s\) in the ranking\(s\) \{'lin': 3\}.*largest \|value\|"
    ):
        rg.enrich.gsea(mdata, dup, gene_sets=sets, n_permutations=20, seed=0)
    params = mdata.uns["gsea"]["params"]
    assert params["duplicates_collapsed"] == {"lin": 3}
    assert params["duplicate_rule"] == "one value per gene label: the largest |value| is kept"
    kept = mdata.uns["gsea"]["rankings"]["lin"]
    assert kept[genes[0]] == -5.0 and kept[genes[1]] == 4.0 and kept[genes[3]] == values[genes[3]]
    rg.enrich.gsea(mdata, values, gene_sets=sets, n_permutations=20, seed=0)  # unique labels: no warning
    assert mdata.uns["gsea"]["params"]["duplicates_collapsed"] == {}


def test_ora_query_hitting_no_set_gives_p_one():
    sets = {"A": list("abcdef"), "B": list("ghijkl")}
    background = list("abcdefghijklmnopq")
    with pytest.warns(UserWarning, match=r"none of the 2 query genes is in any of the 2 tested gene sets"):
        res = rg.enrich.ora(["m", "n"], sets, background=background, min_size=2)
    assert res["term"].tolist() == ["A", "B"]
    assert (res["overlap"] == 0).all() and (res["p"] == 1).all() and (res["padj"] == 1).all()
    assert (res["odds_ratio"] == 0).all() and (res["genes"] == "").all()
