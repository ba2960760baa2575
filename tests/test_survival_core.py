"""Kaplan-Meier, log-rank, Cox, cox.zph and cut-points against R survival 3.5-3 and planted signal."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics.errors import DataFormatError, MissingResultError, ParameterError
from radiogenomics.survival._cox import harrell_c
from radiogenomics.survival._cut import maxstat

DATA = Path(__file__).parent / "data" / "survival"
ROSSI_COVS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
RTOL = 1e-6


@pytest.fixture(scope="module")
def ref():
    frames = [pd.read_csv(DATA / "r_survival_rossi_lung.csv"), pd.read_csv(DATA / "r_survival_extra.csv")]
    table = pd.concat(frames, ignore_index=True)
    table["term"] = table["term"].fillna("")
    return table


def _get(ref, dataset, analysis, quantity, term=""):
    rows = ref[(ref.dataset == dataset) & (ref.analysis == analysis) & (ref.quantity == quantity) & (ref.term == term)]
    assert len(rows) == 1, (dataset, analysis, quantity, term)
    return float(rows["value"].iloc[0])


def _mudata(frame: pd.DataFrame) -> md.MuData:
    frame = frame.reset_index(drop=True)
    index = [f"P{i:04d}" for i in range(len(frame))]
    mdata = md.MuData({"clin": ad.AnnData(np.zeros((len(frame), 1)), obs=pd.DataFrame(index=index))})
    for col in frame.columns:
        mdata.obs[col] = frame[col].to_numpy()
    return mdata


@pytest.fixture
def rossi():
    frame = pd.read_csv(DATA / "rossi.csv")
    frame["arrest"] = frame["arrest"].astype(bool)
    return _mudata(frame)


@pytest.fixture
def lung():
    frame = pd.read_csv(DATA / "Rsurvival_lung.csv")
    frame["dead"] = frame["status"] == 2
    frame["ecog"] = pd.Categorical(frame["ph.ecog"].map(lambda v: None if np.isnan(v) else str(int(v))))
    return _mudata(frame)


def _check_cox(mdata, ref, dataset, analysis, terms, *, r_terms=None):
    summary = mdata.uns["cox"]["summary"]
    columns = {"coef": "coef", "exp(coef)": "exp(coef)", "se(coef)": "se(coef)", "z": "z", "p": "p"}
    columns |= {"lower95_exp": "exp(coef) lower 95%", "upper95_exp": "exp(coef) upper 95%"}
    r_terms = r_terms or terms
    for ours, theirs in zip(terms, r_terms, strict=True):
        for r_name, col in columns.items():
            rows = ref[(ref.analysis == analysis) & (ref.quantity == r_name) & (ref.term == theirs)]
            if len(rows):
                np.testing.assert_allclose(
                    summary.loc[ours, col], rows["value"].iloc[0], rtol=RTOL, err_msg=f"{ours} {col}"
                )


@pytest.mark.parametrize("ties", ["efron", "breslow", "exact"])
def test_cox_rossi_matches_r(rossi, ref, ties):
    rg.survival.cox(rossi, ROSSI_COVS, time="week", event="arrest", ties=ties)
    an = f"coxph_{ties}"
    _check_cox(rossi, ref, "rossi", an, ROSSI_COVS)
    tests = rossi.uns["cox"]["tests"]
    params = rossi.uns["cox"]["params"]
    np.testing.assert_allclose(tests.loc["likelihood_ratio", "statistic"], _get(ref, "rossi", an, "LR_test"), rtol=RTOL)
    np.testing.assert_allclose(tests.loc["score", "statistic"], _get(ref, "rossi", an, "score_test"), rtol=RTOL)
    np.testing.assert_allclose(tests.loc["likelihood_ratio", "p"], _get(ref, "rossi", an, "LR_p"), rtol=RTOL)
    # R prints the Wald statistic with 2 decimals
    assert abs(tests.loc["wald", "statistic"] - _get(ref, "rossi", an, "wald_test")) < 0.005
    np.testing.assert_allclose(params["loglik"], _get(ref, "rossi", an, "loglik_model"), rtol=RTOL)
    np.testing.assert_allclose(params["loglik_null"], _get(ref, "rossi", an, "loglik_null"), rtol=RTOL)
    np.testing.assert_allclose(rossi.uns["cox"]["concordance"], _get(ref, "rossi", an, "concordance"), rtol=RTOL)
    assert params["n"] == 432 and params["n_events"] == 114
    assert (tests["df"] == 7).all()


def test_cox_linear_predictor_centred_as_r(rossi, ref):
    rg.survival.cox(rossi, ROSSI_COVS, time="week", event="arrest")
    for i in range(3):
        expected = _get(ref, "rossi", "coxph_efron", "lp", f"row{i + 1}")
        np.testing.assert_allclose(rossi.obs["cox_risk"].iloc[i], expected, rtol=RTOL)


def test_cox_strata_matches_r(rossi, ref):
    covs = [c for c in ROSSI_COVS if c != "race"]
    rg.survival.cox(rossi, covs, time="week", event="arrest", strata="race")
    an = "coxph_efron_strata_race"
    _check_cox(rossi, ref, "rossi", an, covs)
    tests = rossi.uns["cox"]["tests"]
    np.testing.assert_allclose(tests.loc["likelihood_ratio", "statistic"], _get(ref, "rossi", an, "LR_test"), rtol=RTOL)
    np.testing.assert_allclose(tests.loc["score", "statistic"], _get(ref, "rossi", an, "score_test"), rtol=RTOL)
    np.testing.assert_allclose(rossi.uns["cox"]["concordance"], _get(ref, "rossi", an, "concordance"), rtol=RTOL)


def test_cox_lung_missing_rows_warn_and_match_r(lung, ref):
    with pytest.warns(UserWarning, match="1 patients with missing covariate values are excluded"):
        rg.survival.cox(lung, ["age", "sex", "ph.ecog"], time="time", event="dead")
    an = "coxph_age_sex_ph.ecog"
    _check_cox(lung, ref, "lung", an, ["age", "sex", "ph.ecog"])
    assert lung.uns["cox"]["params"]["n"] == 227
    np.testing.assert_allclose(lung.uns["cox"]["concordance"], _get(ref, "lung", an, "concordance"), rtol=RTOL)
    assert np.isnan(lung.obs["cox_risk"]).sum() == 1


def test_cox_categorical_dummy_coding_matches_r(lung, ref):
    with pytest.warns(UserWarning, match="excluded"):
        rg.survival.cox(lung, ["age", "ecog"], time="time", event="dead")
    terms = lung.uns["cox"]["terms"]
    assert terms.loc[terms.covariate == "ecog", "reference"].unique().tolist() == ["0"]
    ours = ["age", "ecog[1]", "ecog[2]", "ecog[3]"]
    assert lung.uns["cox"]["summary"].index.tolist() == ours
    _check_cox(lung, ref, "lung", "coxph_age_ecog_factor", ours, r_terms=["age", "ecog1", "ecog2", "ecog3"])
    tests = lung.uns["cox"]["tests"]
    an = "coxph_age_ecog_factor"
    np.testing.assert_allclose(tests.loc["likelihood_ratio", "statistic"], _get(ref, "lung", an, "LR_test"), rtol=RTOL)
    np.testing.assert_allclose(tests.loc["score", "statistic"], _get(ref, "lung", an, "score_test"), rtol=RTOL)
    np.testing.assert_allclose(lung.uns["cox"]["concordance"], _get(ref, "lung", an, "concordance"), rtol=RTOL)


def test_cox_exact_with_strata_matches_r(lung, ref):
    with pytest.warns(UserWarning, match="excluded"):
        rg.survival.cox(lung, ["age", "ph.ecog"], time="time", event="dead", ties="exact", strata="sex")
    an = "coxph_exact_strata_sex"
    _check_cox(lung, ref, "lung", an, ["age", "ph.ecog"])
    np.testing.assert_allclose(lung.uns["cox"]["params"]["loglik"], _get(ref, "lung", an, "loglik_model"), rtol=RTOL)
    tests = lung.uns["cox"]["tests"]
    np.testing.assert_allclose(tests.loc["likelihood_ratio", "statistic"], _get(ref, "lung", an, "LR_test"), rtol=RTOL)
    np.testing.assert_allclose(tests.loc["score", "statistic"], _get(ref, "lung", an, "score_test"), rtol=RTOL)


@pytest.mark.parametrize(
    ("analysis", "ties", "transform", "strata"),
    [
        ("cox.zph_efron_km", "efron", "km", None),
        ("cox.zph_efron_rank", "efron", "rank", None),
        ("cox.zph_efron_identity", "efron", "identity", None),
        ("cox.zph_efron_log", "efron", "log", None),
        ("cox.zph_breslow_km", "breslow", "km", None),
        ("cox.zph_strata_race_km", "efron", "km", "race"),
    ],
)
def test_ph_test_matches_r_cox_zph(rossi, ref, analysis, ties, transform, strata):
    covs = [c for c in ROSSI_COVS if c != strata]
    rg.survival.cox(rossi, covs, time="week", event="arrest", ties=ties, strata=strata)
    rg.survival.ph_test(rossi, transform=transform)
    table = rossi.uns["cox_ph_test"]["table"]
    for term in [*covs, "GLOBAL"]:
        np.testing.assert_allclose(table.loc[term, "chisq"], _get(ref, "rossi", analysis, "chisq", term), rtol=RTOL)
        np.testing.assert_allclose(table.loc[term, "p"], _get(ref, "rossi", analysis, "p", term), rtol=RTOL)
    assert table.loc["GLOBAL", "df"] == len(covs)


def test_ph_test_factor_gets_one_multi_df_test(lung, ref):
    with pytest.warns(UserWarning, match="excluded"):
        rg.survival.cox(lung, ["age", "ecog"], time="time", event="dead")
    with pytest.warns(UserWarning, match="excluded"):
        rg.survival.ph_test(lung)
    table = lung.uns["cox_ph_test"]["table"]
    an = "cox.zph_age_ecog_factor_km"
    assert table.index.tolist() == ["age", "ecog", "GLOBAL"]
    assert table["df"].tolist() == [1, 3, 4]
    for term in table.index:
        np.testing.assert_allclose(table.loc[term, "chisq"], _get(ref, "lung", an, "chisq", term), rtol=RTOL)


def test_ph_test_refuses_changed_data(rossi):
    rg.survival.cox(rossi, ["age", "prio"], time="week", event="arrest")
    rossi.obs["age"] = rossi.obs["age"] + np.arange(rossi.n_obs) % 3
    with pytest.raises(ValueError, match="changed since"):
        rg.survival.ph_test(rossi)


def _km_at(table, group, t):
    return table[(table["group"] == group) & (table["time"] <= t)].iloc[-1]


@pytest.mark.parametrize(
    ("dataset", "analysis", "groupby", "conf_type"),
    [
        ("rossi", "km_by_fin", "fin", "log"),
        ("lung", "km_all", None, "log"),
        ("lung", "km_by_sex", "sex", "log"),
        ("lung", "km_by_sex_loglog", "sex", "log-log"),
    ],
)
def test_kaplan_meier_matches_r(rossi, lung, ref, dataset, analysis, groupby, conf_type):
    mdata, time, event = (rossi, "week", "arrest") if dataset == "rossi" else (lung, "time", "dead")
    rg.survival.kaplan_meier(mdata, time=time, event=event, groupby=groupby, conf_type=conf_type)
    table = mdata.uns["kaplan_meier"]["table"]
    median = mdata.uns["kaplan_meier"]["median"]
    rows = ref[(ref.dataset == dataset) & (ref.analysis == analysis)]
    columns = {"surv": "survival", "std.err": "std_err", "lower95": "ci_lower", "upper95": "ci_upper", "n.risk": None}
    checked = 0
    for _, row in rows.iterrows():
        group = "all" if row.term == "all" else row.term.split("=")[1]
        quantity = row.quantity
        if "@" in quantity:
            name, t = quantity.split("@")
            at = _km_at(table, group, float(t))
            if name == "n.risk":
                later = table[(table["group"] == group) & (table["time"] >= float(t))]
                assert later["at_risk"].iloc[0] == row.value
            else:
                np.testing.assert_allclose(at[columns[name]], row.value, rtol=RTOL, err_msg=quantity)
            checked += 1
        elif quantity in ("median", "0.95LCL", "0.95UCL"):
            col = {"median": "median", "0.95LCL": "ci_lower", "0.95UCL": "ci_upper"}[quantity]
            value = median.loc[group, col]
            assert (np.isnan(value) and np.isnan(row.value)) or value == row.value, (group, quantity)
            checked += 1
        elif quantity in ("rmean", "se(rmean)"):
            col = "rmean" if quantity == "rmean" else "rmean_se"
            np.testing.assert_allclose(median.loc[group, col], row.value, rtol=RTOL, err_msg=quantity)
        elif quantity in ("records", "events"):
            assert median.loc[group, "n" if quantity == "records" else "events"] == row.value
    assert checked >= 9


def test_kaplan_meier_matches_statsmodels(lung):
    from statsmodels.duration.survfunc import SurvfuncRight

    rg.survival.kaplan_meier(lung, time="time", event="dead")
    table = lung.uns["kaplan_meier"]["table"]
    sf = SurvfuncRight(lung.obs["time"].to_numpy(float), lung.obs["dead"].to_numpy(float))
    ours = table.set_index("time").loc[sf.surv_times]
    np.testing.assert_allclose(ours["survival"], sf.surv_prob, rtol=1e-12)
    np.testing.assert_allclose(ours["std_err"], sf.surv_prob_se, rtol=1e-10)
    np.testing.assert_array_equal(ours["at_risk"], sf.n_risk)


@pytest.mark.parametrize(
    ("dataset", "analysis", "groupby", "strata"),
    [
        ("rossi", "survdiff_logrank_fin", "fin", None),
        ("rossi", "survdiff_logrank_race", "race", None),
        ("rossi", "survdiff_logrank_fin_strata_race", "fin", "race"),
        ("lung", "survdiff_logrank_sex", "sex", None),
    ],
)
def test_logrank_matches_r(rossi, lung, ref, dataset, analysis, groupby, strata):
    mdata, time, event = (rossi, "week", "arrest") if dataset == "rossi" else (lung, "time", "dead")
    rg.survival.logrank(mdata, groupby, time=time, event=event, strata=strata)
    test = mdata.uns["logrank"]["test"].loc["logrank"]
    np.testing.assert_allclose(test["chisq"], _get(ref, dataset, analysis, "chisq"), rtol=RTOL)
    groups = mdata.uns["logrank"]["groups"]
    for _, row in ref[(ref.analysis == analysis) & (ref.quantity == "expected")].iterrows():
        np.testing.assert_allclose(groups.loc[row.term.split("=")[1], "expected"], row.value, rtol=RTOL)


def test_logrank_k_groups_and_trend_match_r(lung, ref):
    with pytest.warns(UserWarning, match="1 patients with a missing 'ph.ecog'"):
        rg.survival.logrank(lung, "ph.ecog", time="time", event="dead", trend=True)
    test = lung.uns["logrank"]["test"]
    np.testing.assert_allclose(
        test.loc["logrank", "chisq"], _get(ref, "lung", "survdiff_logrank_ecog", "chisq"), rtol=RTOL
    )
    assert test.loc["logrank", "df"] == 3
    np.testing.assert_allclose(test.loc["trend", "chisq"], _get(ref, "lung", "logrank_trend_ecog", "chisq"), rtol=RTOL)
    assert lung.uns["logrank"]["groups"].index.tolist() == ["0", "1", "2", "3"]


def test_logrank_matches_statsmodels_survdiff(rossi):
    from statsmodels.duration.survfunc import survdiff

    rg.survival.logrank(rossi, "fin", time="week", event="arrest", strata="race")
    obs = rossi.obs
    chisq, _ = survdiff(obs["week"].to_numpy(float), obs["arrest"].to_numpy(float), obs["fin"], strata=obs["race"])
    np.testing.assert_allclose(rossi.uns["logrank"]["test"].loc["logrank", "chisq"], chisq, rtol=1e-10)


def test_negative_times_raise(rossi):
    rossi.obs.loc[rossi.obs_names[3], "week"] = -1.0
    with pytest.raises(ValueError, match="Negative times in 'week'"):
        rg.survival.cox(rossi, ["age"], time="week", event="arrest")
    with pytest.raises(ValueError, match="Negative times"):
        rg.survival.kaplan_meier(rossi, time="week", event="arrest")


def test_missing_times_warn_with_count(rossi):
    rossi.obs.loc[rossi.obs_names[:2], "week"] = np.nan
    with pytest.warns(UserWarning, match="2 of 432 patients have a missing 'week'"):
        rg.survival.kaplan_meier(rossi, time="week", event="arrest")
    assert rossi.uns["kaplan_meier"]["median"].loc["all", "n"] == 430
    with pytest.warns(UserWarning, match="2 of 432 patients"):
        rg.survival.cox(rossi, ["age"], time="week", event="arrest")
    assert rossi.uns["cox"]["params"]["n_excluded"] == 2


def test_non_boolean_events_raise(lung):
    with pytest.raises(DataFormatError, match="must be boolean"):
        rg.survival.cox(lung, ["age"], time="time", event="status")
    lung.obs["txt"] = np.where(lung.obs["dead"], "dead", "alive")
    with pytest.raises(DataFormatError, match="must be boolean"):
        rg.survival.kaplan_meier(lung, time="time", event="txt")


def test_no_events_raise(rossi):
    rossi.obs["arrest"] = False
    with pytest.raises(ValueError, match="no events"):
        rg.survival.cox(rossi, ["age"], time="week", event="arrest")
    with pytest.raises(ValueError, match="no events"):
        rg.survival.logrank(rossi, "fin", time="week", event="arrest")


def test_single_group(rossi):
    rossi.obs["one"] = "a"
    with pytest.raises(ValueError, match="single group"):
        rg.survival.logrank(rossi, "one", time="week", event="arrest")
    with pytest.warns(UserWarning, match="single group; no log-rank test"):
        rg.survival.kaplan_meier(rossi, time="week", event="arrest", groupby="one")
    assert "logrank" not in rossi.uns["kaplan_meier"]


def test_constant_covariate_raises(rossi):
    rossi.obs["const"] = 1.0
    with pytest.raises(ValueError, match=r"\['const'\] are constant"):
        rg.survival.cox(rossi, ["age", "const"], time="week", event="arrest")
    rossi.obs["one_level"] = pd.Categorical(["x"] * rossi.n_obs)
    with pytest.raises(ValueError, match="single level"):
        rg.survival.cox(rossi, ["one_level"], time="week", event="arrest")


def test_separating_covariate_raises_convergence_error(rossi):
    from radiogenomics.errors import ConvergenceError

    # everyone with an early time has leaky = 1: the partial likelihood increases without bound
    rossi.obs["leaky"] = (rossi.obs["week"] < 10).astype(float)
    with pytest.raises(ConvergenceError, match="separate events perfectly"):
        rg.survival.cox(rossi, ["leaky"], time="week", event="arrest")


def test_bad_ties_option(rossi):
    with pytest.raises(ValueError, match="ties='bogus'"):
        rg.survival.cox(rossi, ["age"], time="week", event="arrest", ties="bogus")


def test_concordance_convention_higher_risk_is_worse():
    from lifelines.utils import concordance_index

    rng = np.random.default_rng(1)
    risk = rng.normal(size=200)
    time = rng.exponential(np.exp(-risk))
    event = rng.random(200) < 0.8
    c = harrell_c(time, event, risk)
    assert c > 0.65
    np.testing.assert_allclose(harrell_c(time, event, -risk), 1 - c, rtol=1e-12)
    # lifelines takes a survival-style score: the same C only after negating the risk
    np.testing.assert_allclose(concordance_index(time, -risk, event), c, rtol=1e-10)


def test_cox_planted_factor_is_recovered(mdata):
    mdata.obs["F1"] = mdata.uns["truth"]["factors"]["F1"].reindex(mdata.obs_names).to_numpy()
    rg.survival.cox(mdata, ["F1", "age", "idh_mutant"])
    row = mdata.uns["cox"]["summary"].loc["F1"]
    assert row["coef"] > 0
    assert row["p"] < 0.05
    assert mdata.uns["cox"]["concordance"] > 0.6
    assert np.corrcoef(mdata.obs["cox_risk"], mdata.obs["F1"])[0, 1] > 0


def test_cox_null_covariate_is_rarely_significant(mdata):
    pvalues = []
    for seed in range(40):
        mdata.obs["noise"] = np.random.default_rng(seed).normal(size=mdata.n_obs)
        rg.survival.cox(mdata, ["noise"])
        pvalues.append(mdata.uns["cox"]["summary"].loc["noise", "p"])
    pvalues = np.array(pvalues)
    # 40 null tests at alpha 0.05: 2 expected; P(>= 7) < 0.01 under the null
    assert (pvalues < 0.05).sum() <= 6
    assert 0.3 < np.median(pvalues) < 0.7


def test_logrank_median_split_of_planted_factor(mdata):
    mdata.obs["F1"] = mdata.uns["truth"]["factors"]["F1"].reindex(mdata.obs_names).to_numpy()
    rg.survival.dichotomize(mdata, "F1")
    rg.survival.kaplan_meier(mdata, groupby="F1_group")
    assert mdata.uns["kaplan_meier"]["logrank"].loc["logrank", "p"] < 0.05
    table = mdata.uns["kaplan_meier"]["table"]
    assert _km_at(table, "high", 12)["survival"] < _km_at(table, "low", 12)["survival"]


def test_dichotomize_fits_on_training_patients_only(mdata):
    train = np.arange(mdata.n_obs) < 80
    rg.survival.dichotomize(mdata, "age", train=train)
    cut = mdata.uns["age_group"]["params"]["cutpoint"]
    assert cut == np.median(mdata.obs["age"].to_numpy()[train])
    # changing validation patients does not move the cut-point
    other = mdata.copy()
    other.obs.loc[other.obs_names[~train], "age"] = 1000.0
    rg.survival.dichotomize(other, "age", train=train)
    assert other.uns["age_group"]["params"]["cutpoint"] == cut
    assert (other.obs["age_group"][~train] == "high").all()
    groups = mdata.obs["age_group"]
    assert ((mdata.obs["age"] > cut) == (groups == "high")).all()


def test_dichotomize_quantile_and_apply_cutpoint(mdata):
    rg.survival.dichotomize(mdata, "rna:CD274", method="quantile", quantile=0.25, key_added="cd274")
    assert (mdata.obs["cd274"] == "low").sum() == 30
    valid = rg.datasets.synthetic_cohort(n_patients=40, n_genes=100, seed=3)
    rg.survival.apply_cutpoint(valid, mdata.uns["cd274"], key_added="cd274")
    cut = mdata.uns["cd274"]["params"]["cutpoint"]
    assert valid.uns["cd274"]["params"]["cutpoint"] == cut
    assert valid.uns["cd274"]["params"]["source_method"] == "quantile"
    expected = np.where(rg._utils.resolve_keys(valid, ["rna:CD274"])["rna:CD274"] > cut, "high", "low")
    assert (valid.obs["cd274"].astype(str).to_numpy() == expected).all()
    # the same fit read from the training cohort, or given as a number with its score
    by_cohort = rg.survival.apply_cutpoint(valid, mdata, key="cd274", key_added="cd274", copy=True)
    by_number = rg.survival.apply_cutpoint(valid, cut, score="rna:CD274", key_added="cd274", copy=True)
    for other in (by_cohort, by_number):
        assert (other.obs["cd274"].astype(str).to_numpy() == expected).all()
    assert by_cohort.uns["cd274"]["params"]["source_method"] == "quantile"
    with pytest.raises(ParameterError, match="score="):
        rg.survival.apply_cutpoint(valid, cut)
    with pytest.raises(MissingResultError, match="rna:CD274_group"):
        rg.survival.apply_cutpoint(valid, mdata, score="rna:CD274")


def test_maxstat_planted_signal_and_null(mdata):
    mdata.obs["F1"] = mdata.uns["truth"]["factors"]["F1"].reindex(mdata.obs_names).to_numpy()
    rg.survival.dichotomize(mdata, "F1", method="maxstat", key_added="f1")
    params = mdata.uns["f1"]["params"]
    assert params["p"] < 0.05
    scan = mdata.uns["f1"]["scan"]
    assert scan["prop_low"].between(0.1, 0.9).all()
    assert params["cutpoint"] in scan["cutpoint"].to_numpy()
    # null: the corrected p-values are not small, and the permutation p agrees with Lausen-Schumacher
    t = mdata.obs["os_months"].to_numpy(float)
    e = mdata.obs["os_event"].to_numpy(bool)
    noise = np.random.default_rng(5).normal(size=mdata.n_obs)
    _, stat, p_lausen, _ = maxstat(noise, t, e)
    _, stat_perm, p_perm, _ = maxstat(noise, t, e, p_method="permutation", n_permutations=300, seed=0)
    assert stat == stat_perm
    assert p_lausen > 0.05 and p_perm > 0.05
    assert abs(p_lausen - p_perm) < 0.2


def test_results_survive_h5mu_round_trip(mdata, tmp_path):
    mdata.obs["F1"] = mdata.uns["truth"]["factors"]["F1"].reindex(mdata.obs_names).to_numpy()
    rg.survival.cox(mdata, ["F1", "age", "sex"])
    rg.survival.ph_test(mdata)
    rg.survival.dichotomize(mdata, "F1", method="maxstat", key_added="f1")
    rg.survival.kaplan_meier(mdata, groupby="f1")
    rg.survival.logrank(mdata, "site", trend=True)
    path = rg.io.write_h5mu(mdata, tmp_path / "surv.h5mu")
    back = rg.io.read_h5mu(path)
    stored = {"cox": ["summary", "tests", "terms"], "cox_ph_test": ["table"], "logrank": ["test"], "f1": ["scan"]}
    stored["kaplan_meier"] = ["table", "median", "logrank"]
    for key, table in [(key, table) for key, tables in stored.items() for table in tables]:
        pd.testing.assert_frame_equal(back.uns[key][table], mdata.uns[key][table], check_dtype=False, obj=key)
    assert back.uns["cox"]["concordance"] == mdata.uns["cox"]["concordance"]
    assert back.uns["f1"]["params"]["cutpoint"] == mdata.uns["f1"]["params"]["cutpoint"]
    np.testing.assert_allclose(back.obs["cox_risk"], mdata.obs["cox_risk"])
    rg.pl.kaplan_meier(back)
    rg.pl.forest(back)


def test_dichotomize_train_column_and_missing_scores(mdata):
    mdata.obs["is_train"] = np.arange(mdata.n_obs) % 2 == 0
    mdata.obs["score"] = mdata.obs["age"].to_numpy(copy=True)
    mdata.obs.loc[mdata.obs_names[:3], "score"] = np.nan
    with pytest.warns(UserWarning, match="3 patients with a missing 'score' get no group"):
        rg.survival.dichotomize(mdata, "score", train="is_train")
    params = mdata.uns["score_group"]["params"]
    train_values = mdata.obs.loc[mdata.obs["is_train"], "score"].dropna()
    assert params["cutpoint"] == np.median(train_values)
    assert params["n_train"] == len(train_values)
    assert mdata.obs["score_group"].isna().sum() == 3
    with pytest.raises(ValueError, match="boolean mask"):
        rg.survival.dichotomize(mdata, "score", train=np.arange(5))


def test_pl_kaplan_meier_shows_at_risk_and_logrank(rossi):
    rg.survival.kaplan_meier(rossi, time="week", event="arrest", groupby="fin")
    ax = rg.pl.kaplan_meier(rossi)
    assert ax.get_title().startswith("log-rank p = 0.05")
    texts = [t.get_text() for t in ax.texts]
    assert "at risk" in texts
    assert "216" in texts  # both groups start with 216 patients at week 0
    rg.survival.cox(rossi, ROSSI_COVS, time="week", event="arrest")
    ax = rg.pl.forest(rossi)
    assert [t.get_text() for t in ax.get_yticklabels()] == ROSSI_COVS
