"""Competing risks and time-varying Cox models against R (cmprsk 2.2-11, survival 3.5-3).

Reference values: tests/data/competing/r_reference.csv, made by make_reference.R in that folder.
"""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics.errors import DataFormatError, MissingColumnError

DATA = Path(__file__).parent / "data" / "competing"
REF = pd.read_csv(DATA / "r_reference.csv")


def _ref(dataset, analysis, quantity=None):
    out = REF[(REF.dataset == dataset) & (REF.analysis == analysis)]
    return out if quantity is None else out[out.quantity == quantity].set_index("term")["value"]


def _mudata(frame: pd.DataFrame, index=None) -> md.MuData:
    index = pd.Index(index if index is not None else [f"p{i:03d}" for i in range(len(frame))])
    mdata = md.MuData({"clin": ad.AnnData(np.zeros((len(frame), 1)), obs=pd.DataFrame(index=index))})
    for col in frame.columns:
        mdata.obs[col] = frame[col].to_numpy()
    return mdata


@pytest.mark.parametrize(("dataset", "group"), [("bmt", "dis"), ("sim", "grp")])
def test_cumulative_incidence_and_gray_test_equal_cmprsk(dataset, group):
    frame = pd.read_csv(DATA / f"{dataset}.csv")
    mdata = _mudata(frame)
    rg.survival.cumulative_incidence(mdata, cause="status", time="ftime", groupby=group)
    table = mdata.uns["cumulative_incidence"]["table"]
    ref = _ref(dataset, "cuminc").copy()
    ref[["g", "c", "i"]] = ref["term"].str.split(" ", expand=True)
    n_checked = 0
    for (g, c), sub in ref.groupby(["g", "c"]):
        wide = sub.pivot_table(index="i", columns="quantity", values="value", aggfunc="first")
        wide.index = wide.index.astype(int)
        last = wide.sort_index().groupby("time").last()  # cmprsk lists each step twice; keep the value after it
        ours = table[(table.group == g) & (table.cause == c)].set_index("time")
        np.testing.assert_allclose(ours["cif"], last.loc[ours.index, "est"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(ours["se"] ** 2, last.loc[ours.index, "var"], rtol=0, atol=1e-12)
        n_checked += len(ours)
    assert n_checked > 10
    tests = mdata.uns["cumulative_incidence"]["tests"].set_index("cause")
    for cause in ("1", "2"):
        gray = REF[(REF.dataset == dataset) & (REF.analysis == "gray") & (REF.term == cause)]
        gray = gray.set_index("quantity")["value"]
        assert tests.loc[cause, "statistic"] == pytest.approx(gray["stat"], rel=1e-10)
        assert tests.loc[cause, "p"] == pytest.approx(gray["pv"], rel=1e-9)
        assert tests.loc[cause, "df"] == gray["df"]


def test_cumulative_incidence_bounds_and_sum_below_one():
    frame = pd.read_csv(DATA / "sim.csv")
    mdata = _mudata(frame)
    rg.survival.cumulative_incidence(mdata, cause="status", time="ftime")
    table = mdata.uns["cumulative_incidence"]["table"]
    assert ((table.ci_lower <= table.cif) & (table.cif <= table.ci_upper)).all()
    # the incidences of the two causes plus all-cause survival add up to one at the end
    final = table.groupby("cause")["cif"].max().sum()
    surv = rg.survival._km.km_table(frame.ftime, frame.status > 0)["survival"].iloc[-1]
    assert final + surv == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(("dataset", "covariates"), [("bmt", ["dis"]), ("sim", ["x1", "x2"])])
def test_fine_gray_equals_crr(dataset, covariates):
    frame = pd.read_csv(DATA / f"{dataset}.csv")
    mdata = _mudata(frame)
    rg.survival.fine_gray(mdata, covariates, cause="status", time="ftime", failcode=1)
    summary = mdata.uns["fine_gray"]["summary"]
    coef, se = _ref(dataset, "crr", "coef"), _ref(dataset, "crr", "se")
    # crr stops at a gradient tolerance of 1e-6; our Newton iterations go to convergence
    np.testing.assert_allclose(summary["coef"], coef[covariates], rtol=1e-4)
    np.testing.assert_allclose(summary["se(coef)"], se[covariates], rtol=1e-4)
    loglik = float(_ref(dataset, "crr", "loglik").iloc[0])
    assert mdata.uns["fine_gray"]["params"]["loglik"] == pytest.approx(loglik, rel=1e-9)


def test_fine_gray_null_covariate_and_planted_effect():
    rng = np.random.default_rng(3)
    n = 400
    x = rng.normal(size=n)
    noise = rng.normal(size=n)
    t1 = rng.exponential(1 / (0.1 * np.exp(0.8 * x)))
    t2 = rng.exponential(1 / 0.1, size=n)
    cens = rng.uniform(2, 20, size=n)
    time = np.minimum.reduce([t1, t2, cens])
    status = np.where(cens <= np.minimum(t1, t2), 0, np.where(t1 < t2, 1, 2))
    mdata = _mudata(pd.DataFrame({"x": x, "noise": noise, "time": time, "status": status}))
    rg.survival.fine_gray(mdata, ["x", "noise"], cause="status", time="time")
    summary = mdata.uns["fine_gray"]["summary"]
    assert summary.loc["x", "p"] < 1e-6 and summary.loc["x", "coef"] > 0.4
    assert summary.loc["noise", "p"] > 0.01


def test_competing_risk_errors_name_the_fix():
    frame = pd.read_csv(DATA / "bmt.csv")
    mdata = _mudata(frame)
    with pytest.raises(DataFormatError, match="censor_code"):
        rg.survival.cumulative_incidence(mdata, cause="status", time="ftime", censor_code=9)
    with pytest.raises(DataFormatError, match="failcode 5 not found"):
        rg.survival.fine_gray(mdata, ["dis"], cause="status", time="ftime", failcode=5)
    with pytest.raises(MissingColumnError, match="cause="):
        rg.survival.cumulative_incidence(mdata, cause="relapse", time="ftime")
    with pytest.raises(MissingColumnError, match="strata column 'centre'"):
        rg.survival.cumulative_incidence(mdata, cause="status", time="ftime", groupby="dis", strata="centre")


@pytest.mark.parametrize("ties", ["efron", "breslow"])
def test_start_stop_cox_equals_coxph_on_heart(ties):
    heart = pd.read_csv(DATA / "heart.csv")
    heart["id"] = heart["id"].map(lambda i: f"p{i:03d}")
    patients = heart.drop_duplicates("id").set_index("id")
    mdata = _mudata(patients[["age"]].reset_index(drop=True), index=patients.index)
    terms = ["age", "year", "surgery", "transplant"]
    intervals = heart.drop(columns="age")
    rg.survival.cox_time_varying(mdata, terms, intervals=intervals, id_column="id", ties=ties)
    summary = mdata.uns["cox_time_varying"]["summary"]
    coef, se = _ref("heart", f"coxph_{ties}", "coef"), _ref("heart", f"coxph_{ties}", "se")
    coef, se = coef.rename({"transplant1": "transplant"}), se.rename({"transplant1": "transplant"})  # R factor term
    np.testing.assert_allclose(summary["coef"], coef[terms], rtol=1e-6)
    np.testing.assert_allclose(summary["se(coef)"], se[terms], rtol=1e-6)
    loglik = float(_ref("heart", f"coxph_{ties}", "loglik").iloc[0])
    params = mdata.uns["cox_time_varying"]["params"]
    assert params["loglik"] == pytest.approx(loglik, rel=1e-9)
    assert params["n_patients"] == 103 and params["n_rows"] == 172 and params["n_events"] == 75


def test_time_varying_effect_equals_coxph_tt_on_veteran():
    vet = pd.read_csv(DATA / "veteran.csv")
    vet["status"] = vet["status"].astype(bool)
    mdata = _mudata(vet)
    rg.survival.cox_time_varying(
        mdata, ["trt", "prior", "karno"], tt={"karno": lambda x, t: x * np.log(t + 20)}, time="time", event="status"
    )
    summary = mdata.uns["cox_time_varying"]["summary"]
    terms = ["trt", "prior", "karno", "tt(karno)"]
    assert summary.index.tolist() == terms
    np.testing.assert_allclose(summary["coef"], _ref("veteran", "coxph_tt_log", "coef")[terms], rtol=1e-6)
    np.testing.assert_allclose(summary["se(coef)"], _ref("veteran", "coxph_tt_log", "se")[terms], rtol=1e-6)
    loglik = float(_ref("veteran", "coxph_tt_log", "loglik").iloc[0])
    assert mdata.uns["cox_time_varying"]["params"]["loglik"] == pytest.approx(loglik, rel=1e-9)


def test_time_varying_without_tt_equals_cox(mdata):
    rg.survival.cox(mdata, ["age", "idh_mutant"])
    rg.survival.cox_time_varying(mdata, ["age", "idh_mutant"])
    np.testing.assert_allclose(
        mdata.uns["cox_time_varying"]["summary"]["coef"], mdata.uns["cox"]["summary"]["coef"], rtol=1e-8
    )


def test_overlapping_intervals_are_refused():
    mdata = _mudata(pd.DataFrame({"age": [50.0, 60.0]}))
    bad = pd.DataFrame(
        {"patient_id": ["p000", "p000", "p001"], "start": [0, 5, 0], "stop": [10, 12, 4], "event": [0, 1, 1]}
    )
    with pytest.raises(DataFormatError, match="overlapping"):
        rg.survival.cox_time_varying(mdata, ["age"], intervals=bad)


VALID = pd.read_csv(DATA.parent / "validation" / "r_reference.csv")


def _vref(analysis, quantity):
    out = VALID[(VALID.analysis == analysis) & (VALID.quantity == quantity)]
    return out.set_index("term")["value"] if len(out) > 1 else float(out["value"].iloc[0])


@pytest.fixture
def rossi():
    frame = pd.read_csv(DATA.parent / "survival" / "rossi.csv")
    frame["arrest"] = frame["arrest"].astype(bool)
    return _mudata(frame)


def test_validate_apparent_and_calibration_equal_r(rossi):
    rg.survival.validate(rossi, ["fin", "age", "prio"], time="week", event="arrest", t0=52, n_boot=0)
    res = rossi.uns["validate"]
    ind = res["indices"]
    assert ind.loc["c_index", "apparent"] == pytest.approx(_vref("apparent", "c_index"), rel=1e-10)
    assert ind.loc["intercept", "apparent"] == pytest.approx(0.0, abs=1e-8)
    assert ind.loc["slope", "apparent"] == pytest.approx(1.0, abs=1e-8)
    cal = res["calibration"]
    np.testing.assert_allclose(cal["predicted"], _vref("calibration", "predicted").to_numpy(dtype=float), rtol=1e-8)
    np.testing.assert_allclose(cal["observed"], _vref("calibration", "observed").to_numpy(dtype=float), rtol=1e-7)
    for q in ("ici", "e50", "e90"):
        assert res["params"][q] == pytest.approx(_vref("calibration", q), rel=1e-6)


def test_validate_corrected_indices_agree_with_rms_validate(rossi):
    rg.survival.validate(rossi, ["fin", "age", "prio"], time="week", event="arrest", t0=52, n_boot=100, seed=1)
    ind = rossi.uns["validate"]["indices"]
    rms = VALID[VALID.analysis == "rms_validate"]
    rms = rms.pivot_table(index="term", columns="quantity", values="value", aggfunc="first")
    assert ind.loc["dxy", "apparent"] == pytest.approx(rms.loc["Dxy", "index.orig"], rel=1e-10)
    # rms used 2,000 bootstraps; the Monte Carlo SD of a 100-bootstrap optimism is about 0.003
    assert ind.loc["dxy", "optimism"] == pytest.approx(rms.loc["Dxy", "optimism"], abs=0.01)
    assert ind.loc["dxy", "corrected"] == pytest.approx(rms.loc["Dxy", "index.corrected"], abs=0.01)
    assert ind.loc["slope", "corrected"] == pytest.approx(rms.loc["Slope", "index.corrected"], abs=0.03)
    assert rossi.uns["validate"]["params"]["n_used"] == 100


def test_validate_detects_overfitting_of_noise_covariates(mdata):
    rng = np.random.default_rng(0)
    noise = [f"noise{i}" for i in range(15)]
    for name in noise:
        mdata.obs[name] = rng.normal(size=mdata.n_obs)
    rg.survival.validate(mdata, noise, n_boot=30, seed=0)
    ind = mdata.uns["validate"]["indices"]
    assert ind.loc["c_index", "apparent"] > 0.6  # in-sample C of 15 noise covariates is inflated
    assert ind.loc["c_index", "corrected"] < 0.56  # the corrected C comes back to chance
    assert ind.loc["slope", "corrected"] < 0.6  # strong shrinkage needed
    cal = mdata.uns["validate"]["calibration"]
    assert np.ptp(cal["observed_corrected"]) < np.ptp(cal["observed"])  # corrected curve flatter
    ax = rg.pl.calibration_curve(mdata)
    assert len(ax.get_lines()) == 3


def test_validate_signature_refits_the_selection(mdata):
    rg.survival.signature(mdata, cv=3, repeats=1, n_alphas=15, rule="min")
    rg.survival.validate(mdata, signature="signature", n_boot=5, seed=0)
    ind = mdata.uns["validate"]["indices"]
    assert mdata.uns["validate"]["params"]["signature"] == "signature"
    assert ind.loc["c_index", "apparent"] >= ind.loc["c_index", "corrected"] - 0.02
    assert 0.5 < ind.loc["c_index", "corrected"] < 0.95


def test_competing_plot(mdata):
    died = mdata.obs["os_event"].to_numpy(dtype=bool)
    mdata.obs["outcome"] = np.where(died, np.where(mdata.obs["idh_mutant"], "tumour", "other"), "censored")
    rg.survival.cumulative_incidence(mdata, cause="outcome", censor_code="censored", groupby="site")
    ax = rg.pl.cumulative_incidence(mdata, cause="tumour")
    assert "Gray" in ax.get_legend().get_title().get_text()
