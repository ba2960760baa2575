from __future__ import annotations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats

import radiogenomics as rg


def _pair_mudata(x: np.ndarray, y: np.ndarray, obs: pd.DataFrame | None = None):
    patients = [f"P{i:04d}" for i in range(x.shape[0])]
    a = pd.DataFrame(x, index=patients, columns=[f"x{j}" for j in range(x.shape[1])])
    b = pd.DataFrame(y, index=patients, columns=[f"y{j}" for j in range(y.shape[1])])
    clinical = None if obs is None else obs.set_axis(patients)
    return rg.io.build_mudata({"a": a, "b": b}, clinical, id_rule=None)


def _log_cpm(mdata):
    rna = mdata.mod["rna"]
    rna.layers["logcpm"] = np.log1p(rna.X / rna.X.sum(axis=1, keepdims=True) * 1e6)


def _lookup(res, xname, yname):
    row = res[(res["x_feature"] == xname) & (res["y_feature"] == yname)]
    assert len(row) == 1
    return row.iloc[0]


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_matches_scipy_per_pair(mdata, method):
    _log_cpm(mdata)
    rg.integrate.associate(mdata, method=method, layer_y="logcpm", y_features=mdata.mod["rna"].var_names[:60])
    res = rg.get.associations(mdata)
    x, y = mdata.mod["radiomics"], mdata.mod["rna"]
    func = stats.spearmanr if method == "spearman" else stats.pearsonr
    rng = np.random.default_rng(1)
    for i, j in zip(rng.integers(0, x.n_vars, 25), rng.integers(0, 60, 25), strict=True):
        ref = func(x.X[:, i].astype(float), y.layers["logcpm"][:, j].astype(float))
        row = _lookup(res, x.var_names[i], y.var_names[j])
        assert row["r"] == pytest.approx(ref.statistic, abs=1e-6)
        assert row["p"] == pytest.approx(ref.pvalue, abs=1e-12, rel=1e-6)
        assert row["test"] == method
        assert row["n"] == mdata.n_obs


def test_binary_y_mannwhitney_and_point_biserial(mdata):
    rg.integrate.associate(mdata, y="mut")
    assert mdata.uns["associate"]["params"]["n_pairs_small_group"] == 3 * mdata["radiomics"].n_vars  # ATRX, CIC, NF1
    rg.integrate.associate(mdata, y="mut", min_count=1, key_added="all")
    rg.integrate.associate(mdata, y="mut", method="pearson", min_count=1, key_added="pb")
    res, small, pb = rg.get.associations(mdata), rg.get.associations(mdata, "all"), rg.get.associations(mdata, "pb")
    x, mut = mdata.mod["radiomics"], mdata.mod["mut"]
    assert _lookup(res, x.var_names[40], "ATRX")[["p", "padj"]].isna().all()  # 2 carriers: untested by default
    for i, gene in [(0, "IDH1"), (15, "TP53"), (3, "EGFR"), (40, "ATRX"), (7, "IDH2")]:
        xi, g = x.X[:, i].astype(float), mut[:, gene].X.ravel()
        exact = min(g.sum(), len(g) - g.sum()) <= 8
        ref = stats.mannwhitneyu(xi[g == 1], xi[g == 0], method="exact" if exact else "asymptotic")
        row = _lookup(small, x.var_names[i], gene)
        assert row["test"] == ("mannwhitneyu_exact" if exact else "mannwhitneyu")
        assert row["statistic"] == pytest.approx(ref.statistic, rel=1e-6)
        assert row["p"] == pytest.approx(ref.pvalue, abs=1e-12, rel=1e-6)
        assert row["r"] == pytest.approx(stats.spearmanr(xi, g).statistic, abs=1e-6)
        ref_pb = stats.pointbiserialr(g, xi)
        row_pb = _lookup(pb, x.var_names[i], gene)
        assert row_pb["r"] == pytest.approx(ref_pb.statistic, abs=1e-6)
        assert row_pb["p"] == pytest.approx(ref_pb.pvalue, abs=1e-12, rel=1e-6)
        assert row_pb["p"] == pytest.approx(stats.ttest_ind(xi[g == 1], xi[g == 0]).pvalue, rel=1e-6)


def test_single_carrier_exact_p_never_below_one_in_n():
    """One mutation carrier among 113 patients: exact p >= 2/113, as scipy's exact test (issue 15)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((113, 30))
    g = np.zeros((113, 1))
    g[int(np.argmax(x[:, 0])), 0] = 1.0  # the carrier has the largest value of x0
    res = rg.integrate.correlate(x, g, min_count=1)
    assert np.nanmin(res["p"]) >= 2 / 113 - 1e-7
    ref = stats.mannwhitneyu(x[g[:, 0] == 1, 0], x[g[:, 0] == 0, 0], method="exact").pvalue
    assert res["p"][0, 0] == pytest.approx(ref, rel=1e-6)
    assert ref == pytest.approx(2 / 113)
    assert res["tests"][res["test"][0, 0]] == "mannwhitneyu_exact"
    default = rg.integrate.correlate(x, g)  # min_count=3: untested, outside the FDR family
    assert np.isnan(default["p"]).all() and np.isnan(default["padj"]).all()
    assert default["info"]["n_pairs_small_group"] == 30 and default["info"]["n_tested"] == 0


@pytest.mark.parametrize("method", ["spearman", "pearson"])
def test_partial_correlation_matches_pingouin(mdata, method):
    _log_cpm(mdata)
    genes = ["CD274", "EGFR", "GENE00010", "GENE00200"]
    rg.integrate.associate(
        mdata, method=method, covariates=["site", "age"], layer_y="logcpm", y_features=genes, x_features=None
    )
    res = rg.get.associations(mdata)
    params = mdata.uns["associate"]["params"]
    assert params["covariate_columns"] == ["site_site2", "site_site3", "age"]
    x, rna = mdata.mod["radiomics"], mdata.mod["rna"]
    frame = pd.get_dummies(mdata.obs[["site"]], drop_first=True, dtype=float)
    frame["age"] = mdata.obs["age"].to_numpy()
    for i, gene in [(0, "CD274"), (12, "EGFR"), (3, "GENE00010"), (77, "GENE00200")]:
        data = frame.assign(xv=x.X[:, i].astype(float), yv=rna.layers["logcpm"][:, rna.var_names.get_loc(gene)])
        ref = pg.partial_corr(data, x="xv", y="yv", covar=list(frame.columns), method=method)
        row = _lookup(res, x.var_names[i], gene)
        assert row["r"] == pytest.approx(ref["r"].iloc[0], abs=1e-6)
        assert row["p"] == pytest.approx(ref["p_val"].iloc[0] if "p_val" in ref else ref["p-val"].iloc[0], rel=1e-6)
        assert row["test"] == f"partial_{method}"


def test_planted_pairs_found_and_unplanted_pairs_rarely(mdata):
    _log_cpm(mdata)
    rg.integrate.associate(mdata, layer_y="logcpm")
    res = rg.get.associations(mdata)
    truth = mdata.uns["truth"]
    f1 = truth["radiomic_features"].query("factor == 'F1'")["feature"]
    g1 = truth["gene_sets"].query("term == 'PLANTED_F1'")["gene"]
    planted = res[res["x_feature"].isin(f1) & res["y_feature"].isin(g1)]
    assert len(planted) == 250
    assert (planted["padj"] < 0.05).mean() >= 0.95
    assert (planted["r"] > 0).all()
    # features and genes outside every planted block are independent: few discoveries
    blocks = set(truth["radiomic_features"]["feature"])
    genes = set(truth["gene_sets"]["gene"]) | {"CD274", "CXCL8", "EGFR", "IDH1"}
    null = res[~res["x_feature"].isin(blocks) & ~res["y_feature"].isin(genes)]
    assert (null["padj"] < 0.05).mean() < 0.01


def test_null_data_empirical_fdr_at_most_nominal():
    q = 0.1
    fdp, any_disc = [], []
    for seed in range(60):
        rng = np.random.default_rng(seed)
        x, y = rng.standard_normal((40, 8)), rng.standard_normal((40, 30))
        y[:, :5] = rng.random((40, 5)) < 0.3  # some binary features: Mann-Whitney path
        res = rg.get.associations(rg.integrate.associate(_pair_mudata(x, y), x="a", y="b", copy=True))
        disc = int((res["padj"] <= q).sum())
        fdp.append(disc / max(disc, 1))  # every discovery is false under the null
        any_disc.append(disc > 0)
    assert np.mean(fdp) <= q
    assert np.mean(any_disc) <= q


def test_mixed_signal_fdr_controlled_and_power():
    q = 0.1
    fdps, power = [], []
    for seed in range(20):
        rng = np.random.default_rng(100 + seed)
        x, y = rng.standard_normal((80, 10)), rng.standard_normal((80, 40))
        y[:, :4] += 0.8 * x[:, :4]  # true pairs (j, j) for j < 4
        res = rg.get.associations(rg.integrate.associate(_pair_mudata(x, y), x="a", y="b", method="pearson", copy=True))
        true = res["x_feature"].str[1:].astype(int).eq(res["y_feature"].str[1:].astype(int)) & res["y_feature"].isin(
            ["y0", "y1", "y2", "y3"]
        )
        disc = res["padj"] <= q
        fdps.append((disc & ~true).sum() / max(disc.sum(), 1))
        power.append((disc & true).sum() / 4)
    assert np.mean(fdps) <= q
    assert np.mean(power) > 0.9


def test_permutation_fwer_null_and_signal():
    hits = []
    for seed in range(30):
        rng = np.random.default_rng(seed)
        x, y = rng.standard_normal((30, 5)), rng.standard_normal((30, 20))
        res = rg.integrate.associate(_pair_mudata(x, y), x="a", y="b", n_permutations=99, seed=seed, copy=True)
        table = rg.get.associations(res)
        p_fwer = table["p_fwer"]
        assert (p_fwer >= table["p"] * (1 - 1e-6)).all()
        hits.append((p_fwer <= 0.1).any())
    assert np.mean(hits) <= 0.2  # family-wise rate near 0.1 (binomial slack over 30 seeds)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((30, 5))
    y = np.hstack([x[:, :1] + 0.3 * rng.standard_normal((30, 1)), rng.standard_normal((30, 19))])
    res = rg.integrate.associate(_pair_mudata(x, y), x="a", y="b", n_permutations=199, seed=1, copy=True)
    table = rg.get.associations(res).set_index(["x_feature", "y_feature"])
    assert table.loc[("x0", "y0"), "p_fwer"] == pytest.approx(1 / 200)
    assert (table.drop(("x0", "y0"))["p_fwer"] > 0.05).mean() > 0.9


def test_missing_values_pairwise_exact_and_recorded():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((50, 6)), rng.standard_normal((50, 7))
    x[:10, [0, 1, 3]] = np.nan  # one region-like pattern (non-consecutive features)
    y[45:, 5] = np.nan
    mdata = _pair_mudata(x, y)
    rg.integrate.associate(mdata, x="a", y="b")
    res = rg.get.associations(mdata)
    assert "exact" in mdata.uns["associate"]["params"]["missing_rule"]
    for i, j in [(0, 0), (1, 5), (4, 5), (5, 2)]:
        ref = stats.spearmanr(x[:, i], y[:, j], nan_policy="omit")
        row = _lookup(res, f"x{i}", f"y{j}")
        assert row["r"] == pytest.approx(ref.statistic, abs=1e-6)
        assert row["p"] == pytest.approx(ref.pvalue, abs=1e-12, rel=1e-6)
        assert row["n"] == int((~np.isnan(x[:, i]) & ~np.isnan(y[:, j])).sum())
    rg.integrate.associate(mdata, x="a", y="b", missing="drop", key_added="drop")
    params = mdata.uns["drop"]["params"]
    assert params["n_patients"] == 35
    assert params["n_patients_eligible"] == 50
    assert (rg.get.associations(mdata, "drop")["n"] == 35).all()


def test_many_missing_patterns_masked_pearson_exact():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((60, 12)), rng.standard_normal((60, 12))
    x[rng.random(x.shape) < 0.1] = np.nan
    y[rng.random(y.shape) < 0.1] = np.nan
    mdata = _pair_mudata(x, y)
    with pytest.warns(UserWarning, match="masked sums"):
        rg.integrate.associate(mdata, x="a", y="b", method="pearson")
    res = rg.get.associations(mdata)
    for i, j in [(0, 0), (3, 7), (11, 2)]:
        ok = ~np.isnan(x[:, i]) & ~np.isnan(y[:, j])
        ref = stats.pearsonr(x[ok, i], y[ok, j])
        row = _lookup(res, f"x{i}", f"y{j}")
        assert row["r"] == pytest.approx(ref.statistic, abs=1e-6)
        assert row["p"] == pytest.approx(ref.pvalue, abs=1e-12, rel=1e-6)
    with pytest.raises(ValueError, match="missing='drop'"):
        rg.integrate.associate(mdata, x="a", y="b", n_permutations=10)


def test_patients_in_both_only_and_obs_keys(mdata):
    sub = mdata.mod["rna"][:100].copy()
    part = rg.io.build_mudata({"radiomics": mdata.mod["radiomics"].copy(), "rna": sub}, mdata.obs[["age", "site"]])
    rg.integrate.associate(part, x="radiomics", y="rna", y_features=["CD274", "EGFR"])
    params = part.uns["associate"]["params"]
    assert (params["n_patients"], params["n_patients_x"], params["n_patients_y"]) == (100, 120, 100)
    rg.integrate.associate(mdata, x="radiomics", y=["age", "idh_mutant", "rna:CD274"], key_added="obs")
    res = rg.get.associations(mdata, "obs")
    assert set(res["y_feature"]) == {"age", "idh_mutant", "rna:CD274"}
    assert set(res.loc[res["y_feature"] == "idh_mutant", "test"]) == {"mannwhitneyu"}


def test_subset_of_x_equals_full_map_rows(mdata):
    rg.integrate.associate(mdata, y="mut")
    name = mdata.mod["radiomics"].var_names[7]
    rg.integrate.associate(mdata, y="mut", x_features=[name], key_added="one", fdr=None, chunk_size=3)
    full = rg.get.associations(mdata).query("x_feature == @name").reset_index(drop=True)
    one = rg.get.associations(mdata, "one")
    np.testing.assert_allclose(one["r"], full["r"], atol=1e-12)
    np.testing.assert_allclose(one["p"], full["p"], rtol=1e-10)
    assert one["padj"].isna().all()


def test_copy_errors_and_round_trip(mdata, tmp_path):
    out = rg.integrate.associate(mdata, y="mut", copy=True)
    assert "associate" not in mdata.uns
    assert "associate" in out.uns
    with pytest.raises(ValueError, match="method must be"):
        rg.integrate.associate(mdata, method="kendal")
    with pytest.raises(KeyError, match="Layer 'nope'"):
        rg.integrate.associate(mdata, layer_y="nope")
    with pytest.raises(KeyError, match="not found"):
        rg.integrate.associate(mdata, y="proteins")
    with pytest.raises(KeyError, match="Features"):
        rg.integrate.associate(mdata, y="mut", y_features=["KRAS"])
    rg.io.write_h5mu(out, tmp_path / "a.h5mu")
    back = rg.io.read_h5mu(tmp_path / "a.h5mu")
    pd.testing.assert_frame_equal(
        rg.get.associations(back), rg.get.associations(out), check_categorical=False, check_dtype=False
    )
    assert back.uns["associate"]["params"]["fdr_family"] == out.uns["associate"]["params"]["fdr_family"]
    top = rg.get.associations(out, padj=0.05, top=5)
    assert len(top) <= 5
    assert (top["padj"] <= 0.05).all()
    assert top["p"].is_monotonic_increasing


def test_constant_feature_gives_missing_not_error():
    rng = np.random.default_rng(5)
    x, y = rng.standard_normal((20, 3)), rng.standard_normal((20, 4))
    y[:, 2] = 1.0
    res = rg.get.associations(rg.integrate.associate(_pair_mudata(x, y), x="a", y="b", copy=True))
    assert res.loc[res["y_feature"] == "y2", ["r", "p", "padj"]].isna().all().all()
    assert res.loc[res["y_feature"] != "y2", "padj"].notna().all()


def test_rank_and_large_array_pvalues_match_scipy():
    from radiogenomics.integrate._correlate import corr_pvalues, rank_columns

    rng = np.random.default_rng(6)
    a = np.round(rng.standard_normal((40, 30)), 1)  # many ties
    np.testing.assert_array_equal(rank_columns(a), stats.rankdata(a, axis=0))
    r = np.concatenate([rng.uniform(-1, 1, 150_000), rng.uniform(-1e-3, 1e-3, 50_000), [0.0, 1.0, -1.0, np.nan]])
    for df in (3, 98, 998, 9998):
        p, t = corr_pvalues(r, df)  # large array: interpolated path
        ref = 2 * stats.t.sf(np.abs(t), df)
        np.testing.assert_allclose(p, ref, rtol=1e-9, atol=1e-12)
        assert np.isnan(p[-1])


def _planted(mdata, factor="F1"):
    truth = mdata.uns["truth"]
    feats = truth["radiomic_features"].loc[lambda t: t["factor"] == factor, "feature"].tolist()
    genes = truth["gene_sets"].loc[lambda t: t["term"] == f"PLANTED_{factor}", "gene"].tolist()
    return feats, genes


@pytest.mark.parametrize("method", ["cca", "pls"])
def test_cca_pls_planted_block_significant(mdata, method):
    _log_cpm(mdata)
    feats, genes = _planted(mdata)
    rg.integrate.cca(
        mdata, "radiomics", "rna", method=method, layer_y="logcpm", x_features=feats, y_features=genes,
        n_permutations=39, seed=0,
    )  # fmt: skip
    summary = mdata.uns["cca"]["summary"]
    assert summary.loc[0, "correlation"] > 0.9
    assert summary.loc[0, "p"] == pytest.approx(1 / 40)
    assert summary.loc[1, "p"] > 0.05  # one planted factor: no second shared direction
    # the canonical variate tracks the planted factor
    f1 = mdata.uns["truth"]["factors"]["F1"].to_numpy()
    assert abs(np.corrcoef(mdata.obsm["X_cca_x"][:, 0], f1)[0, 1]) > 0.9
    # agrees with sklearn called directly on the same standardised data
    from sklearn.cross_decomposition import CCA, PLSCanonical

    xs = mdata.mod["radiomics"][:, feats].X.astype(float)
    ys = mdata.mod["rna"][:, genes].layers["logcpm"].astype(float)
    xs, ys = (xs - xs.mean(0)) / xs.std(0), (ys - ys.mean(0)) / ys.std(0)
    ref = (CCA if method == "cca" else PLSCanonical)(n_components=2, scale=False).fit(xs, ys)
    sx, sy = ref.transform(xs, ys)
    assert summary.loc[0, "correlation"] == pytest.approx(abs(np.corrcoef(sx[:, 0], sy[:, 0])[0, 1]), abs=1e-4)


def test_cca_null_data_permutation_p_uniform():
    pvals = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        mdata = _pair_mudata(rng.standard_normal((50, 4)), rng.standard_normal((50, 5)))
        rg.integrate.cca(mdata, "a", "b", n_components=1, n_permutations=19, seed=seed)
        pvals.append(mdata.uns["cca"]["summary"].loc[0, "p"])
    pvals = np.array(pvals)
    assert (pvals <= 0.05).mean() <= 0.2
    assert 0.3 < pvals.mean() < 0.7


def test_sparse_cca_selects_one_planted_block(mdata):
    _log_cpm(mdata)
    rg.integrate.cca(
        mdata, "radiomics", "rna", method="scca", layer_y="logcpm", n_components=1, penalty_x=0.2, penalty_y=0.15,
        n_permutations=19,
    )  # fmt: skip
    res = mdata.uns["cca"]
    assert res["summary"].loc[0, "p"] == pytest.approx(1 / 20)
    wx, wy = res["weights_x"]["C1"], res["weights_y"]["C1"]
    chosen_x, chosen_y = wx.index[wx != 0], wy.index[wy != 0]
    assert 2 <= len(chosen_x) < 20
    assert 2 <= len(chosen_y) < 60
    truth = mdata.uns["truth"]
    factor_of = truth["radiomic_features"].set_index("feature")["factor"]
    term_of = truth["gene_sets"].set_index("gene")["term"]
    factors = factor_of.reindex(chosen_x).value_counts()
    top = factors.index[0]
    assert factors.iloc[0] == len(chosen_x)  # all selected features from one planted block
    assert (term_of.reindex(chosen_y) == f"PLANTED_{top}").mean() >= 0.8


def test_cca_errors_and_pcs(mdata):
    with pytest.raises(ValueError, match="n_pcs"):
        rg.integrate.cca(mdata, "radiomics", "rna", n_permutations=0)
    with pytest.raises(ValueError, match="method must be"):
        rg.integrate.cca(mdata, "radiomics", "mut", method="kcca")
    out = rg.integrate.cca(mdata, "radiomics", "rna", n_pcs=5, n_permutations=0, copy=True, key_added="pcca")
    assert out.uns["pcca"]["weights_y"].shape == (500, 2)
    assert out.uns["pcca"]["summary"]["p"].isna().all()
    assert "pcca" not in mdata.uns


def test_fuse_block_scaling_and_missing_patients(mdata, tmp_path):
    _log_cpm(mdata)
    rg.integrate.fuse(mdata, ["radiomics", "rna", "mut"], layers={"rna": "logcpm"})
    fused = mdata.obsm["X_fused"]
    feats = mdata.uns["fused"]["features"]
    assert fused.shape == (120, 610)
    for mod in ("radiomics", "rna", "mut"):
        block = fused[:, (feats["modality"] == mod).to_numpy()]
        assert np.nansum(block.var(axis=0)) == pytest.approx(1.0, rel=1e-6)  # equal total variance
    sub = rg.io.build_mudata(
        {"radiomics": mdata.mod["radiomics"].copy(), "rna": mdata.mod["rna"][:90].copy()}, mdata.obs[["age"]]
    )
    with pytest.warns(UserWarning, match="30 patients lack"):
        rg.integrate.fuse(sub, ["radiomics", "rna"], scale="feature")
    assert np.isnan(sub.obsm["X_fused"]).any(axis=1).sum() == 30
    assert sub.uns["fused"]["params"]["n_patients_complete"] == 90
    rg.integrate.cca(mdata, "radiomics", "mut", n_permutations=5)
    rg.io.write_h5mu(mdata, tmp_path / "f.h5mu")
    back = rg.io.read_h5mu(tmp_path / "f.h5mu")
    np.testing.assert_allclose(back.obsm["X_fused"], fused)
    pd.testing.assert_frame_equal(back.uns["cca"]["summary"], mdata.uns["cca"]["summary"], check_dtype=False)
    pd.testing.assert_frame_equal(back.uns["cca"]["weights_x"], mdata.uns["cca"]["weights_x"])


def test_plots_read_stored_map(mdata, tmp_path):
    import matplotlib.pyplot as plt

    _log_cpm(mdata)
    rg.integrate.associate(mdata, layer_y="logcpm", y_features=mdata.mod["rna"].var_names[:120])
    rg.io.write_h5mu(mdata, tmp_path / "a.h5mu")
    back = rg.io.read_h5mu(tmp_path / "a.h5mu")  # plots redraw from the reloaded object
    _, (ax1, ax2) = plt.subplots(1, 2)
    assert rg.pl.associate_heatmap(back, top=10, ax=ax1) is ax1
    labels = {t.get_text() for t in ax1.get_yticklabels()}
    planted = set(mdata.uns["truth"]["radiomic_features"]["feature"])
    assert labels <= planted  # the strongest rows are planted radiomic features
    marks = [t.get_text() for t in ax1.texts]
    assert marks.count("***") >= 50
    assert rg.pl.volcano(back, ax=ax2, label_top=4) is ax2
    assert len(ax2.texts) == 4
    n_sig = int((rg.get.associations(back)["padj"] <= 0.05).sum())
    assert len(ax2.collections[1].get_offsets()) == n_sig
    with pytest.raises(KeyError, match="run the function"):
        rg.pl.volcano(mdata, key="nope")


def test_too_few_shared_patients_gives_missing():
    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((12, 2)), rng.standard_normal((12, 3))
    x[:10, 0] = np.nan  # x0 observed on 2 patients only
    res = rg.get.associations(rg.integrate.associate(_pair_mudata(x, y), x="a", y="b", copy=True))
    x0 = res[res["x_feature"] == "x0"]
    assert x0[["r", "p", "padj"]].isna().all().all()
    assert (x0["n"] == 2).all()
    assert res.loc[res["x_feature"] == "x1", "p"].notna().all()


def test_min_patients_guards_tiny_pairwise_overlaps():
    rng = np.random.default_rng(8)
    x, y = rng.standard_normal((30, 2)), rng.standard_normal((30, 3))
    x[:23, 0] = np.nan  # x0 observed on 7 patients
    x[23:, 0] = np.sort(x[23:, 0])
    y[23:, 0] = -np.sort(y[23:, 0])  # perfect rank correlation -1 on those 7 patients
    mdata = _pair_mudata(x, y)
    rg.integrate.associate(mdata, x="a", y="b")
    res = rg.get.associations(mdata)
    assert _lookup(res, "x0", "y0")[["r", "p", "padj"]].isna().all()
    assert mdata.uns["associate"]["params"]["n_pairs_too_few_patients"] == 3
    assert "of 1 x features" not in mdata.uns["associate"]["params"]["fdr_family"]
    assert "all 3 tested pairs" in mdata.uns["associate"]["params"]["fdr_family"]
    rg.integrate.associate(mdata, x="a", y="b", min_patients=5, key_added="small")
    row = _lookup(rg.get.associations(mdata, "small"), "x0", "y1")
    ref = stats.spearmanr(x[23:, 0], y[23:, 1])
    assert row["r"] == pytest.approx(ref.statistic, abs=1e-6)
    assert row["p"] == pytest.approx(ref.pvalue, abs=1e-12, rel=1e-6)
