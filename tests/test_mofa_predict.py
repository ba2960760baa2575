"""MOFA+ factors, factor associations, imaging-to-molecular prediction and their plots."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import h5py
import mudata as md
import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg

GRID = {"C": [0.005, 0.05, 0.5]}  # a short tuning grid keeps the tests fast
MOFA_MODEL = Path(__file__).parent / "data" / "mofa" / "MOFA2_inst_extdata_model.hdf5"


def _log_cpm(mdata):
    rna = mdata["rna"]
    rna.X = np.log1p(rna.X / rna.X.sum(axis=1, keepdims=True) * 1e6)


def _best_abs_corr(truth: pd.DataFrame, factors: np.ndarray) -> pd.Series:
    k = truth.shape[1]
    corr = np.corrcoef(np.column_stack([truth.to_numpy(), factors]).T)[:k, k:]
    return pd.Series(np.abs(corr).max(axis=1), index=truth.columns)


# ----------------------------------------------------------------------------------------------- mofa


def test_mofa_recovers_planted_factors(mdata):
    _log_cpm(mdata)
    # site as MOFA group: per-site centring removes the planted scanner shift of the radiomics
    rg.integrate.mofa(mdata, mods=["radiomics", "rna"], n_factors=5, groups="site", scale_features=True, max_iter=300)
    truth = mdata.uns["truth"]["factors"]
    best = _best_abs_corr(truth, mdata.obsm["X_mofa"])
    assert (best > 0.9).all(), best
    # the factor matching F1 loads on the radiomic features planted for F1
    corr = np.corrcoef(np.column_stack([truth["F1"], mdata.obsm["X_mofa"]]).T)[0, 1:]
    weights = pd.Series(
        np.abs(mdata["radiomics"].varm["LFs"][:, np.argmax(np.abs(corr))]), mdata["radiomics"].var_names
    )
    planted = set(mdata.uns["truth"]["radiomic_features"].query("factor == 'F1'")["feature"])
    assert len(planted & set(weights.nlargest(10).index)) >= 8
    res = mdata.uns["mofa"]
    assert mdata["rna"].varm["LFs"].shape == (500, 5)
    assert res["variance"]["r2_percent"].between(0, 100).all()
    assert set(res["variance"]["group"]) == {"site1", "site2", "site3"}
    assert res["params"]["likelihoods"] == ["gaussian", "gaussian"]


def _mofa2_example() -> tuple[md.MuData, dict]:
    with h5py.File(MOFA_MODEL, "r") as f:
        samples = [s.decode() for s in f["samples"]["single_group"][()]]
        views = {}
        for view in ("view_0", "view_1"):
            features = [s.decode() for s in f["features"][view][()]]
            views[view] = ad.AnnData(
                X=f["data"][view]["single_group"][()], obs=pd.DataFrame(index=samples), var=pd.DataFrame(index=features)
            )
        published = {
            "total": f["variance_explained"]["r2_total"]["single_group"][()],
            "per_factor": f["variance_explained"]["r2_per_factor"]["single_group"][()],
        }
    return md.MuData(views), published


def test_mofa_reproduces_mofa2_example_model():
    mdata, published = _mofa2_example()
    np.testing.assert_allclose(published["total"], [76.2097, 76.9778], atol=1e-3)  # the README's numbers
    with pytest.warns(UserWarning, match="fewer than 15 per factor"):
        rg.integrate.mofa(mdata, n_factors=10, seed=42, scale_views=False, max_iter=1000)
    total = mdata.uns["mofa"]["variance_total"].set_index("view")["r2_percent"]
    np.testing.assert_allclose(total[["view_0", "view_1"]], [76.2, 77.0], atol=1.0)
    wide = mdata.uns["mofa"]["variance"].pivot(index="view", columns="factor", values="r2_percent")
    assert int((wide.max(axis=0) > 1.0).sum()) == 5  # five active factors
    for m, view in enumerate(["view_0", "view_1"]):
        np.testing.assert_allclose(
            np.sort(wide.loc[view].to_numpy())[::-1], np.sort(published["per_factor"][m])[::-1], atol=1.0
        )


def test_mofa_missing_views_bernoulli_and_key_added(mdata):
    _log_cpm(mdata)
    rna = mdata["rna"][20:].copy()  # 20 patients without RNA
    rna.obs_names = [f"{p}-01A-01R-A000-07" for p in rna.obs_names]
    rad = mdata["radiomics"].copy()
    cohort = rg.io.build_mudata({"radiomics": rad, "rna": rna, "mut": mdata["mut"].copy()}, mdata.obs[["site"]])
    with pytest.warns(UserWarning, match="mofa: ") as record:
        rg.integrate.mofa(cohort, n_factors=3, scale_features=True, max_iter=100, key_added="mofa_k")
    text = " ".join(str(w.message) for w in record)
    assert "patients missing from views (rna: 20 of 120)" in text and "views of very different sizes" in text
    missing = cohort.uns["mofa_k"]["n_missing_per_view"].set_index("view")
    assert missing.loc["rna", "n_patients_missing"] == 20 and missing.loc["radiomics", "n_patients_missing"] == 0
    assert missing.loc["mut", "likelihood"] == "bernoulli" and missing.loc["rna", "likelihood"] == "gaussian"
    assert not np.isnan(cohort.obsm["X_mofa_k"]).any()  # patients without RNA still get factors
    assert cohort["mut"].varm["LFs_mofa_k"].shape == (10, 3) and "X_mofa" not in cohort.obsm


def test_mofa_warns_about_raw_counts_and_scales(mdata):
    with pytest.warns(UserWarning, match="mofa: ") as record:
        rg.integrate.mofa(mdata, mods=["radiomics", "rna"], n_factors=2, max_iter=10)
    text = " ".join(str(w.message) for w in record)
    assert "'rna' looks like raw counts" in text and "rg.omics.normalize" in text
    assert "'radiomics' are on very different scales" in text and "scale_features=True" in text


def test_mofa_bad_input_messages(mdata):
    with pytest.raises(ValueError, match="declared Bernoulli"):
        rg.integrate.mofa(mdata, mods=["radiomics"], n_factors=2, likelihoods="bernoulli")
    with pytest.raises(ValueError, match="Unknown likelihood"):
        rg.integrate.mofa(mdata, mods=["radiomics"], n_factors=2, likelihoods="normal")
    with pytest.raises(KeyError, match=r"not a column of mdata\.obs"):
        rg.integrate.mofa(mdata, mods=["radiomics"], n_factors=2, groups="nope")


# ----------------------------------------------------------------------------------------------- factor associations


def test_factor_associations_planted_and_null(mdata):
    mdata.obsm["X_mofa"] = mdata.uns["truth"]["factors"].to_numpy()
    rg.integrate.factor_associations(mdata, obs=["idh_mutant", "age", "site"], time="os_months", event="os_event")
    res = mdata.uns["factor_associations"]["results"].set_index(["factor", "variable"])
    assert res.loc[("Factor2", "idh_mutant"), "padj"] < 1e-6 and res.loc[("Factor2", "idh_mutant"), "effect"] > 0
    assert res.loc[("Factor2", "mut:IDH1"), "padj"] < 1e-3
    cox = res.loc[("Factor1", "os_months|os_event")]
    assert cox["effect"] > 1.3 and cox["padj"] < 0.05  # planted log HR 0.8 per SD
    assert res.loc[("Factor1", "site"), "test"] == "kruskal"
    from lifelines import CoxPHFitter

    f1 = mdata.obsm["X_mofa"][:, 0]
    frame = pd.DataFrame({"z": (f1 - f1.mean()) / f1.std(), "t": mdata.obs["os_months"], "e": mdata.obs["os_event"]})
    ref = CoxPHFitter().fit(frame, "t", "e").summary.loc["z"]
    assert cox["effect"] == pytest.approx(ref["exp(coef)"], rel=1e-4) and cox["p"] == pytest.approx(ref["p"], rel=1e-3)
    null = np.random.default_rng(1).standard_normal((mdata.n_obs, 5))
    mdata.obsm["X_null"] = null
    rg.integrate.factor_associations(mdata, key="X_null", time="os_months", event="os_event", key_added="null")
    table = mdata.uns["null"]["results"]
    assert len(table) > 40 and (table["padj"] < 0.05).sum() == 0


# ----------------------------------------------------------------------------------------------- predict


def test_predict_shuffled_labels_give_chance_auc(mdata):
    aucs = []
    for seed in range(5):
        labels = mdata.obs["idh_mutant"].to_numpy().copy()
        np.random.default_rng(seed).shuffle(labels)
        mdata.obs["shuffled"] = labels
        rg.integrate.predict(mdata, "shuffled", model="logistic_l2", cv=3, repeats=1, seed=seed, grid=GRID)
        aucs.append(mdata.uns["predict"]["metrics"].loc[0, "value"])
    assert abs(np.mean(aucs) - 0.5) < 0.05, aucs


def test_predict_idh_from_radiomics_with_exclusions(mdata):
    mdata.obs["idh_mutant"] = mdata.obs["idh_mutant"].astype("boolean")
    mdata.obs.loc[mdata.obs_names[:10], "idh_mutant"] = pd.NA
    with pytest.warns(UserWarning, match=r"excluded 10 of 120 patients \(\{'missing target': 10\}\)"):
        rg.integrate.predict(mdata, "idh_mutant", cv=3, repeats=2, n_permutations=3, grid={"C": [0.05, 0.5, 5]})
    res = mdata.uns["predict"]
    auc = res["metrics"].set_index("metric").loc["auc"]
    assert auc["value"] > 0.7 and auc["ci_lower"] < auc["value"] < auc["ci_upper"]
    assert auc["p"] == pytest.approx(1 / 4)  # observed beats every permuted refit
    assert res["permutation"]["value"].mean() < 0.65
    assert len(res["folds"]) == 6 and res["params"]["n_patients"] == 110 and len(res["excluded"]) == 10
    assert set(res["roc"]["repeat"]) == {0, 1, 2} and res["roc"]["tpr"].between(0, 1).all()
    assert res["model"]["selected"].all() and (res["model"]["coef"] != 0).sum() > 0


def test_predict_target_from_modality_multiclass_and_regression(mdata):
    rg.integrate.predict(mdata, "mut:IDH1", model="logistic_l2", cv=3, repeats=1, grid=GRID, key_added="idh1")
    assert mdata.uns["idh1"]["params"]["classes"] == ["0.0", "1.0"]
    rg.integrate.predict(mdata, "site", model="logistic_l2", cv=3, repeats=1, grid=GRID, key_added="site")
    site = mdata.uns["site"]["metrics"].iloc[0]
    assert site["metric"] == "auc_macro" and site["value"] > 0.9  # the planted scanner effect is visible
    assert set(mdata.uns["site"]["roc"]["class"]) == {"site1", "site2", "site3"}
    rg.integrate.predict(
        mdata, "rna:CD274", model="logistic_l2", cv=3, repeats=1, grid={"alpha": [10, 100, 1000]}, key_added="cd274"
    )
    assert mdata.uns["cd274"]["params"]["grid"] == "alpha=[10.0, 100.0, 1000.0]"
    metrics = mdata.uns["cd274"]["metrics"].set_index("metric")
    assert list(metrics.index) == ["r2", "spearman"] and metrics.loc["spearman", "value"] > 0.3


def test_apply_model_to_external_cohort(tmp_path):
    cohort = rg.datasets.synthetic_cohort(n_patients=240, n_genes=100, seed=3)
    train, external = cohort[:120].copy(), cohort[120:].copy()
    rg.integrate.predict(train, "idh_mutant", model="logistic_l2", cv=3, repeats=1, batch_key="site", grid=GRID)
    stored = train.uns["predict"]
    with pytest.warns(UserWarning, match=r"120 of 120 patients were used to fit this model; .* apparent"):
        rg.integrate.apply_model(train, train, key_added="self")  # the tables reproduce the fitted pipeline
    apparent = train.uns["self"]["metrics"]
    assert apparent["estimate"].tolist() == ["apparent"] and train.uns["self"]["params"]["n_training_patients"] == 120
    assert apparent["value"].iloc[0] > stored["metrics"]["value"].iloc[0]  # in-sample is optimistic
    np.testing.assert_allclose(
        train.uns["self"]["predictions"]["score"], stored["predictions"]["final_model_score"], rtol=1e-8
    )
    back = rg.io.read_h5mu(rg.io.write_h5mu(train, tmp_path / "train.h5mu"))
    rg.integrate.apply_model(external, back.uns["predict"])
    metrics = external.uns["apply_model"]["metrics"].iloc[0]
    assert metrics["metric"] == "auc" and metrics["value"] > 0.7 and metrics["n"] == 120
    assert metrics["estimate"] == "external" and len(external.uns["apply_model"]["metrics"]) == 1
    assert external.obs["apply_model_score"].between(0, 1).all()
    external.mod["radiomics"] = external["radiomics"][:, 5:].copy()
    with pytest.raises(KeyError, match="model features are missing"):
        rg.integrate.apply_model(external, stored)


@pytest.mark.parametrize(
    ("task", "model"),
    [
        ("binary", "logistic_l1"),
        ("multiclass", "logistic_l2"),
        ("multiclass", "elasticnet"),
        ("regression", "elasticnet"),
    ],
)
def test_stored_tables_reproduce_the_pipeline(mdata, task, model):
    from radiogenomics.integrate._predict_model import linear_predictor, make_pipeline, model_tables

    x = mdata["radiomics"].X.astype(float)
    y = {"binary": mdata.obs["idh_mutant"].to_numpy(dtype=int), "regression": mdata.obs["age"].to_numpy()}.get(
        task, mdata.obs["site"].cat.codes.to_numpy()
    )
    pipe, grid = make_pipeline(model, task, 0, batch=False, n_select=30)
    pipe.set_params(**{k: v[len(v) // 2] for k, v in grid.items()}).fit(x, y)
    classes = {"binary": ["False", "True"], "multiclass": ["site1", "site2", "site3"]}.get(task, [])
    tables = model_tables(pipe, list(mdata["radiomics"].var_names), classes, task)
    expected = pipe.predict(x) if task == "regression" else pipe.predict_proba(x)
    np.testing.assert_allclose(
        linear_predictor(x, tables, task), expected[:, 1] if task == "binary" else expected, atol=1e-10
    )
    assert tables["model"]["selected"].sum() == 30


def test_predict_glioma_idh_reports_interval(glioma):
    with pytest.warns(UserWarning, match="predict: excluded") as record:
        rg.integrate.predict(glioma, "idh_mutant", model="logistic_l2", cv=3, repeats=1, grid=GRID)
    text = " ".join(str(w.message) for w in record)
    assert "excluded 19 of 167 patients ({'missing target': 19})" in text
    auc = glioma.uns["predict"]["metrics"].iloc[0]
    assert glioma.uns["predict"]["params"]["n_patients"] == 148
    assert (
        0.8 < auc["value"] < 1.0
        and auc["ci_lower"] < auc["value"] < auc["ci_upper"]
        and auc["ci_upper"] - auc["ci_lower"] < 0.2
    )


def test_predict_bad_input_messages(mdata):
    mdata.obs["rare"] = [True] * 2 + [False] * (mdata.n_obs - 2)
    with pytest.raises(rg.errors.DataFormatError, match=r"class 'True' has 2 patients, .* merge or drop that class"):
        rg.integrate.predict(mdata, "rare")
    mdata.obs["rare"] = [True] * 4 + [False] * (mdata.n_obs - 4)
    with pytest.raises(ValueError, match=r"class 'True' has 4 patients, fewer than the cv=5 outer folds; use cv=4\."):
        rg.integrate.predict(mdata, "rare")
    mdata.obs["rare"] = [True] * 5 + [False] * (mdata.n_obs - 5)
    with pytest.raises(
        ValueError, match=r"holds only 4 of them, fewer than inner_cv=5 inner folds need; use inner_cv=4"
    ):
        rg.integrate.predict(mdata, "rare", inner_cv=5)
    with pytest.raises(ValueError, match="model='svm' is not supported"):
        rg.integrate.predict(mdata, "idh_mutant", model="svm")
    with pytest.raises(KeyError, match="not found"):
        rg.integrate.predict(mdata, "nope")
    with pytest.raises(ValueError, match=r"grid keys \['alpha'\] are not tuned by this model; use \['C'\]"):
        rg.integrate.predict(mdata, "idh_mutant", grid={"alpha": [1.0]})


# ----------------------------------------------------------------------------------------------- storage and plots


def test_results_round_trip_and_plots_redraw(tmp_path, mdata):
    _log_cpm(mdata)
    with pytest.warns(UserWarning, match="views of very different sizes"):
        rg.integrate.mofa(mdata, mods=["radiomics", "rna", "mut"], n_factors=3, scale_features=True, max_iter=100)
    rg.integrate.factor_associations(mdata, obs=["idh_mutant"], time="os_months", event="os_event")
    rg.integrate.predict(mdata, "idh_mutant", model="logistic_l2", cv=3, repeats=1, grid=GRID)
    back = rg.io.read_h5mu(rg.io.write_h5mu(mdata, tmp_path / "c.h5mu"))
    for key in ("mofa", "factor_associations", "predict"):
        for name, value in mdata.uns[key].items():
            if isinstance(value, pd.DataFrame):
                pd.testing.assert_frame_equal(value, back.uns[key][name], check_dtype=False, check_index_type=False)
    np.testing.assert_allclose(back.obsm["X_mofa"], mdata.obsm["X_mofa"])
    np.testing.assert_allclose(back["mut"].varm["LFs"], mdata["mut"].varm["LFs"])
    ax = rg.pl.mofa_variance(back)
    assert len(ax.get_yticklabels()) == 3
    ax = rg.pl.factor_scatter(back, x=1, y=2, color="idh_mutant")
    assert {t.get_text() for t in ax.get_legend().get_texts()} >= {"yes", "no"}  # boolean levels read yes/no
    ax = rg.pl.roc(back)
    assert "AUC" in ax.get_legend().get_texts()[-1].get_text()


def test_roc_with_one_repeat_draws_one_curve_with_the_reported_auc_and_ci(mdata):
    rg.integrate.predict(mdata, "idh_mutant", model="logistic_l2", cv=3, repeats=1, grid=GRID)
    row = mdata.uns["predict"]["metrics"].iloc[0]
    ax = rg.pl.roc(mdata)
    texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert texts == [f"out-of-fold scores: AUC {row['value']:.3f} [{row['ci_lower']:.3f}, {row['ci_upper']:.3f}]"]
    assert [line.get_linewidth() for line in ax.get_lines()] == [2, 0.8]  # the curve and the chance diagonal


def test_roc_legend_auc_is_the_area_of_the_drawn_curve(mdata):
    from sklearn.metrics import auc, roc_auc_score

    rg.integrate.predict(mdata, "idh_mutant", model="logistic_l2", cv=3, repeats=3, grid=GRID)
    res = mdata.uns["predict"]
    ax = rg.pl.roc(mdata)
    thick = next(line for line in ax.get_lines() if line.get_linewidth() == 2)
    label = thick.get_label()
    assert label.startswith("averaged scores: AUC ")
    drawn = auc(thick.get_xdata(), thick.get_ydata())
    assert float(label.rsplit(" ", 1)[1]) == pytest.approx(drawn, abs=5e-4)
    # the drawn curve is the averaged out-of-fold score; its AUC is stored beside the reported mean
    pred = res["predictions"]
    metric = res["metrics"].iloc[0]
    assert drawn == pytest.approx(roc_auc_score(pred["y_true"] == "True", pred["score"]), abs=1e-12)
    assert drawn == pytest.approx(metric["averaged_scores"], abs=1e-12)
    repeats = next(t.get_text() for t in ax.get_legend().get_texts() if t.get_text().startswith("repeats"))
    assert f"mean AUC {metric['value']:.3f}" in repeats and metric["value"] != pytest.approx(drawn, abs=1e-6)


def test_predict_missing_value_spellings_and_extra_classes(mdata):
    labels = np.where(mdata.obs["idh_mutant"], "mutant", "wildtype").astype(object)
    labels[:4], labels[4:7], labels[7:9], labels[9] = "N/A", "NA", " ", "Unknown"
    mdata.obs["idh_text"] = labels
    with (
        pytest.warns(UserWarning, match=r"excluded 10 of 120 patients \(\{'missing target': 10\}\)"),
        pytest.warns(UserWarning, match=r"predict: 10 target values read as missing \(\{'N/A': 4, 'NA': 3, ' ': 2"),
    ):
        rg.integrate.predict(mdata, "idh_text", model="logistic_l2", cv=3, repeats=1, grid=GRID)
    res = mdata.uns["predict"]
    assert res["params"]["task"] == "binary" and res["params"]["classes"] == ["mutant", "wildtype"]
    assert res["params"]["n_missing_labels"] == 10 and "n/a" in res["params"]["missing_labels"]
    labels[:10] = "equivocal"  # a real third class: listed, never silently binary
    mdata.obs["idh_text"] = labels
    with pytest.raises(
        rg.errors.DataFormatError, match=r"task='binary' but the target has 3 classes \{.*'equivocal': 10"
    ):
        rg.integrate.predict(mdata, "idh_text", task="binary")


def test_predict_feature_keys_like_signature(mdata):
    names = list(mdata["radiomics"].var_names[:12])
    keys = [f"radiomics:{n}" for n in names] + ["age"]
    rg.integrate.predict(mdata, "idh_mutant", features=keys, model="logistic_l2", cv=3, repeats=1, grid=GRID)
    res = mdata.uns["predict"]
    assert list(res["model"].index) == keys and res["params"]["features"] == keys
    with pytest.warns(UserWarning, match="apparent"):
        rg.integrate.apply_model(mdata, mdata, key_added="again")  # the same keys rebuild the same columns
    np.testing.assert_allclose(
        mdata.uns["again"]["predictions"]["score"], res["predictions"]["final_model_score"], rtol=1e-8
    )


def test_predict_splits_are_checked_before_fitting_no_solver_message(mdata):
    # 9 carriers with cv=3: a training split holds 6, enough for 3 inner folds but not for 7
    mdata.obs["rare"] = np.arange(mdata.n_obs) < 9
    with pytest.raises(rg.errors.DataFormatError) as info:
        rg.integrate.predict(mdata, "rare", cv=3, inner_cv=7)
    text = str(info.value)
    assert "class 'True' has 9 patients" in text and "use inner_cv=6" in text
    assert "solver" not in text and "multiclass" not in text


def test_predict_on_a_dask_cluster_equals_local(mdata, dask_client):
    sub = mdata[:60].copy()
    kwargs = {"model": "logistic_l2", "cv": 3, "repeats": 2, "grid": GRID, "n_permutations": 4, "copy": True}
    local = rg.integrate.predict(sub, "idh_mutant", **kwargs)
    dasked = rg.integrate.predict(sub, "idh_mutant", client=dask_client, **kwargs)
    for table in ("metrics", "folds", "roc", "predictions", "permutation", "model", "intercept"):
        pd.testing.assert_frame_equal(dasked.uns["predict"][table], local.uns["predict"][table])


def test_predict_shap_ranks_the_planted_feature_first(mdata, tmp_path):
    names = list(mdata["radiomics"].var_names)
    x = mdata["radiomics"].X.astype(float)
    planted = names[7]
    z = (x[:, 7] - x[:, 7].mean()) / x[:, 7].std()
    mdata.obs["planted"] = z + 0.5 * np.random.default_rng(0).standard_normal(mdata.n_obs) > 0
    rg.integrate.predict(mdata, "planted", model="logistic_l1", cv=3, repeats=1, grid=GRID, explain=True)
    res = mdata.uns["predict"]
    shap = res["shap"]
    assert shap.shape[0] == 120 and shap.abs().mean().idxmax() == planted
    # linear SHAP adds up to the model's log-odds: base value + row sum = logit of the final probability
    p = res["predictions"]["final_model_score"].to_numpy()
    np.testing.assert_allclose(res["params"]["shap_base_value"] + shap.sum(axis=1), np.log(p / (1 - p)), atol=1e-8)
    assert res["params"]["shap_scale"] == "log-odds"
    np.testing.assert_allclose(res["shap_data"][planted], x[:, 7])
    # higher planted value, higher SHAP (positive effect)
    assert np.corrcoef(res["shap_data"][planted], shap[planted])[0, 1] > 0.99
    back = rg.io.read_h5mu(rg.io.write_h5mu(mdata, tmp_path / "c.h5mu"))
    pd.testing.assert_frame_equal(back.uns["predict"]["shap"], shap, check_dtype=False)
    ax = rg.pl.shap_summary(back, max_features=4)
    assert ax.get_yticklabels()[-1].get_text() == planted  # the largest mean |SHAP| on top
    ax = rg.pl.shap_dependence(back, planted, color=shap.columns[1])
    assert ax.get_xlabel() == planted and ax.get_ylabel() == "SHAP value (log-odds)"
    with pytest.raises(KeyError, match="not an explained feature"):
        rg.pl.shap_dependence(back, "nope")


def test_predict_shap_of_a_forest_and_refusals(mdata):
    x = mdata["radiomics"].X.astype(float)
    mdata.obs["planted"] = x[:, 3] > np.median(x[:, 3])
    rg.integrate.predict(
        mdata, "planted", model="random_forest", cv=3, repeats=1, grid={"min_samples_leaf": [5]}, explain=True
    )
    shap = mdata.uns["predict"]["shap"]
    assert shap.abs().mean().idxmax() == mdata["radiomics"].var_names[3]
    assert mdata.uns["predict"]["params"]["shap_scale"] == "probability"
    rg.integrate.predict(mdata, "planted", model="logistic_l2", cv=3, repeats=1, grid=GRID, key_added="plain")
    with pytest.raises(KeyError, match="rerun predict or signature with explain=True"):
        rg.pl.shap_summary(mdata, key="plain")
