"""Storage: h5mu round trip, CSV/RDS export, and loading the export in real R."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pandas as pd
import pyreadr
import pytest
from anndata.tests.helpers import assert_equal

import radiogenomics as rg
from radiogenomics.errors import DataFormatError


def _assert_uns_equal(a, b, where="uns"):
    assert set(a) == set(b), where
    for key in a:
        if isinstance(a[key], pd.DataFrame):
            pd.testing.assert_frame_equal(
                a[key], b[key], check_dtype=False, check_categorical=False, obj=f"{where}[{key}]"
            )
        elif isinstance(a[key], dict):
            _assert_uns_equal(a[key], b[key], f"{where}[{key}]")
        else:
            np.testing.assert_equal(a[key], b[key])


def test_h5mu_round_trip_keeps_everything(tmp_path, glioma):
    path = rg.io.write_h5mu(glioma, tmp_path / "sub" / "cohort.h5mu")
    back = rg.io.read_h5mu(path)
    assert back.shape == glioma.shape
    for name in glioma.mod:
        assert_equal(glioma[name], back[name])
    assert back.obs_names.equals(glioma.obs_names) and list(back.obs.columns) == list(glioma.obs.columns)
    for col in glioma.obs.columns:
        a, b = glioma.obs[col], back.obs[col]
        if pd.api.types.is_numeric_dtype(a) and not pd.api.types.is_bool_dtype(a):
            assert str(b.dtype) == "float64" or str(a.dtype) == str(b.dtype), col
            np.testing.assert_allclose(a.to_numpy(dtype=float), b.to_numpy(dtype=float), equal_nan=True, err_msg=col)
        else:
            assert (
                a.astype(object).where(a.notna(), None).tolist() == b.astype(object).where(b.notna(), None).tolist()
            ), col
    assert back.obs["os_event"].dtype == "boolean" and back.obs["age"].dtype == "float64"
    _assert_uns_equal(dict(glioma.uns), dict(back.uns))
    ax = rg.pl.pairing(back)  # plots redraw from the reloaded object
    assert len(ax.patches) > 0


def test_h5mu_round_trip_synthetic(tmp_path, mdata):
    back = rg.io.read_h5mu(rg.io.write_h5mu(mdata, tmp_path / "c.h5mu"))
    _assert_uns_equal(dict(mdata.uns), dict(back.uns))
    np.testing.assert_array_equal(mdata["rna"].X, back["rna"].X)


def test_unstorable_results_are_named_before_writing(tmp_path, mdata):
    mdata.uns["model"] = {"fitted": object(), "bad/key": 1}
    mdata.uns["table"] = pd.DataFrame({"genes": [["A", "B"], ["C"]]})
    with pytest.raises(DataFormatError) as err:
        rg.io.write_h5mu(mdata, tmp_path / "x.h5mu")
    text = str(err.value)
    assert "mdata.uns['model']['fitted']" in text and "'bad/key'" in text and "column 'genes'" in text
    assert not (tmp_path / "x.h5mu").exists()


def test_read_missing_file_message(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"write one with rg\.io\.write_h5mu"):
        rg.io.read_h5mu(tmp_path / "nope.h5mu")


@pytest.mark.parametrize("name", ["study.yaml", "empty.h5mu", "folder"])
def test_read_not_hdf5_names_the_file(tmp_path, name):
    path = tmp_path / name
    if name == "folder":
        path.mkdir()
    else:
        path.write_text("name: x\n" if name.endswith(".yaml") else "")
    with pytest.raises(DataFormatError, match=name) as err:
        rg.io.read_h5mu(path)
    assert ("radiogenomics run" in str(err.value)) == name.endswith(".yaml")


def test_export_tables_csv_rds_manifest(tmp_path, glioma):
    out = rg.io.export_tables(glioma, tmp_path / "tables")
    manifest = json.loads((out / "manifest.json").read_text())
    tables = manifest["tables"]
    assert {"clinical", "radiomics", "rna", "mut", "uns_pairing", "radiomics_uns_coerced_cells"} <= set(tables)
    radiomics = pd.read_csv(out / "mod.radiomics.X.csv", index_col=0)
    assert radiomics.shape == (167, 724)
    np.testing.assert_allclose(radiomics.to_numpy(), glioma["radiomics"].X, equal_nan=True)
    rds = pyreadr.read_r(out / "mdata.obs.rds")[None]
    assert rds.shape[0] == 167 and rds["patient_id"].tolist() == glioma.obs_names.tolist()
    for entry in tables.values():
        assert all(c["description"] for c in entry["columns"])
        assert (out / entry["csv"]).exists() and (out / entry["rds"]).exists()
    assert manifest["survival"] == [{"endpoint": "os", "time": "os_months", "event": "os_event"}]
    pairing = pd.read_csv(out / "mdata.uns.pairing.csv")
    assert len(pairing) == len(glioma.uns["pairing"])


_R_CHECK = r"""
source("{load}")
clin <- rg$tables$clinical
out <- list(
  clinical_dim = dim(clin), radiomics_dim = dim(rg$radiomics), rna_dim = dim(rg$rna), mut_dim = dim(rg$mut),
  radiomics_is_numeric = is.numeric(rg$radiomics), first_rowname = rownames(rg$radiomics)[1],
  volume_et = rg$radiomics[, "VOLUME_ET"], n_na_radiomics = sum(is.na(rg$radiomics)),
  os_event_class = class(clin$os_event), n_events = sum(clin$os_event, na.rm = TRUE),
  grade_levels = levels(clin$grade), idh_mutant = sum(clin$idh_mutant, na.rm = TRUE),
  age = clin$age, surv_class = class(rg$surv$os), surv_n = nrow(rg$surv$os),
  cox_age = unname(coef(survival::coxph(rg$surv$os ~ age, data = clin))),
  pairing_rows = nrow(rg$tables$uns_pairing)
)
for (n in names(out)) cat(n, "\t", paste(out[[n]], collapse = ","), "\n", sep = "")
"""


@pytest.mark.needs_r
def test_export_loads_in_r_with_same_values(tmp_path, glioma, require_r):
    out = rg.io.export_tables(glioma, tmp_path / "tables")
    script = tmp_path / "check.R"
    script.write_text(_R_CHECK.replace("{load}", str(out / "load.R")))
    res = subprocess.run([require_r, str(script)], capture_output=True, text=True, check=False, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    got = dict(line.split("\t", 1) for line in res.stdout.strip().splitlines())
    obs = glioma.obs
    assert got["clinical_dim"] == f"167,{obs.shape[1] + 1}"
    assert got["radiomics_dim"] == "167,724" and got["rna_dim"] == "52,840" and got["mut_dim"] == "113,20"
    assert got["radiomics_is_numeric"] == "TRUE" and got["first_rowname"] == glioma["radiomics"].obs_names[0]
    volume = np.array([float(v) for v in got["volume_et"].split(",")], dtype=float)
    np.testing.assert_allclose(volume, glioma["radiomics"][:, "VOLUME_ET"].X.ravel(), rtol=1e-12, equal_nan=True)
    assert int(got["n_na_radiomics"]) == int(np.isnan(glioma["radiomics"].X).sum())
    assert got["os_event_class"] == "logical" and int(got["n_events"]) == int(obs["os_event"].sum()) == 90
    assert got["grade_levels"] == "G2,G3,G4"
    assert int(got["idh_mutant"]) == int(obs["idh_mutant"].sum()) == 57
    ages = np.array([np.nan if v == "NA" else float(v) for v in got["age"].split(",")])
    np.testing.assert_allclose(ages, obs["age"].to_numpy(dtype=float), equal_nan=True)
    assert got["surv_class"] == "Surv" and got["surv_n"] == "167"
    # Cox on age computed in R from the exported tables: the same model fitted in Python
    from statsmodels.duration.hazard_regression import PHReg

    ok = obs["os_months"].notna() & obs["os_event"].notna() & obs["age"].notna()
    fit = PHReg(
        obs.loc[ok, "os_months"].to_numpy(float),
        obs.loc[ok, ["age"]].to_numpy(float),
        status=obs.loc[ok, "os_event"].to_numpy(bool),
        ties="efron",
    ).fit()
    np.testing.assert_allclose(float(got["cox_age"]), fit.params[0], rtol=1e-6)
    assert int(got["pairing_rows"]) == len(glioma.uns["pairing"])


@pytest.mark.needs_r
def test_export_synthetic_loads_in_r_from_csv_only(tmp_path, mdata, require_r):
    out = rg.io.export_tables(mdata, tmp_path / "t", rds=False)
    res = subprocess.run(
        [
            require_r,
            "-e",
            f'source("{out / "load.R"}"); cat(dim(rg$rna), class(rg$tables$clinical$os_event), levels(rg$tables$clinical$site), sum(rg$mut))',
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert res.returncode == 0, res.stderr
    words = res.stdout.split()
    assert words[:3] == [str(mdata["rna"].n_obs), str(mdata["rna"].n_vars), "logical"]
    assert words[3:6] == ["site1", "site2", "site3"]
    assert float(words[6]) == float(mdata["mut"].X.sum())


@pytest.mark.needs_r
def test_results_of_every_module_reach_r(tmp_path, mdata, require_r):
    """Results written by the analysis modules are exported and read back in R with the same values."""
    x = mdata["rna"].X
    mdata["rna"].layers["log"] = np.log1p(x / x.sum(axis=1, keepdims=True) * 1e6)
    rg.integrate.associate(mdata, x="radiomics", y="mut")
    rg.survival.kaplan_meier(mdata, groupby="site")
    rg.survival.cox(mdata, ["age", "idh_mutant"])
    rg.imaging.harmonize(mdata, batch_key="site")
    sets = {t: g["gene"].tolist() for t, g in mdata.uns["truth"]["gene_sets"].groupby("term")}
    rg.enrich.pathway_scores(mdata, layer="log", gene_sets=sets, method="zscore", min_size=5)
    out = rg.io.export_tables(mdata, tmp_path / "t")
    manifest = json.loads((out / "manifest.json").read_text())
    for name in (
        "uns_associate_results",
        "uns_kaplan_meier_table",
        "uns_cox_summary",
        "radiomics_uns_harmonize_gamma_star",
    ):
        assert name in manifest["tables"]
    code = (
        f'source("{out / "load.R"}"); s <- rg$tables$uns_cox_summary; '
        'cat(length(rg$tables) + sum(names(rg) %in% c("radiomics", "rna", "mut", "pathways")), '
        'sprintf("%.17g", s[["coef"]]), nrow(rg$tables$uns_associate_results), dim(rg$pathways), '
        'dim(rg$maps$associate$padj), sprintf("%.17g", rg$maps$associate$r[3, 5]), rownames(rg$maps$associate$p)[3], '
        "colnames(rg$maps$associate$p)[5], sum(is.na(rg$maps$associate$p)), is.numeric(rg$maps$associate$padj))"
    )
    res = subprocess.run([require_r, "-e", code], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    words = res.stdout.split()
    assert int(words[0]) == len(manifest["tables"])
    np.testing.assert_allclose(
        [float(w) for w in words[1:3]], mdata.uns["cox"]["summary"]["coef"].to_numpy(), rtol=1e-12
    )
    assert int(words[3]) == len(mdata.uns["associate"]["results"])
    assert [int(w) for w in words[4:6]] == list(mdata["pathways"].shape)
    stored = mdata.uns["associate"]  # the association map reaches R as numeric matrices with dimnames
    assert [int(w) for w in words[6:8]] == list(stored["padj"].shape)
    assert float(words[8]) == float(stored["r"][2, 4])
    assert words[9:11] == [stored["x_features"][2], stored["y_features"][4]]
    assert int(words[11]) == int(np.isnan(stored["p"]).sum()) and words[12] == "TRUE"


def test_mixed_type_column_is_refused_before_any_file_is_touched(tmp_path, mdata):
    path = rg.io.write_h5mu(mdata, tmp_path / "c.h5mu")
    before = path.read_bytes()
    stage = np.array(["I", 2, "III"] * (mdata.n_obs // 3), dtype=object)
    mdata.obs["stage"] = stage
    with pytest.raises(
        DataFormatError, match=r"mdata\.obs column 'stage': holds values of types \['int', 'str'\].*astype"
    ):
        rg.io.write_h5mu(mdata, path)
    assert path.read_bytes() == before and not list(tmp_path.glob(".c.h5mu.tmp-*"))
    mdata.obs["stage"] = mdata.obs["stage"].astype(str)  # the fix the message names
    assert rg.io.read_h5mu(rg.io.write_h5mu(mdata, path)).obs["stage"].tolist()[:3] == ["I", "2", "III"]
