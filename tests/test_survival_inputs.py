"""One survival input check, one design builder and one Cox core across the package."""

from __future__ import annotations

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics._utils import train_mask
from radiogenomics.errors import DataFormatError


def _cohort(n: int, seed: int) -> md.MuData:
    rng = np.random.default_rng(seed)
    index = [f"P{i:03d}" for i in range(n)]
    mdata = md.MuData({"clin": ad.AnnData(np.zeros((n, 1)), obs=pd.DataFrame(index=index))})
    mdata.obs["os_months"] = rng.exponential(20, n)
    mdata.obs["os_event"] = rng.random(n) < 0.6
    return mdata


def test_factor_associations_refuses_1_2_events_as_cox_does(mdata):
    mdata.obsm["X_mofa"] = mdata.uns["truth"]["factors"].to_numpy()
    mdata.obs["status"] = np.where(mdata.obs["os_event"], 2, 1)
    with pytest.raises(DataFormatError, match="Event column 'status' must be boolean") as from_cox:
        rg.survival.cox(mdata, ["age"], event="status")
    with pytest.raises(DataFormatError, match="Event column 'status' must be boolean") as from_factors:
        rg.integrate.factor_associations(mdata, obs=["age"], mods=(), time="os_months", event="status")
    assert str(from_cox.value) == str(from_factors.value)


def test_factor_cox_with_an_extreme_patient_matches_lifelines():
    """One patient at -12.6 SD who dies first: statsmodels' PHReg returned NaN here (p then 1.0)."""
    from lifelines import CoxPHFitter

    mdata = _cohort(167, seed=1)
    factor = np.random.default_rng(101).standard_normal(167)
    factor[0] = -60.0
    mdata.obs.loc["P000", ["os_months", "os_event"]] = [0.5, True]
    mdata.obsm["X_mofa"] = factor[:, None]
    rg.integrate.factor_associations(mdata, obs=[], mods=(), time="os_months", event="os_event")
    row = mdata.uns["factor_associations"]["results"].iloc[0]
    z = (factor - factor.mean()) / factor.std()
    frame = pd.DataFrame({"z": z, "t": mdata.obs["os_months"].to_numpy(), "e": mdata.obs["os_event"].to_numpy()})
    ref = CoxPHFitter().fit(frame, "t", "e").summary.loc["z"]
    assert abs(z[0]) > 12
    assert row["effect"] == pytest.approx(ref["exp(coef)"], rel=1e-4)  # lifelines stops at a looser tolerance
    assert row["p"] == pytest.approx(ref["p"], rel=5e-3) and row["p"] < 0.01  # 0.0066 (lifelines 0.0066)
    assert row["note"] == ""


def test_factor_cox_that_cannot_be_fitted_is_named():
    mdata = _cohort(60, seed=1)
    mdata.obs["os_event"] = True
    separating = -mdata.obs["os_months"].to_numpy()  # monotone likelihood: infinite coefficient
    mdata.obsm["X_mofa"] = np.column_stack([separating, np.random.default_rng(0).standard_normal(60)])
    with pytest.warns(UserWarning, match=r"Cox model of 1 factors could not be fitted \(Factor1"):
        rg.integrate.factor_associations(mdata, obs=[], mods=(), time="os_months", event="os_event")
    res = mdata.uns["factor_associations"]["results"].set_index("factor")
    assert np.isnan(res.loc["Factor1", "p"]) and res.loc["Factor1", "padj"] == 1.0
    assert "did not converge" in res.loc["Factor1", "note"]
    assert res.loc["Factor2", "note"] == "" and np.isfinite(res.loc["Factor2", "p"])


def test_numbers_stored_as_text(mdata):
    kps = mdata.obs["kps"].to_numpy(dtype=float)
    mdata.obs["kps_text"] = [str(int(v)) for v in kps]
    assert mdata.obs["kps_text"].nunique() > 4
    with pytest.warns(UserWarning, match=r"'kps_text' holds numbers stored as text .* used as numeric"):
        rg.survival.cox(mdata, ["kps_text"], key_added="text")
    rg.survival.cox(mdata, ["kps"], key_added="number")
    text, number = mdata.uns["text"], mdata.uns["number"]
    assert text["summary"].index.tolist() == ["kps_text"]
    assert text["terms"]["from_text"].tolist() == [True] and number["terms"]["from_text"].tolist() == [False]
    assert text["summary"].iloc[0]["coef"] == pytest.approx(number["summary"].iloc[0]["coef"], rel=1e-10)
    mdata.obs["grade_text"] = np.where(kps > np.median(kps), "3", "2")  # few values stay categories, as in R
    rg.survival.cox(mdata, ["grade_text"], key_added="grade")
    assert mdata.uns["grade"]["summary"].index.tolist() == ["grade_text[3]"]


def test_one_term_naming_rule_in_cox_and_signature(mdata):
    rg.survival.cox(mdata, ["age", "sex"])
    rg.survival.signature(
        mdata, features=["radiomics:" + v for v in mdata["radiomics"].var_names[:5]], clinical=["sex"], cv=3
    )
    cox_terms = set(mdata.uns["cox"]["summary"].index) - {"age"}
    sig_terms = set(mdata.uns["signature"]["coefficients"].query("kind == 'clinical'").index)
    assert cox_terms == sig_terms == {"sex[male]"}


def test_train_mask_accepts_masks_columns_and_ids(mdata):
    ids = list(mdata.obs_names[:30])
    by_ids = train_mask(mdata, ids)
    assert by_ids.sum() == 30 and by_ids[:30].all()
    mdata.obs["is_train"] = by_ids
    np.testing.assert_array_equal(train_mask(mdata, "is_train"), by_ids)
    rg.survival.dichotomize(mdata, "age", train=ids, key_added="by_ids")
    rg.survival.dichotomize(mdata, "age", train="is_train", key_added="by_column")
    assert mdata.uns["by_ids"]["params"]["cutpoint"] == np.median(mdata.obs["age"].to_numpy()[:30])
    assert mdata.uns["by_ids"]["params"]["cutpoint"] == mdata.uns["by_column"]["params"]["cutpoint"]
    with pytest.raises(DataFormatError, match="2 of its values are not patient IDs"):
        train_mask(mdata, [*ids, "nobody", "ghost"])
