"""Tests of rg.survival.signature / apply_signature: null data gives null results, planted signal is found."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics.errors import MissingResultError
from radiogenomics.survival._coxnet import cox_log_partial_likelihood, fit_coxnet_cv
from radiogenomics.survival._metrics import harrell_c

NO_FEATURE = "signature: the final model selected no feature"
EMPTY_FOLDS = r"signature: \d+ of \d+ outer folds selected no feature"
# sparse 1se models often leave one outer fold empty; that warning has its own test below
pytestmark = pytest.mark.filterwarnings(r"ignore:.*outer folds selected no feature:UserWarning")


def _c_index(mdata, risk="risk_score"):
    obs = mdata.obs
    return harrell_c(obs["os_months"].to_numpy(float), obs["os_event"].to_numpy(bool), obs[risk].to_numpy(float))


@pytest.fixture(scope="module")
def trained():
    mdata = rg.datasets.synthetic_cohort(n_patients=200, seed=0)
    rg.survival.signature(mdata, cv=5)
    return mdata


def test_log_partial_likelihood_matches_statsmodels():
    from statsmodels.duration.hazard_regression import PHReg

    rng = np.random.default_rng(1)
    time = np.round(rng.exponential(10, 60))  # many ties
    event = rng.random(60) < 0.7
    x = rng.standard_normal((60, 2))
    beta = np.array([0.4, -0.3])
    ref = PHReg(time, x, status=event.astype(float), ties="breslow").loglike(beta)
    np.testing.assert_allclose(cox_log_partial_likelihood(x @ beta, time, event), ref, rtol=1e-10)


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_inner_cv_matches_r_cv_glmnet(l1_ratio):
    """Same folds and penalty path as R's cv.glmnet (tests/data/signature/make_cvglmnet_reference.R)."""
    from pathlib import Path

    from radiogenomics.survival._coxnet import _inner_deviance, penalty_rule

    here = Path(__file__).parent / "data" / "signature"
    data = pd.read_csv(here / "cvglmnet_input.csv")
    alphas = pd.read_csv(here / "cvglmnet_lambda.csv")["lambda"].to_numpy()
    ref = pd.read_csv(here / "cvglmnet_reference.csv").query("alpha == @l1_ratio")
    X = data.filter(like="x").to_numpy()
    folds = [(np.flatnonzero(data["fold"] != k), np.flatnonzero(data["fold"] == k)) for k in range(1, 6)]
    params = {"l1_ratio": l1_ratio, "tol": 1e-12, "max_iter": 1000000}
    penalized = np.ones(X.shape[1], dtype=bool)
    event = data["status"].to_numpy(bool)
    cvm, cvsd = _inner_deviance(X, data["time"].to_numpy(), event, folds, params, penalized, alphas, 0.95)
    np.testing.assert_allclose(cvm, ref["cvm"], rtol=1e-8)
    np.testing.assert_allclose(cvsd, ref["cvsd"], rtol=1e-8)
    index_min, index_1se = penalty_rule(cvm, cvsd)
    assert alphas[index_min] == pytest.approx(ref["lambda_min"].iloc[0], rel=1e-12)
    assert alphas[index_1se] == pytest.approx(ref["lambda_1se"].iloc[0], rel=1e-12)


def test_one_standard_error_rule_is_sparser(mdata):
    obs = mdata.obs
    X = rg._utils.modality_frame(mdata, "radiomics").to_numpy()
    fit = fit_coxnet_cv(X, obs["os_months"].to_numpy(float), obs["os_event"].to_numpy(bool), inner_cv=3)
    assert fit.index_1se <= fit.index_min
    assert fit.cvm[fit.index_1se] <= fit.cvm[fit.index_min] + fit.cvsd[fit.index_min]
    assert fit.n_nonzero[fit.index_1se] <= fit.n_nonzero[fit.index_min]
    assert fit.alphas.size == fit.cvm.size == 50


def test_planted_signal_is_recovered(trained):
    result = trained.uns["signature"]
    assert result["performance"].loc["harrell_c", "mean"] > 0.6
    assert result["performance"].loc["uno_c", "mean"] > 0.6
    planted = set(trained.uns["truth"]["radiomic_features"].query("factor == 'F1'")["feature"])
    selected = result["coefficients"].index
    assert len(planted & set(selected)) >= 5
    assert len(planted & set(selected[:5])) >= 3  # the largest coefficients are planted F1 features
    assert (result["coefficients"].loc[list(planted & set(selected)), "coef"].sum()) > 0  # F1 raises the hazard
    freq = result["selection"]["frequency"]
    assert freq[list(planted)].mean() > freq.drop(list(planted)).mean() + 0.3
    assert _c_index(trained, "risk_score_cv") > 0.55  # pooled over folds: each fold has its own model


@pytest.mark.parametrize("seed", range(4))
def test_null_features_give_chance_concordance(seed, request):
    mdata = rg.datasets.synthetic_cohort(n_patients=150, n_features=30, block=10, seed=100 + seed)
    rng = np.random.default_rng(seed)
    mdata.mod["radiomics"].X = rng.standard_normal(mdata.mod["radiomics"].shape).astype(np.float32)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", NO_FEATURE)
        rg.survival.signature(mdata, cv=4, rule="min", n_alphas=30, seed=seed)
    c = mdata.uns["signature"]["performance"].loc["harrell_c", "mean"]
    request.config.cache_null = [*getattr(request.config, "cache_null", []), c]
    assert 0.35 < c < 0.65
    if seed == 3:  # the average over the seeds
        assert abs(np.mean(request.config.cache_null) - 0.5) < 0.05


def test_null_features_one_se_rule_selects_nothing():
    mdata = rg.datasets.synthetic_cohort(n_patients=120, n_features=30, seed=7)
    mdata.mod["radiomics"].X = np.random.default_rng(7).standard_normal(mdata.mod["radiomics"].shape)
    with pytest.warns(UserWarning, match=NO_FEATURE):
        rg.survival.signature(mdata, cv=3, n_alphas=20)
    assert mdata.obs["risk_score"].nunique() == 1


def test_apply_signature_on_new_cohort_without_refitting(trained):
    validation = rg.datasets.synthetic_cohort(n_patients=200, seed=11)
    rg.survival.apply_signature(validation, trained.uns["signature"])
    assert _c_index(validation) > 0.6
    coefs = trained.uns["signature"]["coefficients"]
    z = (validation.mod["radiomics"][:, coefs.index].X - coefs["center"].to_numpy()) / coefs["scale"].to_numpy()
    np.testing.assert_allclose(validation.obs["risk_score"], z @ coefs["coef"].to_numpy(), rtol=1e-5)
    # applying to the training cohort reproduces the stored scores and keeps the full result
    again = trained.copy()
    rg.survival.apply_signature(again, again)
    np.testing.assert_allclose(again.obs["risk_score"], trained.obs["risk_score"], rtol=1e-12)
    assert "cv_scores" in again.uns["signature"]


def test_round_trip_then_apply_gives_identical_scores(trained, tmp_path):
    path = rg.io.write_h5mu(trained, tmp_path / "train.h5mu")
    back = rg.io.read_h5mu(path)
    for table in ("coefficients", "baseline", "cv_scores", "performance", "selection", "path"):
        pd.testing.assert_frame_equal(back.uns["signature"][table], trained.uns["signature"][table], check_dtype=False)
    validation = rg.datasets.synthetic_cohort(n_patients=60, seed=12)
    direct = rg.survival.apply_signature(validation, trained.uns["signature"], copy=True)
    reloaded = rg.survival.apply_signature(validation, back.uns["signature"], copy=True)
    np.testing.assert_array_equal(direct.obs["risk_score"], reloaded.obs["risk_score"])


def test_clinical_covariates_are_unpenalised(mdata):
    rg.survival.signature(mdata, cv=3, clinical=["age", "idh_mutant", "sex"], key_added="combined")
    coefs = mdata.uns["combined"]["coefficients"]
    clinical = coefs[coefs["kind"] == "clinical"]
    assert set(clinical.index) == {"age", "idh_mutant", "sex[male]"}
    assert clinical.loc["age", "coef"] > 0 and clinical.loc["idh_mutant", "coef"] < 0
    assert "combined_risk_score" in mdata.obs
    scores = mdata.obs["combined_risk_score"].copy()
    rg.survival.apply_signature(mdata, mdata, key="combined")
    np.testing.assert_allclose(mdata.obs["combined_risk_score"], scores, rtol=1e-12)


def test_elastic_net_and_forest(mdata):
    lasso = rg.survival.signature(mdata, cv=3, rule="min", n_alphas=20, copy=True)
    enet = rg.survival.signature(mdata, cv=3, rule="min", l1_ratio=0.3, n_alphas=20, copy=True)
    assert len(enet.uns["signature"]["coefficients"]) >= len(lasso.uns["signature"]["coefficients"])
    assert enet.uns["signature"]["params"]["l1_ratio"] == 0.3
    rg.survival.signature(mdata, method="rsf", cv=3, key_added="rsf")
    assert mdata.uns["rsf"]["performance"].loc["harrell_c", "mean"] > 0.55
    with pytest.raises(MissingResultError, match="rsf"):
        rg.survival.apply_signature(mdata, mdata, key="rsf")


def test_parallel_outer_folds_equal_serial():
    mdata = rg.datasets.synthetic_cohort(n_patients=60, n_features=30, seed=3)
    from joblib import parallel_config

    serial = rg.survival.signature(mdata, cv=3, n_alphas=20, copy=True)
    with parallel_config(backend="threading"):  # same dispatch as processes, without their start-up cost
        parallel = rg.survival.signature(mdata, cv=3, n_alphas=20, n_jobs=2, copy=True)
    pd.testing.assert_frame_equal(serial.uns["signature"]["cv_scores"], parallel.uns["signature"]["cv_scores"])


def test_more_features_than_patients_works():
    mdata = rg.datasets.synthetic_cohort(n_patients=60, n_features=300, seed=4)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", NO_FEATURE)  # 60 patients may not support any feature; no other warning
        rg.survival.signature(mdata, cv=3, rule="min", n_alphas=20)
    assert mdata.uns["signature"]["params"]["n_terms"] == 300
    assert mdata.obs["risk_score"].notna().all()


def test_constant_feature_is_dropped(mdata):
    mdata.mod["radiomics"].X[:, 0] = 3.0
    name = mdata.mod["radiomics"].var_names[0]
    rg.survival.signature(mdata, cv=3)
    assert name not in mdata.uns["signature"]["coefficients"].index
    assert mdata.uns["signature"]["selection"].loc[name, "frequency"] == 0


def test_no_events_raises(mdata):
    mdata.obs["os_event"] = False
    with pytest.raises(ValueError, match="no events in 'os_event'"):
        rg.survival.signature(mdata)


def test_missing_times_are_reported_not_dropped_silently(mdata):
    mdata.obs.loc[mdata.obs_names[:3], "os_months"] = np.nan
    with pytest.warns(UserWarning, match="3 of 120 patients have a missing 'os_months'"):
        rg.survival.signature(mdata, cv=3)
    assert mdata.uns["signature"]["params"]["n_patients"] == mdata.n_obs - 3
    assert mdata.obs["risk_score"].notna().all()  # still scored
    assert mdata.obs["risk_score_cv"].isna().sum() == 3


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"rule": "best"}, "rule must be"), ({"l1_ratio": 0.0}, "l1_ratio"), ({"method": "svm"}, "method must")],
)
def test_bad_options(mdata, kwargs, match):
    with pytest.raises(ValueError, match=match):
        rg.survival.signature(mdata, **kwargs)


def test_event_coding_is_checked_not_guessed(mdata):
    mdata.obs["os_event"] = np.where(mdata.obs["os_event"], 2, 1)  # R's lung coding: 1 = censored, 2 = dead
    with pytest.raises(ValueError, match="must be boolean"):
        rg.survival.signature(mdata)


def test_feature_keys_and_missing_feature_in_new_cohort(mdata):
    keys = [f"radiomics:{name}" for name in mdata.mod["radiomics"].var_names[:15]]
    rg.survival.signature(mdata, features=keys, cv=3, n_alphas=20)
    coefs = mdata.uns["signature"]["coefficients"]
    assert set(coefs["covariate"]) <= set(keys) and len(coefs) > 0
    other = rg.datasets.synthetic_cohort(n_patients=30, n_features=30, n_genes=100, seed=9)
    other.mod["radiomics"].var_names = [f"x{i}" for i in range(30)]
    with pytest.raises(KeyError, match="not found in modality 'radiomics'"):
        rg.survival.apply_signature(other, mdata.uns["signature"])


def test_empty_outer_folds_are_reported_with_their_ties():
    mdata = rg.datasets.synthetic_cohort(n_patients=120, n_features=30, seed=7)
    mdata.mod["radiomics"].X = np.random.default_rng(7).standard_normal(mdata.mod["radiomics"].shape)
    with (
        pytest.warns(UserWarning, match=NO_FEATURE),
        pytest.warns(UserWarning, match=r"1 of 3 outer folds selected no feature.* \(40 patients tied at 0"),
    ):
        rg.survival.signature(mdata, cv=3, n_alphas=20)
    res = mdata.uns["signature"]
    assert res["params"]["n_empty_folds"] == 1 and (res["cv_scores"]["n_selected"] == 0).sum() == 1
    assert (mdata.obs["risk_score_cv"] == 0).sum() == 40


def test_outer_folds_on_a_dask_cluster_equal_local(dask_client):
    mdata = rg.datasets.synthetic_cohort(n_patients=60, n_features=30, seed=3)
    local = rg.survival.signature(mdata, cv=3, n_alphas=20, copy=True)
    dasked = rg.survival.signature(mdata, cv=3, n_alphas=20, client=dask_client, copy=True)
    for table in ("cv_scores", "coefficients", "selection", "performance"):
        pd.testing.assert_frame_equal(dasked.uns["signature"][table], local.uns["signature"][table])
    np.testing.assert_array_equal(dasked.obs["risk_score_cv"], local.obs["risk_score_cv"])


def test_too_few_events_for_the_folds_says_which_cv_works(mdata):
    mdata.obs["os_event"] = np.arange(mdata.n_obs) < 9  # 9 events
    with pytest.raises(rg.errors.DataFormatError, match=r"at least 10 events \(found 9\); use cv=4\."):
        rg.survival.signature(mdata, cv=5)
    mdata.obs["os_event"] = np.arange(mdata.n_obs) >= 4  # 4 censored patients: too few for 5 folds
    with pytest.raises(
        rg.errors.DataFormatError, match=r"class 'censored' has 4 patients, fewer than the cv=5 outer folds; use cv=2\."
    ):
        rg.survival.signature(mdata, cv=5)


def test_signature_shap_ranks_a_planted_feature_first(trained):
    mdata = trained.copy()
    rg.survival.signature(mdata, cv=3, n_alphas=20, explain=True, key_added="explained")
    res = mdata.uns["explained"]
    shap = res["shap"]
    planted = set(mdata.uns["truth"]["radiomic_features"]["feature"][:10])
    assert shap.abs().mean().idxmax() in planted
    assert set(shap.columns) == set(res["coefficients"].index)  # the selected terms
    # linear SHAP adds up to the risk score (log relative hazard) minus its mean
    risk = mdata.obs["explained_risk_score"].to_numpy()
    np.testing.assert_allclose(shap.sum(axis=1) + res["params"]["shap_base_value"], risk, atol=1e-8)
    ax = rg.pl.shap_summary(mdata, key="explained", max_features=3)
    assert ax.get_yticklabels()[-1].get_text() == shap.abs().mean().idxmax()
    with pytest.raises(ValueError, match="explain=True needs method='lasso_cox'"):
        rg.survival.signature(mdata, method="rsf", explain=True)
