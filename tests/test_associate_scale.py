"""Association maps at scale: matrix storage, FDR, non-finite values, Dask and backed cohorts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import fdrcorrection

import radiogenomics as rg
from radiogenomics.integrate._fdr import fdr_adjust


def _pair_mudata(x: np.ndarray, y: np.ndarray):
    patients = [f"P{i:04d}" for i in range(x.shape[0])]
    a = pd.DataFrame(x, index=patients, columns=[f"x{j}" for j in range(x.shape[1])])
    b = pd.DataFrame(y, index=patients, columns=[f"y{j}" for j in range(y.shape[1])])
    return rg.io.build_mudata({"a": a, "b": b}, None, id_rule=None)


@pytest.mark.parametrize(("method", "sm"), [("bh", "indep"), ("by", "negcorr")])
def test_fdr_equals_statsmodels(method, sm):
    rng = np.random.default_rng(0)
    p = rng.random(401 * 499).astype(np.float32)
    p[:5000] *= 1e-7  # signal
    p[5000:7000] = p[5000]  # ties
    p[7000:7010] = np.nan  # untested: outside the family
    p[7010:7015] = [0.0, 1.0, 1.0, 0.5, 0.0]
    ok = ~np.isnan(p)
    ref = fdrcorrection(p[ok].astype(np.float64), method=sm)[1]
    got = fdr_adjust(p.reshape(401, 499), method).reshape(-1)
    np.testing.assert_array_equal(got[ok], ref.astype(np.float32))
    assert np.isnan(got[~ok]).all()


def test_stored_as_matrices_with_significant_pairs_table(mdata, tmp_path):
    rg.integrate.associate(mdata, x="radiomics", y="rna", top=2)
    stored = mdata.uns["associate"]
    nx, ny = mdata["radiomics"].n_vars, mdata["rna"].n_vars
    for name in ("r", "p", "padj", "statistic"):
        assert stored[name].shape == (nx, ny) and stored[name].dtype == np.float32
    full = rg.get.associations(mdata)
    assert len(full) == nx * ny
    kept = stored["results"]
    expect = (full["padj"] < 0.05) | full.groupby("x_feature", observed=True)["p"].rank(method="first").le(2)
    assert len(kept) == int(expect.sum())
    assert kept["padj"].max() >= 0.05 and (kept["padj"] < 0.05).sum() == int((full["padj"] < 0.05).sum())
    # the matrix entry, the long table and scipy agree
    i, j = 5, 17
    row = full[(full["x_feature"] == stored["x_features"][i]) & (full["y_feature"] == stored["y_features"][j])]
    ref = stats.spearmanr(mdata["radiomics"].X[:, i], mdata["rna"].X[:, j])
    assert row["r"].iloc[0] == pytest.approx(ref.statistic, abs=1e-6) == stored["r"][i, j]
    sub = rg.get.associations(mdata, x_features=[stored["x_features"][i]], padj=0.05)
    assert set(sub["y_feature"]) == set(
        full.loc[(full["x_feature"] == stored["x_features"][i]) & (full["padj"] <= 0.05), "y_feature"]
    )
    rg.io.write_h5mu(mdata, tmp_path / "m.h5mu")
    back = rg.io.read_h5mu(tmp_path / "m.h5mu")
    np.testing.assert_array_equal(back.uns["associate"]["padj"], stored["padj"])
    pd.testing.assert_frame_equal(back.uns["associate"]["results"], kept, check_categorical=False)


def test_infinite_values_are_missing_with_a_count():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((40, 2))
    y = x[:, :1] + 0.5 * rng.standard_normal((40, 1))
    x[3, 0] = np.inf
    with pytest.warns(UserWarning, match="1 infinite values in 'a'"):
        mdata = rg.integrate.associate(_pair_mudata(x, y), x="a", y="b", method="pearson", copy=True)
    res = rg.get.associations(mdata).set_index("x_feature")
    keep = np.isfinite(x[:, 0])
    ref = stats.pearsonr(x[keep, 0], y[keep, 0])
    assert res.loc["x0", "n"] == 39
    assert res.loc["x0", "r"] == pytest.approx(ref.statistic, abs=1e-6)
    assert mdata.uns["associate"]["params"]["n_nonfinite_x"] == 1
    # Spearman: the inf is left out, not ranked as the largest value
    x2 = rng.standard_normal((30, 1))
    y2 = -x2.copy()
    x2[0, 0], y2[0, 0] = np.inf, 10.0
    with pytest.warns(UserWarning, match="infinite"):
        res2 = rg.integrate.correlate(x2, y2)
    assert res2["r"][0, 0] == pytest.approx(-1.0, abs=1e-6)
    assert res2["n"][0, 0] == 29


def test_correlate_array_core_equals_associate_and_writes_nothing(mdata):
    x, y = mdata["radiomics"].X, mdata["mut"].X
    res = rg.integrate.correlate(pd.DataFrame(x, columns=mdata["radiomics"].var_names), y)
    before = set(mdata.uns)
    rg.integrate.associate(mdata, y="mut")
    np.testing.assert_array_equal(res["p"], mdata.uns["associate"]["p"])
    np.testing.assert_array_equal(res["padj"], mdata.uns["associate"]["padj"])
    assert list(res["x_features"]) == list(mdata["radiomics"].var_names)
    assert set(mdata.uns) == before | {"associate"}
    with pytest.raises(ValueError, match="same patients"):
        rg.integrate.correlate(x, y[:-1])


def test_dask_client_gives_identical_maps():
    distributed = pytest.importorskip("distributed")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((60, 12))
    y = np.hstack([x[:, :3] + rng.standard_normal((60, 3)), rng.standard_normal((60, 40)), rng.random((60, 2)) < 0.1])
    local = rg.integrate.correlate(x, y, chunk_size=7, n_permutations=20, seed=1)
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = rg.integrate.correlate(x, y, chunk_size=7, n_permutations=20, seed=1, client=client)
        mdata = _pair_mudata(x, y)
        rg.integrate.associate(mdata, x="a", y="b", chunk_size=7, client=client)
    for name in ("r", "p", "padj", "statistic", "n", "test", "p_fwer"):
        np.testing.assert_array_equal(remote[name], local[name])
    np.testing.assert_array_equal(mdata.uns["associate"]["padj"], local["padj"])


def test_backed_cohort_reads_chunks(mdata, tmp_path):
    import mudata as md

    rg.integrate.associate(mdata, x="radiomics", y="rna", y_features=mdata["rna"].var_names[:50])
    path = tmp_path / "c.h5mu"
    rg.io.write_h5mu(mdata, path)
    backed = md.read_h5mu(path, backed=True)
    assert not isinstance(backed["rna"].X, np.ndarray)  # on disk
    rg.integrate.associate(backed, x="radiomics", y="rna", y_features=mdata["rna"].var_names[:50], chunk_size=16)
    np.testing.assert_array_equal(backed.uns["associate"]["r"], mdata.uns["associate"]["r"])
    np.testing.assert_array_equal(backed.uns["associate"]["padj"], mdata.uns["associate"]["padj"])


def test_export_writes_maps_as_binary_matrices(mdata, tmp_path):
    import json

    rg.integrate.associate(mdata, x="radiomics", y="mut")
    stored = mdata.uns["associate"]
    out = rg.io.export_tables(mdata, tmp_path / "e", rds=False)
    rg.io.export_tables(mdata, out, rds=False)  # an earlier export with maps is replaced, not refused
    entry = json.loads((out / "manifest.json").read_text())["maps"]["associate"]
    assert set(entry["matrices"]) == {"r", "p", "padj"}  # n is constant here: in params
    shape = tuple(entry["shape"])
    padj = np.fromfile(out / entry["matrices"]["padj"]["file"], dtype="<f4").reshape(shape[::-1]).T
    np.testing.assert_array_equal(padj, stored["padj"])
    rows = pd.read_csv(out / entry["rows"])["name"].tolist()
    assert rows == list(stored["x_features"])
    assert "mdata.uns.associate.results.csv" in {p.name for p in out.iterdir()}
