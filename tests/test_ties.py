"""Heavily tied scores (e.g. risk 0 from empty cross-validation models) warn where they are split or ranked."""

from __future__ import annotations

import numpy as np
import pytest

import radiogenomics as rg
from radiogenomics._ties import largest_tie


def _tied_score(mdata, n_tied):
    """A risk score whose first ``n_tied`` patients come from folds that selected nothing (exactly 0)."""
    score = mdata.uns["truth"]["factors"]["F1"].reindex(mdata.obs_names).to_numpy().copy()
    score[:n_tied] = 0.0
    return score


def test_median_split_of_a_tied_score_warns_with_the_group_sizes(mdata):
    mdata.obs["risk_cv"] = _tied_score(mdata, 40)
    x = mdata.obs["risk_cv"].to_numpy()
    cut = float(np.median(x))
    n_low = int((x <= cut).sum())
    assert n_low != 60  # the "median" split is not 60 vs 60
    with pytest.warns(
        UserWarning, match=rf"40 of 120 values of 'risk_cv' are tied at 0 .* \({n_low} low vs {120 - n_low} high\)"
    ):
        rg.survival.dichotomize(mdata, "risk_cv")
    assert mdata.uns["risk_cv_group"]["params"]["largest_tie"] == 40
    assert mdata.obs["risk_cv_group"].value_counts()["low"] == n_low


def test_untied_score_does_not_warn(mdata):
    rg.survival.dichotomize(mdata, "age")  # filterwarnings=error: any warning fails
    assert largest_tie(mdata.obs["age"].to_numpy())[0] < 12


def test_marker_split_warns_on_tied_expression(mdata):
    mdata["rna"].X[:50, 0] = 0.0  # 50 patients without a read of the gene
    gene = mdata["rna"].var_names[0]
    with pytest.warns(UserWarning, match=rf"markers: 50 of 120 values of '{gene}' are tied at 0"):
        rg.omics.markers(mdata, [gene])


def test_gsea_warns_on_a_tied_patient_score(mdata):
    x = mdata["rna"].X
    mdata["rna"].layers["log"] = np.log1p(x / x.sum(axis=1, keepdims=True) * 1e6)
    truth = mdata.uns["truth"]["gene_sets"]
    sets = {t: g["gene"].tolist() for t, g in truth.groupby("term")}
    mdata.obs["risk_cv"] = _tied_score(mdata, 33)
    with pytest.warns(UserWarning, match=r"gsea: 33 of 120 values of 'risk_cv' are tied at 0 .* arbitrary"):
        rg.enrich.gsea(mdata, "risk_cv", layer="log", gene_sets=sets, n_permutations=20)
