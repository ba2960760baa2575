"""Feature quality: ICC, robustness to perturbations, feature filtering and ComBat harmonisation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

import radiogenomics as rg
from radiogenomics._utils import dense
from radiogenomics.errors import DataFormatError

DATA = Path(__file__).parent / "data" / "combat"


# --------------------------------------------------------------------------------------- ICC
def _long_table(n=25, k=4, seed=0):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=n)
    rater_bias = rng.normal(size=k)
    rows = [
        {
            "patient_id": f"P{p:02d}",
            "perturbation": f"r{r}",
            "stable": 10 + 3 * truth[p] + 0.3 * rng.normal(),
            "biased": truth[p] + 0.8 * rater_bias[r] + 0.3 * rng.normal(),
            "noise": rng.normal(),
            "moderate": truth[p] + rng.normal(),
        }
        for p in range(n)
        for r in range(k)
    ]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("form", ["ICC(1,1)", "ICC(2,1)", "ICC(3,1)", "ICC(1,k)", "ICC(2,k)", "ICC(3,k)"])
def test_icc_equals_pingouin(form, monkeypatch):
    table = _long_table()
    table.loc[7, "moderate"] = np.nan  # listwise deletion of that patient for that feature only
    monkeypatch.setitem(pg.options, "round.column.CI95", None)
    res = rg.imaging.icc(table, form=form)
    for feature in ["stable", "biased", "noise", "moderate"]:
        ref = pg.intraclass_corr(
            table, targets="patient_id", raters="perturbation", ratings=feature, nan_policy="omit"
        ).set_index("Type")
        row = ref.loc[res.loc[feature, "form"]]
        assert res.loc[feature, "icc"] == pytest.approx(row["ICC"], abs=1e-10)
        assert res.loc[feature, "F"] == pytest.approx(row["F"], rel=1e-10)
        assert res.loc[feature, "p"] == pytest.approx(row["pval"], rel=1e-8, abs=1e-300)
        np.testing.assert_allclose(res.loc[feature, ["ci_lower", "ci_upper"]].to_numpy(float), row["CI95"], atol=1e-10)
    assert res.loc["moderate", "n_targets"] == 24
    assert res.loc["stable", "n_targets"] == 25


def test_icc_planted_stable_high_noise_low():
    res = rg.imaging.icc(_long_table(n=40, seed=1))
    assert res.loc["stable", "icc"] > 0.98
    assert res.loc["stable", "ci_lower"] > 0.95
    assert abs(res.loc["noise", "icc"]) < 0.15
    assert res.loc["noise", "ci_lower"] < 0 < res.loc["noise", "ci_upper"]
    assert 0.3 < res.loc["moderate", "icc"] < 0.7  # true ICC 0.5
    # a systematic rater offset lowers absolute agreement, not consistency
    two = rg.imaging.icc(_long_table(n=40, seed=1), form="ICC(2,1)")
    three = rg.imaging.icc(_long_table(n=40, seed=1), form="ICC(3,1)")
    assert three.loc["biased", "icc"] > 0.85  # measured 0.897 (consistency ignores the offset)
    assert three.loc["biased", "icc"] - two.loc["biased", "icc"] > 0.1  # measured 0.772 with it


def test_icc_errors():
    table = _long_table()
    with pytest.raises(KeyError, match="not found"):
        rg.imaging.icc(table, targets="case")
    with pytest.raises(ValueError, match="Unknown ICC form"):
        rg.imaging.icc(table, form="ICC(4,1)")
    with pytest.raises(DataFormatError, match="duplicates"):
        rg.imaging.icc(pd.concat([table, table.iloc[:2]]))


# ------------------------------------------------------------------------------- filtering
def test_filter_features_records_every_removal(mdata):
    rad = mdata.mod["radiomics"]
    x = dense(rad.X)
    names = list(rad.var_names)
    x[:, 0] = 5.0  # constant
    x[:40, 1] = np.nan  # 33% missing
    x[:, 2] = x[:, 20] * 2 + 1e-3 * np.arange(x.shape[0])  # near-copy of feature 20
    rad.X = x
    icc = pd.DataFrame({"icc": np.linspace(0.5, 1.0, len(names))}, index=names)
    icc.loc[names[20], "icc"] = 0.99  # the copy (feature 2) has a lower ICC: it goes, 20 stays
    icc.loc[names[3:5], "icc"] = 0.3
    rg.imaging.filter_features(mdata, icc=icc, min_icc=0.4, max_corr=0.95)
    out = mdata.mod["radiomics"].uns["filter_features"]
    removed = out["removed"].set_index("feature")
    assert removed.loc[names[0], "reason"] == "low_variance"
    assert removed.loc[names[1], "reason"] == "missing"
    assert removed.loc[names[1], "value"] == pytest.approx(40 / 120)
    assert removed.loc[names[2], "reason"] == "redundant"
    assert removed.loc[names[2], "partner"] == names[20]
    assert set(removed.index[removed["reason"] == "low_icc"]) == {names[3], names[4]}
    kept = mdata.mod["radiomics"].var_names
    assert names[20] in kept
    assert len(kept) + len(removed) == len(names)
    assert out["params"]["n_features_after"] == len(kept) == mdata["radiomics"].n_vars
    assert mdata.shape[1] == sum(m.n_vars for m in mdata.mod.values())
    # every kept pair is below the threshold
    ranks = pd.DataFrame(dense(mdata.mod["radiomics"].X)).rank()
    r = np.abs(ranks.corr().to_numpy())
    np.fill_diagonal(r, 0)
    assert r.max() <= 0.95


def test_filter_features_volume_surrogates_and_flag(mdata):
    rad = mdata.mod["radiomics"]
    names = list(rad.var_names)
    rng = np.random.default_rng(3)
    vol = np.exp(rng.normal(8, 1, rad.n_obs))
    x = dense(rad.X)
    x[:, 5] = vol
    x[:, 6] = vol**0.5 * (1 + 0.05 * rng.normal(size=rad.n_obs))  # a surface-like surrogate of volume
    rad.X = x
    with pytest.raises(KeyError, match="volume_feature"):
        rg.imaging.filter_features(mdata, max_volume_corr=0.8, max_corr=None, volume_feature="nope")
    res = rg.imaging.filter_features(
        mdata, max_volume_corr=0.8, volume_feature=names[5], max_corr=None, action="flag", copy=True
    )
    removed = res.mod["radiomics"].uns["filter_features"]["removed"]
    assert removed["feature"].tolist() == [names[6]]
    assert removed["reason"].tolist() == ["volume_surrogate"]
    assert removed["value"].iloc[0] > 0.95
    assert res.mod["radiomics"].n_vars == len(names)  # flagged, not removed
    assert res.mod["radiomics"].var["filter_features_reason"][names[6]] == "volume_surrogate"
    assert "filter_features" not in mdata.mod["radiomics"].uns  # copy=True left the input alone


def test_filter_features_glioma_volume_autodetect(glioma):
    rg.imaging.filter_features(glioma, max_volume_corr=0.9, max_corr=None, max_missing=1.0, min_variance=0.0)
    out = glioma.mod["radiomics"].uns["filter_features"]
    assert out["params"]["volume_feature"].startswith("VOLUME_")
    assert (out["removed"]["reason"] == "volume_surrogate").sum() >= 1


def test_filter_features_needs_icc_for_min_icc(mdata):
    with pytest.raises(ValueError, match="min_icc needs ICC values"):
        rg.imaging.filter_features(mdata, min_icc=0.9)


# ---------------------------------------------------------------------------- harmonisation
def _sva_reference(run, samples, features):
    ref = pd.read_csv(DATA / "combat_sva_reference.csv", comment="#")
    return ref[ref["run"] == run].pivot(index="sample", columns="feature", values="value").loc[samples, features]


@pytest.mark.parametrize(
    ("run", "covariates", "parametric"),
    [
        ("parametric_covariates", ["group", "age"], True),
        ("parametric_nocovariates", None, True),
        ("nonparametric_covariates", ["group", "age"], False),
    ],
)
def test_harmonize_equals_r_sva_combat(run, covariates, parametric):
    """tests/data/combat/combat_sva_reference.csv: R 4.2.2, sva 3.46.0 (make_reference.R)."""
    import anndata as ad

    table = pd.read_csv(DATA / "combat_input.csv", index_col=0)
    features = [c for c in table.columns if c.startswith("f")]
    adata = ad.AnnData(X=table[features].to_numpy(), obs=table[["batch", "group", "age"]])
    adata.var_names = features
    rg.imaging.harmonize(adata, batch_key="batch", covariates=covariates, parametric=parametric)
    expected = _sva_reference(run, table.index, features).to_numpy()
    np.testing.assert_allclose(adata.X, expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_array_equal(adata.layers["raw"], table[features].to_numpy())


def _site_summary(x, site, f1, f1_idx):
    groups = np.unique(site)
    pvals = np.array([stats.f_oneway(*[x[site == s, j] for s in groups]).pvalue for j in range(x.shape[1])])
    total = ((x - x.mean(0)) ** 2).sum(0)
    within = sum(((x[site == s] - x[site == s].mean(0)) ** 2).sum(0) for s in groups)
    r_f1 = np.array([stats.pearsonr(x[:, j], f1)[0] for j in f1_idx])
    return (pvals < 0.05).mean(), np.median(1 - within / total), r_f1.mean()


def test_harmonize_removes_planted_site_effect_keeps_biology(mdata):
    rad = mdata.mod["radiomics"]
    site = mdata.obs.loc[rad.obs_names, "site"].astype(str).to_numpy()
    f1 = mdata.uns["truth"]["factors"].loc[rad.obs_names, "F1"].to_numpy()
    planted = mdata.uns["truth"]["radiomic_features"]
    f1_idx = rad.var_names.get_indexer(planted.loc[planted["factor"] == "F1", "feature"])
    sig_before, r2_before, r_before = _site_summary(dense(rad.X), site, f1, f1_idx)
    rg.imaging.harmonize(mdata, batch_key="site", covariates=["age"])
    sig_after, r2_after, r_after = _site_summary(dense(mdata.mod["radiomics"].X), site, f1, f1_idx)
    # measured: 83% of features differ by site before (ANOVA p<0.05), median site R^2 0.175;
    # after: 0%, median R^2 0.001; mean correlation of the F1 block with F1: 0.823 -> 0.862
    assert sig_before > 0.7
    assert r2_before > 0.1
    assert sig_after == 0.0
    assert r2_after < 0.005
    assert r_after >= r_before + 0.02
    assert r_after > 0.85


def test_harmonize_protects_confounded_covariate():
    """A biological group over-represented at one site keeps its effect only when protected."""
    import anndata as ad

    rng = np.random.default_rng(7)
    n, p = 300, 40
    site = rng.integers(0, 3, n)
    group = (rng.random(n) < np.where(site == 0, 0.8, 0.2)).astype(float)
    clean = rng.normal(size=(n, p)) + 1.0 * group[:, None] * (np.arange(p) < 10)
    x = clean * np.array([1.0, 1.5, 0.7])[site][:, None] + np.array([0.0, 2.0, -1.0])[site][:, None]
    obs = pd.DataFrame({"site": [f"s{s}" for s in site], "group": group}, index=[f"p{i}" for i in range(n)])
    plain = ad.AnnData(X=x.copy(), obs=obs)
    protected = ad.AnnData(X=x.copy(), obs=obs)
    rg.imaging.harmonize(plain, batch_key="site")
    rg.imaging.harmonize(protected, batch_key="site", covariates=["group"])

    def effect(values):
        # standardised group difference of the planted block, pooled over sites
        block = np.asarray(values)[:, :10]
        block = (block - block.mean(0)) / block.std(0)
        return block[group == 1].mean() - block[group == 0].mean()

    # measured: without any site effect 0.975; ComBat protecting the group 0.876; ignoring it 0.782
    assert effect(protected.X) == pytest.approx(effect(clean), abs=0.12)
    assert effect(plain.X) < effect(protected.X) - 0.07
    assert effect(plain.X) < effect(clean) - 0.15


def test_apply_harmonization_without_refitting(mdata):
    rad = mdata.mod["radiomics"]
    train_ids, test_ids = rad.obs_names[:90], rad.obs_names[90:]
    train, test = mdata[train_ids].copy(), mdata[test_ids].copy()
    rg.imaging.harmonize(train, batch_key="site", covariates=["age", "sex"])
    # applying the fit to the training patients reproduces the harmonised training data
    again = mdata[train_ids].copy()
    rg.imaging.apply_harmonization(again, fit=train)
    np.testing.assert_allclose(dense(again.mod["radiomics"].X), dense(train.mod["radiomics"].X), rtol=1e-10)
    # a validation patient's result does not depend on the other validation patients
    rg.imaging.apply_harmonization(test, fit=train.mod["radiomics"].uns["harmonize"])
    one = mdata[test_ids[:1]].copy()
    rg.imaging.apply_harmonization(one, fit=train)
    np.testing.assert_allclose(dense(one.mod["radiomics"].X)[0], dense(test.mod["radiomics"].X)[0], rtol=1e-10)
    np.testing.assert_array_equal(dense(test.mod["radiomics"].layers["raw"]), dense(mdata[test_ids].mod["radiomics"].X))
    # the held-out patients lose most of the site effect too
    site = test.obs.loc[test.mod["radiomics"].obs_names, "site"].astype(str).to_numpy()
    x_before = dense(mdata[test_ids].mod["radiomics"].X)
    x_after = dense(test.mod["radiomics"].X)
    p_before = [stats.f_oneway(*[x_before[site == s, j] for s in np.unique(site)]).pvalue for j in range(100)]
    p_after = [stats.f_oneway(*[x_after[site == s, j] for s in np.unique(site)]).pvalue for j in range(100)]
    assert np.mean(np.array(p_before) < 0.05) > 0.4
    assert np.mean(np.array(p_after) < 0.05) < 0.1


def test_harmonize_leaves_features_constant_within_a_site_unadjusted(mdata):
    rad = mdata.mod["radiomics"]
    site = mdata.obs.loc[rad.obs_names, "site"].astype(str).to_numpy()
    x = dense(rad.X)
    x[site == "site2", 7] = 3.0
    rad.X = x
    reference = mdata.copy()
    reference.mod["radiomics"]._inplace_subset_var(np.arange(rad.n_vars) != 7)
    with pytest.warns(UserWarning, match="1 features are constant within a site"):
        rg.imaging.harmonize(mdata, batch_key="site")
    rg.imaging.harmonize(reference, batch_key="site")
    out = dense(mdata.mod["radiomics"].X)
    np.testing.assert_array_equal(out[:, 7], x[:, 7])
    np.testing.assert_allclose(np.delete(out, 7, axis=1), dense(reference.mod["radiomics"].X), rtol=1e-12)
    assert mdata.mod["radiomics"].uns["harmonize"]["params"]["n_unadjusted"] == 1


def test_harmonize_errors(mdata):
    with pytest.raises(KeyError, match="scanner"):
        rg.imaging.harmonize(mdata, batch_key="scanner")
    with pytest.raises(ValueError, match="method"):
        rg.imaging.harmonize(mdata, batch_key="site", method="limma")
    rg.imaging.harmonize(mdata[:60].copy(), batch_key="site")
    train = mdata[mdata.obs["site"] != "site3"].copy()
    rg.imaging.harmonize(train, batch_key="site")
    with pytest.raises(ValueError, match="unseen batch"):
        rg.imaging.apply_harmonization(mdata, fit=train)
    with pytest.raises(KeyError, match="No fitted harmonisation"):
        rg.imaging.apply_harmonization(mdata, fit=mdata)
    x = dense(mdata.mod["radiomics"].X)
    x[0, 3] = np.nan
    mdata.mod["radiomics"].X = x
    with pytest.raises(DataFormatError, match="missing"):
        rg.imaging.harmonize(mdata, batch_key="site")


def test_quality_results_round_trip(tmp_path):
    mdata = rg.datasets.synthetic_cohort(n_patients=50, n_genes=100, seed=2)
    rg.imaging.harmonize(mdata, batch_key="site", covariates=["age", "sex"])
    names = mdata["radiomics"].var_names
    icc = pd.DataFrame(
        {
            "icc": np.linspace(0.3, 1, len(names)),
            "ci_lower": np.linspace(0.2, 0.9, len(names)),
            "icc_shuffled": np.linspace(1, 0, len(names)),
            "negative_control": np.arange(len(names)) < 10,
        },
        index=names,
    )
    rg.imaging.filter_features(mdata, icc=icc, min_icc=0.5, max_corr=0.9, max_volume_corr=0.99, volume_feature=names[0])
    path = rg.io.write_h5mu(mdata, tmp_path / "c.h5mu")
    back = rg.io.read_h5mu(path)
    rad, rad2 = mdata.mod["radiomics"], back.mod["radiomics"]
    for key in ("features", "beta", "gamma_star", "delta_star", "covariate_levels"):
        pd.testing.assert_frame_equal(
            pd.DataFrame(rad2.uns["harmonize"][key]), pd.DataFrame(rad.uns["harmonize"][key]), check_dtype=False
        )
    for key in ("removed", "icc"):
        pd.testing.assert_frame_equal(
            rad2.uns["filter_features"][key], rad.uns["filter_features"][key], check_dtype=False
        )
    # every plot redraws from the reloaded file
    ax = rg.pl.icc_distribution(back)
    assert len(ax.lines) == 3  # features, shuffled controls, threshold
    assert "10 texture features flagged" in ax.get_legend().get_texts()[1].get_text()
    before = rg.pl.harmonization_pca(back, layer="raw").get_title()
    after = rg.pl.harmonization_pca(back).get_title()
    assert before.startswith("before") and after.startswith("after")
    ax = rg.pl.feature_correlation(back)
    assert ax.images[0].get_array().shape == (back["radiomics"].n_vars,) * 2
    # the reloaded fit harmonises new patients exactly as the original
    fresh = rg.datasets.synthetic_cohort(n_patients=30, seed=5)
    fresh.mod["radiomics"]._inplace_subset_var(rad.var_names)
    a, b = fresh.copy(), fresh.copy()
    rg.imaging.apply_harmonization(a, fit=mdata)
    rg.imaging.apply_harmonization(b, fit=back)
    np.testing.assert_allclose(dense(a.mod["radiomics"].X), dense(b.mod["radiomics"].X), rtol=1e-12)


# ------------------------------------------------------------------------------ robustness
@pytest.fixture(scope="module")
def textured_cases(tmp_path_factory):
    """Six patients whose images differ in mean level and in spatial smoothness (texture)."""
    import SimpleITK as sitk
    from scipy import ndimage

    folder = tmp_path_factory.mktemp("robustness")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(6):
        mask = np.zeros((6, 20, 20), np.uint8)
        mask[1:5, 4 : 14 + i, 4:16] = 1
        smooth = ndimage.gaussian_filter(rng.normal(size=mask.shape), 0.3 + i / 2.5)
        image = 100 + 25 * rng.normal() + (20 + 5 * i) * smooth / smooth.std()
        sitk.WriteImage(sitk.GetImageFromArray(image), str(folder / f"P{i}.nrrd"))
        sitk.WriteImage(sitk.GetImageFromArray(mask * 2), str(folder / f"P{i}_mask.nrrd"))
        rows.append(
            {"patient_id": f"P{i}", "image": str(folder / f"P{i}.nrrd"), "mask": str(folder / f"P{i}_mask.nrrd")}
        )
    return pd.DataFrame(rows).assign(modality="CT", roi="tumour", label=2)


PARAMS = {
    "imageType": {"Original": {}},
    "featureClass": {
        "firstorder": ["Mean", "Median", "Maximum"],
        "glcm": ["Correlation", "JointAverage", "SumSquares"],
        "shape": ["VoxelVolume"],
    },
}


def test_robustness_icc_and_negative_controls(textured_cases):
    res = rg.imaging.robustness(textured_cases, params=PARAMS, n_perturbations=2, n_shuffles=2, seed=1, progress=False)
    name = "CT_tumour_original_{}".format
    assert set(res.columns) >= {"icc", "ci_lower", "ci_upper", "icc_dilate", "icc_erode", "icc_translate", "icc_noise"}
    assert (res["n_raters"] == 1 + 1 + 1 + 2 + 2).all()
    assert (res["n_targets"] == 6).all()
    # stable features: the mean level and the planted smoothness
    assert res.loc[name("firstorder_Mean"), "icc"] > 0.95
    assert res.loc[name("glcm_Correlation"), "icc"] > 0.9
    assert res.loc[name("shape_VoxelVolume"), "icc_translate"] > 0.9
    # voxel shuffling leaves first-order and shape features unchanged ...
    np.testing.assert_allclose(res.loc[[name("firstorder_Mean"), name("shape_VoxelVolume")], "icc_shuffled"], 1.0)
    # ... destroys the planted texture ...
    assert res.loc[name("glcm_Correlation"), "icc_shuffled"] < 0.5
    assert not res.loc[name("glcm_Correlation"), "negative_control"]
    # ... and exposes GLCM features that only restate the grey-level histogram (mean, variance)
    assert res.loc[[name("glcm_JointAverage"), name("glcm_SumSquares")], "negative_control"].all()
    assert not res.loc[[name("firstorder_Mean"), name("shape_VoxelVolume")], "negative_control"].any()
    # the table feeds filter_features
    adata = rg.imaging.extract(textured_cases, params=PARAMS, progress=False)
    rg.imaging.filter_features(adata, icc=res, min_icc=0.9, max_corr=None)
    low = adata.uns["filter_features"]["removed"]
    assert set(low["reason"]) == {"low_icc"}
    assert set(low["feature"]) == set(res.index[res["icc"] < 0.9])


def test_perturbations_are_seeded_and_do_what_they_say(textured_cases):
    import SimpleITK as sitk

    from radiogenomics.imaging._perturb import estimate_noise, perturb, shuffle_voxels

    image = sitk.ReadImage(textured_cases["image"][0])
    mask = sitk.ReadImage(textured_cases["mask"][0])
    voxels = int((sitk.GetArrayViewFromImage(mask) == 2).sum())

    def n(roi):
        return int(sitk.GetArrayViewFromImage(roi).sum())

    rng = np.random.default_rng
    assert n(perturb(image, mask, 2, "dilate", rng(0))[1]) > voxels > n(perturb(image, mask, 2, "erode", rng(0))[1])
    moved = [perturb(image, mask, 2, "translate", rng(s)) for s in (5, 5, 6)]
    np.testing.assert_array_equal(sitk.GetArrayFromImage(moved[0][0]), sitk.GetArrayFromImage(moved[1][0]))
    assert not np.array_equal(sitk.GetArrayFromImage(moved[0][0]), sitk.GetArrayFromImage(moved[2][0]))
    assert abs(n(moved[0][1]) - voxels) / voxels < 0.35
    noisy = perturb(image, mask, 2, "noise", rng(0))[0]
    added = sitk.GetArrayFromImage(noisy) - sitk.GetArrayFromImage(image)
    assert added.std() == pytest.approx(estimate_noise(image), rel=0.05)
    # Immerkaer's estimate recovers the sd of white noise added to a flat image
    flat = sitk.GetImageFromArray(np.random.default_rng(1).normal(0, 3.0, (4, 64, 64)))
    assert estimate_noise(flat) == pytest.approx(3.0, rel=0.05)
    shuffled, roi = shuffle_voxels(image, mask, 2, rng(0))
    inside = sitk.GetArrayViewFromImage(roi).astype(bool)
    before, after = sitk.GetArrayFromImage(image), sitk.GetArrayFromImage(shuffled)
    np.testing.assert_array_equal(np.sort(before[inside]), np.sort(after[inside]))
    np.testing.assert_array_equal(before[~inside], after[~inside])
    assert not np.array_equal(before[inside], after[inside])
    with pytest.raises(ValueError, match="Unknown perturbation"):
        rg.imaging.robustness(textured_cases, perturbations=("rotate",), progress=False)


def test_plots_show_site_effect_and_clusters(mdata):
    import re

    rg.imaging.harmonize(mdata, batch_key="site")
    before = rg.pl.harmonization_pca(mdata, layer="raw").get_title()
    after = rg.pl.harmonization_pca(mdata).get_title()
    share = [int(re.search(r"explains (\d+)% of PC1", t).group(1)) for t in (before, after)]
    assert share[0] > 20  # the planted site effect dominates PC1 before
    assert share[1] < 5
    ax = rg.pl.feature_correlation(mdata, features=list(mdata["radiomics"].var_names[:30]))
    order = [t.get_text() for t in ax.get_xticklabels()]
    planted = mdata.uns["truth"]["radiomic_features"]
    f1 = set(planted.loc[planted["factor"] == "F1", "feature"])
    positions = sorted(order.index(f) for f in f1)
    assert positions[-1] - positions[0] == len(f1) - 1  # the F1 block is contiguous after clustering
    with pytest.raises(KeyError, match="No ICC table"):
        rg.pl.icc_distribution(mdata)


def test_robustness_keeps_patients_when_an_erosion_empties_a_thin_roi(textured_cases, tmp_path):
    import warnings

    import SimpleITK as sitk

    thin = np.zeros((6, 20, 20), np.uint8)
    thin[2, 5:15, 5:15] = 2  # one slice thick: a 3-D erosion by one voxel empties it
    sitk.WriteImage(sitk.GetImageFromArray(thin), str(tmp_path / "thin.nrrd"))
    cases = textured_cases.copy()
    cases.loc[0, "mask"] = str(tmp_path / "thin.nrrd")
    params = {"imageType": {"Original": {}}, "featureClass": {"firstorder": ["Mean"]}}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = rg.imaging.robustness(
            cases, perturbations=("erode", "noise"), n_perturbations=1, n_shuffles=0, params=params, progress=False
        )
    messages = " | ".join(str(w.message) for w in caught)
    assert "1 of 18 cases failed" in messages  # from extract
    assert "versions ['erode'] could not be extracted for patients ['P0']" in messages
    row = res.loc["CT_tumour_original_firstorder_Mean"]
    assert row["n_targets"] == 6 and row["n_raters"] == 2  # original and noise; all six patients kept
    assert np.isnan(row["icc_erode"]) and row["icc_noise"] > 0.9
    assert "icc_shuffled" not in res.columns


def test_robustness_is_seeded_and_parallel_equals_serial(textured_cases):
    params = {"imageType": {"Original": {}}, "featureClass": {"glcm": ["Correlation"]}}
    kwargs = {
        "perturbations": ("translate",),
        "n_perturbations": 1,
        "n_shuffles": 1,
        "params": params,
        "progress": False,
    }
    serial = rg.imaging.robustness(textured_cases, seed=3, **kwargs)
    parallel = rg.imaging.robustness(textured_cases.iloc[::-1], seed=3, n_jobs=2, **kwargs)  # order does not matter
    pd.testing.assert_frame_equal(serial, parallel)
    other = rg.imaging.robustness(textured_cases, seed=4, **kwargs)
    assert not np.isclose(other["icc"].iloc[0], serial["icc"].iloc[0], rtol=1e-9)


def test_harmonize_copy_leaves_input_alone(mdata):
    before = dense(mdata.mod["radiomics"].X).copy()
    out = rg.imaging.harmonize(mdata, batch_key="site", copy=True)
    np.testing.assert_array_equal(dense(mdata.mod["radiomics"].X), before)
    assert "harmonize" not in mdata.mod["radiomics"].uns
    np.testing.assert_array_equal(dense(out.mod["radiomics"].layers["raw"]), before)
