"""Tests of rg.survival.evaluate, compare and nomogram, and of their plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics.survival._evaluate import km_at


@pytest.fixture(scope="module")
def split():
    """One cohort split in halves: the same feature definitions in training and validation."""
    cohort = rg.datasets.synthetic_cohort(n_patients=300, seed=0)
    train, validation = cohort[:150].copy(), cohort[150:].copy()
    with pytest.warns(UserWarning, match="1 of 3 outer folds selected no feature"):
        rg.survival.signature(train, cv=3)
    rg.survival.apply_signature(validation, train.uns["signature"])
    rg.survival.evaluate(validation, n_boot=30)
    return train, validation


def _true_lp(mdata):
    truth = mdata.uns["truth"]["factors"]["F1"].to_numpy()
    return 0.8 * truth + 0.03 * (mdata.obs["age"].to_numpy() - 55) - 0.7 * mdata.obs["idh_mutant"].to_numpy()


def test_evaluate_validation_cohort(split):
    _, validation = split
    res = validation.uns["evaluate"]
    conc = res["concordance"]
    assert conc.loc["harrell_c", "estimate"] > 0.6
    assert (conc["ci_lower"] < conc["estimate"]).all() and (conc["estimate"] < conc["ci_upper"]).all()
    assert res["params"]["baseline"] == "uns['signature']"  # the training baseline, not refitted
    assert (res["auc"]["auc"] > 0.55).all()
    observed = res["calibration"]["observed"].to_numpy()
    assert observed[0] > observed[-1]  # group 1 = lowest predicted risk lives longest
    assert np.abs(res["calibration"]["predicted"] - observed).mean() < 0.15
    slope = res["calibration_slope"].iloc[0]
    assert slope["ci_lower"] > 1  # the 1se LASSO over-shrinks: predictions too conservative, as expected
    assert 0 < res["params"]["ibs"] < 0.25


def test_harrell_c_convention_matches_lifelines(split):
    from lifelines.utils import concordance_index

    _, validation = split
    obs = validation.obs
    # lifelines takes a survival score: negate the risk (higher risk = worse survival here)
    ref = concordance_index(obs["os_months"], -obs["risk_score"], obs["os_event"])
    assert validation.uns["evaluate"]["concordance"].loc["harrell_c", "estimate"] == pytest.approx(ref, abs=1e-9)


def test_true_model_is_calibrated_and_null_score_is_not_informative():
    mdata = rg.datasets.synthetic_cohort(n_patients=250, n_features=30, n_genes=100, seed=5)
    mdata.obs["true_lp"] = _true_lp(mdata)
    mdata.obs["noise"] = np.random.default_rng(5).standard_normal(mdata.n_obs)
    rg.survival.evaluate(mdata, "true_lp", n_boot=25)
    slope = mdata.uns["evaluate"]["calibration_slope"].iloc[0]
    assert slope["ci_lower"] < 1 < slope["ci_upper"]
    rg.survival.evaluate(mdata, "noise", n_boot=25, key_added="null")
    conc = mdata.uns["null"]["concordance"]
    assert (conc["ci_lower"] < 0.5).all() and (conc["ci_upper"] > 0.5).all()
    assert abs(mdata.uns["null"]["calibration_slope"]["slope"].iloc[0]) < 0.3


def test_net_benefit_of_treat_all(split):
    _, validation = split
    res = validation.uns["evaluate"]
    t0 = res["params"]["calibration_time"]
    s = km_at(validation.obs["os_months"].to_numpy(), validation.obs["os_event"].to_numpy(bool), t0)[0]
    dc = res["decision_curve"]
    expected = (1 - s) - s * dc["threshold"] / (1 - dc["threshold"])
    np.testing.assert_allclose(dc["net_benefit_all"], expected, rtol=1e-12)
    everyone = dc["n_treated"] == validation.n_obs
    np.testing.assert_allclose(dc.loc[everyone, "net_benefit_model"], dc.loc[everyone, "net_benefit_all"])


def test_evaluate_reports_missing_scores(split):
    _, validation = split
    mdata = validation.copy()
    mdata.obs.loc[mdata.obs_names[:2], "risk_score"] = np.nan
    with pytest.warns(UserWarning, match="2 patients have no 'risk_score'"):
        rg.survival.evaluate(mdata, n_boot=5)
    assert mdata.uns["evaluate"]["params"]["n"] == mdata.n_obs - 2


@pytest.fixture
def with_factor(mdata):
    mdata.obs["f1"] = mdata.uns["truth"]["factors"]["F1"].to_numpy()
    mdata.obs["noise"] = np.random.default_rng(0).standard_normal(mdata.n_obs)
    return mdata


def test_compare_planted_score_adds_value(with_factor):
    rg.survival.compare(with_factor, ["age", "idh_mutant"], ["f1"], n_boot=25, cv=3, repeats=2)
    res = with_factor.uns["compare"]
    assert res["test"].loc["likelihood_ratio", "p"] < 1e-6
    delta = res["delta_c"].iloc[0]
    assert delta["ci_lower"] > 0 and delta["cv_mean"] > 0.05
    # the likelihood-ratio statistic is that of two rg.survival.cox fits (checked against R there)
    rg.survival.cox(with_factor, ["age", "idh_mutant"], key_added="base")
    rg.survival.cox(with_factor, ["age", "idh_mutant", "f1"], key_added="full")
    lr = 2 * (with_factor.uns["full"]["params"]["loglik"] - with_factor.uns["base"]["params"]["loglik"])
    assert res["test"].loc["likelihood_ratio", "statistic"] == pytest.approx(lr, rel=1e-8)
    assert res["models"].loc["full", "harrell_c"] == pytest.approx(with_factor.uns["full"]["concordance"], abs=1e-12)


def test_compare_noise_adds_nothing_and_apparent_gain_is_optimistic(with_factor):
    rg.survival.compare(with_factor, ["age", "idh_mutant"], ["noise"], n_boot=25, cv=3, repeats=3)
    res = with_factor.uns["compare"]
    assert res["test"].loc["likelihood_ratio", "p"] > 0.05
    delta = res["delta_c"].iloc[0]
    assert abs(delta["cv_mean"]) < 0.03
    assert delta["estimate"] >= delta["cv_mean"]


def test_compare_bad_input(with_factor):
    with pytest.raises(ValueError, match="not in base"):
        rg.survival.compare(with_factor, ["age"], ["age"])
    with_factor.obs["os_event"] = np.arange(with_factor.n_obs) < 4  # 4 events cannot fill 5 test folds
    with pytest.raises(
        rg.errors.DataFormatError,
        match=r"compare: class 'event' has 4 patients, fewer than the cv=5 outer folds; use cv=4",
    ):
        rg.survival.compare(with_factor, ["age"], ["f1"], n_boot=5, cv=5)


def test_nomogram_matches_cox_model(with_factor):
    from statsmodels.duration.hazard_regression import PHReg

    mdata = with_factor
    mdata.obs["grade"] = pd.Categorical(np.random.default_rng(1).choice(["G2", "G3", "G4"], mdata.n_obs))
    covariates = ["age", "idh_mutant", "grade", "f1"]
    rg.survival.cox(mdata, covariates)
    rg.survival.nomogram(mdata, times=[12, 24])
    res = mdata.uns["nomogram"]
    spans = res["points"].groupby("covariate")["points"].agg(lambda p: p.max() - p.min())
    assert spans.max() == pytest.approx(100) and (spans <= 100 + 1e-9).all()
    assert set(res["points"].query("covariate == 'grade'")["value"]) == {"G2", "G3", "G4"}
    params = res["params"]
    lp = params["lp_at_zero"] + mdata.obs["nomogram_points"] / params["points_per_unit"]
    np.testing.assert_allclose(lp, mdata.obs["cox_risk"], atol=1e-10)
    # survival from total points equals the Breslow prediction of statsmodels' PHReg
    X = pd.get_dummies(mdata.obs[covariates], columns=["grade"], drop_first=True).astype(float)
    fit = PHReg(mdata.obs["os_months"], X, status=mdata.obs["os_event"].astype(float), ties="efron").fit()
    grid, cumhaz = fit.baseline_cumulative_hazard[0][:2]
    h0 = cumhaz[np.searchsorted(grid, 12, side="right") - 1]
    patient = mdata.obs_names[0]
    expected = np.exp(-h0 * np.exp(X.loc[patient].to_numpy() @ fit.params))
    totals = res["total_points"]
    got = np.interp(mdata.obs.loc[patient, "nomogram_points"], totals["total_points"], totals["survival_12"])
    assert got == pytest.approx(expected, abs=0.01)  # linear interpolation between 101 rows


def test_nomogram_matches_r_rms():
    """Points of rms::nomogram (tests/data/signature/make_nomogram_reference.R)."""
    from pathlib import Path

    here = Path(__file__).parent / "data" / "signature"
    data = pd.read_csv(here / "nomogram_input.csv")
    ref = pd.read_csv(here / "nomogram_reference.csv", dtype={"value": str})
    scale = pd.read_csv(here / "nomogram_reference_scale.csv")
    mdata = rg.datasets.synthetic_cohort(n_patients=150, n_features=30, n_genes=100, seed=21)
    obs = mdata.obs
    np.testing.assert_allclose(obs["age"], data["age"])
    obs["os_months"], obs["os_event"] = data["time"].to_numpy(), data["status"].astype(bool).to_numpy()
    obs["idh"] = data["idh"].astype(bool).to_numpy()
    obs["grade"] = pd.Categorical(data["grade"].to_numpy())
    obs["f1"] = data["f1"].to_numpy()
    rg.survival.cox(mdata, ["age", "idh", "grade", "f1"])
    # rms::cph stops at a looser convergence criterion than statsmodels: agreement to ~2e-6
    np.testing.assert_allclose(mdata.uns["cox"]["summary"]["coef"], scale["value"], rtol=1e-5)
    rg.survival.nomogram(mdata, times=[12])
    res = mdata.uns["nomogram"]
    assert res["params"]["points_per_unit"] == pytest.approx(scale["points_per_unit"].iloc[0], rel=1e-5)
    ours = res["points"].replace({"value": {"False": "0", "True": "1"}})
    merged = ref.merge(ours, on=["covariate", "value"], how="left", suffixes=("_r", ""))
    assert merged["points"].notna().all(), merged[merged["points"].isna()]
    np.testing.assert_allclose(merged["points"], merged["points_r"], rtol=1e-5, atol=1e-6)
    assert len(ours) == len(ref)


def test_nomogram_refuses_strata(with_factor):
    rg.survival.cox(with_factor, ["age", "f1"], strata="site")
    with pytest.raises(ValueError, match="stratified"):
        rg.survival.nomogram(with_factor)


def test_results_round_trip_and_redraw(split, with_factor, tmp_path):
    _, validation = split
    rg.survival.compare(with_factor, ["age"], ["f1"], n_boot=10, cv=None)
    rg.survival.cox(with_factor, ["age", "idh_mutant", "f1"])
    rg.survival.nomogram(with_factor, times=[12])
    for mdata, keys in ((validation, ["evaluate"]), (with_factor, ["compare", "nomogram"])):
        back = rg.io.read_h5mu(rg.io.write_h5mu(mdata, tmp_path / "x.h5mu"))
        for key in keys:
            for name, value in mdata.uns[key].items():
                if isinstance(value, pd.DataFrame) and len(value.columns):
                    pd.testing.assert_frame_equal(back.uns[key][name], value, check_dtype=False)
        if "evaluate" in keys:  # plots redraw from the reloaded file
            for plot in (rg.pl.calibration, rg.pl.time_auc, rg.pl.decision_curve, rg.pl.risk_distribution):
                assert plot(back).has_data()
        else:
            assert len(rg.pl.nomogram(back).lines) > 10


def test_evaluate_constant_score_gives_defined_values(tmp_path):
    mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    mdata.obs["empty_model"] = 0.0  # the score of a final model that selected no feature
    with pytest.warns(UserWarning, match=r"'empty_model' is constant \(0\) over the 80 patients"):
        rg.survival.evaluate(mdata, "empty_model", n_boot=20)
    res = mdata.uns["evaluate"]
    np.testing.assert_array_equal(res["concordance"]["estimate"], [0.5, 0.5])
    assert (res["auc"]["auc"] == 0.5).all()
    assert res["calibration"].empty and res["calibration_slope"]["slope"].isna().all()
    assert res["params"]["constant_risk"] and res["params"]["n_groups_made"] == 0
    back = rg.io.read_h5mu(rg.io.write_h5mu(mdata, tmp_path / "c.h5mu"))
    assert back.uns["evaluate"]["calibration"].empty


def test_evaluate_says_when_ties_merge_calibration_groups():
    mdata = rg.datasets.synthetic_cohort(n_patients=90, n_genes=100, seed=0)
    truth = mdata.uns["truth"]["factors"]["F1"].to_numpy()
    mdata.obs["tied"] = np.where(np.arange(90) < 40, 0.0, 0.5 * truth)  # 40 patients of empty folds tie at 0
    with pytest.warns(UserWarning, match=r"asked for 4 calibration groups but made 3: 40 of 90 patients share"):
        rg.survival.evaluate(mdata, "tied", n_groups=4, n_boot=10)
    res = mdata.uns["evaluate"]
    assert len(res["calibration"]) == 3 and res["params"]["n_groups_made"] == 3
    assert res["calibration"]["n"].sum() == 90


def test_median_follow_up_is_the_reverse_kaplan_meier_median(glioma):
    from radiogenomics.cli import summary
    from radiogenomics.survival._evaluate import median_follow_up

    t, e = glioma.obs["os_months"].to_numpy(float), glioma.obs["os_event"]
    assert median_follow_up(t, e) == pytest.approx(26.3, abs=0.05)  # not the median observed time
    assert np.nanmedian(t) == pytest.approx(12.5, abs=0.05)
    # the same definition by hand: Kaplan-Meier of censoring (deaths censored), first time at or below 0.5
    from lifelines import KaplanMeierFitter

    ok = ~np.isnan(t) & e.notna().to_numpy()
    kmf = KaplanMeierFitter().fit(t[ok], ~e[ok].to_numpy(dtype=bool))
    assert median_follow_up(t, e) == pytest.approx(kmf.median_survival_time_)
    assert "median follow-up 26.3 months (reverse Kaplan-Meier)" in summary(glioma)


def test_evaluate_labels_the_in_sample_score_apparent(split):
    train, _ = split
    train = train.copy()
    with pytest.warns(UserWarning, match=r"'risk_score' is the final model of a signature fitted on these patients"):
        rg.survival.evaluate(train, "risk_score", n_boot=10, key_added="apparent")
    rg.survival.evaluate(train, "risk_score_cv", n_boot=10, key_added="honest")  # no warning
    apparent, honest = train.uns["apparent"], train.uns["honest"]
    assert apparent["params"]["apparent"] and not honest["params"]["apparent"]
    c = apparent["concordance"].loc["harrell_c", "estimate"], honest["concordance"].loc["harrell_c", "estimate"]
    assert c[0] > c[1]  # in-sample is optimistic
