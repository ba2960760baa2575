"""Continuous NRI and IDI at time t: closed forms without censoring, planted and null covariates."""

from __future__ import annotations

import numpy as np
import pytest

import radiogenomics as rg
from radiogenomics.errors import DataFormatError
from radiogenomics.survival._reclass import idi_nri


def test_without_censoring_before_t0_nri_and_idi_are_the_binary_formulas():
    rng = np.random.default_rng(0)
    n = 300
    time = rng.exponential(10, n)
    event = np.ones(n, dtype=bool)
    time[time > 8] = 8.0 + rng.uniform(0.1, 5, (time > 8).sum())  # censoring only after t0
    event[time > 8] = rng.random((time > 8).sum()) < 0.5
    old, new = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    res = idi_nri(time, event, old, new, t0=8.0)
    case, control = time <= 8, time > 8
    up, down = new > old, new < old
    nri_ev = up[case].mean() - down[case].mean()
    nri_ne = down[control].mean() - up[control].mean()
    assert res["nri_events"] == pytest.approx(nri_ev, abs=1e-12)
    assert res["nri_nonevents"] == pytest.approx(nri_ne, abs=1e-12)
    idi = (new - old)[case].mean() - (new - old)[control].mean()
    assert res["idi"] == pytest.approx(idi, abs=1e-12)


def test_planted_score_improves_and_noise_does_not(mdata):
    mdata.obs["f1"] = mdata.uns["truth"]["factors"]["F1"].to_numpy()
    mdata.obs["noise"] = np.random.default_rng(5).normal(size=mdata.n_obs)
    rg.survival.reclassification(mdata, ["age"], ["f1"], t0=12, n_boot=50, seed=0)
    table = mdata.uns["reclassification"]["table"]
    assert table.loc["nri", "estimate"] > 0.3 and table.loc["nri", "ci_lower"] > 0
    assert table.loc["idi", "estimate"] > 0.03 and table.loc["idi", "p"] < 0.05
    rg.survival.reclassification(mdata, ["age", "f1"], ["noise"], t0=12, n_boot=50, seed=0, key_added="null")
    null = mdata.uns["null"]["table"]
    assert null.loc["idi", "ci_lower"] <= 0.01 and abs(null.loc["idi", "estimate"]) < 0.02
    assert null.loc["nri", "p"] > 0.05


def test_t0_outside_follow_up_is_refused(mdata):
    with pytest.raises(DataFormatError, match="t0"):
        rg.survival.reclassification(mdata, ["age"], ["idh_mutant"], t0=1e6, n_boot=5)
