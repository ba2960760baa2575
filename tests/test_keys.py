"""Stored names: what a writer stores can be addressed afterwards by the documented key."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics._keys import embedding_key, loadings_key, risk_column, score_column
from radiogenomics._utils import resolve_keys
from radiogenomics.enrich._rankings import build_rankings
from radiogenomics.errors import MissingColumnError, MissingResultError


@pytest.fixture(scope="module")
def small():
    mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    rna = mdata["rna"]
    rna.layers["logcpm"] = np.log1p(rna.X / rna.X.sum(axis=1, keepdims=True) * 1e6)
    return mdata


def _cox_coef(mdata, key):
    rg.survival.cox(mdata, [key], key_added="c")
    return mdata.uns["c"]["summary"].loc[key, "coef"]


@pytest.mark.parametrize("key_added", ["mofa", "k"])
def test_mofa_factors_addressed_by_name(small, key_added):
    mdata = small.copy()
    mdata["rna"].X = mdata["rna"].layers["logcpm"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # convergence notes of a short run
        rg.integrate.mofa(
            mdata, mods=["radiomics", "rna"], n_factors=2, max_iter=30, scale_features=True, key_added=key_added
        )
    slot = embedding_key(key_added)
    assert slot == ("X_mofa" if key_added == "mofa" else "X_k")
    np.testing.assert_array_equal(resolve_keys(mdata, [f"{key_added}:2"]).iloc[:, 0], mdata.obsm[slot][:, 1])
    assert np.isfinite(_cox_coef(mdata, f"{key_added}:1"))
    assert mdata["rna"].varm[loadings_key(key_added)].shape == (100, 2)
    table, kinds = build_rankings(mdata, f"{key_added}:1", mod="rna", sets={"s": list(mdata["rna"].var_names[:5])})
    assert kinds[f"{key_added}:1"] == "factor"
    weights = pd.Series(mdata["rna"].varm[loadings_key(key_added)][:, 0], index=mdata["rna"].var_names).dropna()
    ranked = table[f"{key_added}:1"].dropna()
    assert len(ranked) == len(weights) > 90
    np.testing.assert_allclose(ranked.reindex(weights.index).to_numpy(), weights.to_numpy())
    rg.integrate.factor_associations(mdata, key=key_added, obs=["age"], mods=(), key_added="fa")
    assert set(mdata.uns["fa"]["results"]["factor"]) == {"Factor1", "Factor2"}
    assert rg.pl.factor_scatter(mdata, key=key_added).get_xlabel() == "Factor1"
    with pytest.raises(MissingColumnError, match=rf"use {key_added}:1\.\.{key_added}:2"):
        resolve_keys(mdata, [f"{key_added}:3"])


def test_cca_fuse_pathway_scores_addressed_by_name(small):
    mdata = small.copy()
    rg.integrate.cca(mdata, "radiomics", "mut", n_components=2, n_pcs=5, n_permutations=0, key_added="cc")
    np.testing.assert_array_equal(resolve_keys(mdata, ["cc_y:2"]).iloc[:, 0], mdata.obsm["X_cc_y"][:, 1])
    assert np.isfinite(_cox_coef(mdata, "cc_x:1"))
    rg.integrate.fuse(mdata, ["radiomics", "mut"], key_added="early")
    assert "early" in mdata.uns and "early" not in mdata.obsm
    np.testing.assert_array_equal(resolve_keys(mdata, ["early:3"]).iloc[:, 0], mdata.obsm["X_early"][:, 2])
    rg.enrich.pathway_scores(
        mdata, gene_sets=_planted(mdata), method="zscore", layer="logcpm", min_size=3, key_added="pw"
    )
    assert np.isfinite(_cox_coef(mdata, "pw:PLANTED_F1"))


def _planted(mdata):
    sets = mdata.uns["truth"]["gene_sets"]
    return {t: list(g["gene"]) for t, g in sets.groupby("term")}


def test_score_columns_follow_the_rule(small):
    mdata = small.copy()
    rg.survival.cox(mdata, ["age"], key_added="m1")
    assert score_column("m1", "risk") in mdata.obs
    rg.survival.nomogram(mdata, key="m1", key_added="nomo")
    assert score_column("nomo", "points") in mdata.obs
    assert risk_column("signature") == "risk_score" and risk_column("s2") == "s2_risk_score"


def test_missing_embedding_names_the_stored_ones(small):
    mdata = small.copy()
    mdata.obsm["X_abc"] = np.zeros((mdata.n_obs, 2))
    with pytest.raises(MissingResultError, match=r"stored names: \['abc'\]"):
        rg.integrate.factor_associations(mdata, key="mofa")
    with pytest.raises(MissingColumnError, match=r"stored: \['abc'\]"):
        resolve_keys(mdata, ["nothing:1"])
