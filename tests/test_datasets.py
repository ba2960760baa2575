"""Bundled datasets: the real TCGA glioma cohort and the planted-truth synthetic cohort."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import radiogenomics as rg


def test_glioma_has_all_radiomics_patients_and_labels(glioma):
    assert glioma.n_obs == 167
    assert glioma["radiomics"].shape == (167, 724)
    obs = glioma.obs
    for col in ("idh_mutant", "codel_1p19q", "mgmt_methylated", "os_months", "os_event", "grade", "age"):
        assert col in obs.columns
    # counts published in the data README (Ceccarelli 2016 labels on the 167 feature patients)
    assert obs["idh_mutant"].notna().sum() == 148 and obs["idh_mutant"].sum() == 57
    assert obs["codel_1p19q"].notna().sum() == 161 and obs["codel_1p19q"].sum() == 13
    assert obs["mgmt_methylated"].notna().sum() == 128 and obs["mgmt_methylated"].sum() == 79
    assert (obs["os_months"].notna() & obs["os_event"].notna()).sum() == 166 and obs["os_event"].sum() == 90
    assert obs["grade"].value_counts().to_dict() == {"G2": 28, "G3": 37, "G4": 101}
    assert glioma["radiomics"].obs["project"].value_counts().to_dict() == {"TCGA-GBM": 102, "TCGA-LGG": 65}
    assert glioma["rna"].n_obs == 52 and glioma["mut"].n_obs == 113


def test_glioma_pairing_accounts_for_every_input_id(glioma):
    pairing = rg.get.pairing(glioma)
    assert pairing.groupby("modality").size().to_dict() == {"radiomics": 167, "mut": 862, "rna": 173, "clinical": 1122}
    kept = pairing[pairing["status"] == "kept"]
    assert kept.groupby("modality").size().to_dict() == {"radiomics": 167, "mut": 113, "rna": 52, "clinical": 167}
    assert (pairing.loc[pairing["status"] == "dropped", "reason"] != "").all()


def test_glioma_quirks_reported(glioma):
    coerced = glioma["radiomics"].uns["coerced_cells"]
    assert sorted(coerced["value"]) == ["#DIV/0!", "#DIV/0!", "Inf"]
    assert sorted(coerced["feature"]) == ["DIST_Vent_ED", "VOLUME_ET_OVER_ED", "VOLUME_NET_OVER_ED"]
    assert np.isfinite(glioma["radiomics"].X[~np.isnan(glioma["radiomics"].X)]).all()
    x = glioma["radiomics"]
    assert np.isnan(x[coerced["patient_id"].iloc[0], "VOLUME_ET_OVER_ED"].X).all()
    assert int(x.var["n_missing"].sum()) == 1928 + 5866 + 3  # NaN cells of both tables + the three coerced cells
    assert "coerced" in glioma.uns["source"]["notes"]
    assert {"radiomics", "clinical", "mut", "rna"} <= set(glioma.uns["source"])


def test_glioma_idh_sources_agree(glioma):
    """UCI IDH1 calls agree with Ceccarelli IDH status (55/55 mutant, 56/58 wild type; data README)."""
    mut = glioma["mut"]
    idh1 = pd.Series(mut[:, "IDH1"].X.ravel(), index=mut.obs_names)
    status = glioma.obs.loc[mut.obs_names, "idh_mutant"]
    both = status.notna()
    table = pd.crosstab(idh1[both], status[both].astype(bool))
    assert table.loc[1.0, True] == 55 and table.loc[0.0, False] == 56 and table.loc[0.0, True] == 2


def test_glioma_is_prognostic_as_published(glioma):
    """Age is prognostic (C-index 0.713 in the data README) on the real cohort."""
    from sksurv.metrics import concordance_index_censored

    obs = glioma.obs
    ok = obs["os_months"].notna() & obs["os_event"].notna()
    c = concordance_index_censored(
        obs.loc[ok, "os_event"].to_numpy(bool),
        obs.loc[ok, "os_months"].to_numpy(float),
        obs.loc[ok, "age"].to_numpy(float),
    )[0]
    assert c == pytest.approx(0.713, abs=0.002)


def test_synthetic_is_deterministic_and_records_truth():
    a = rg.datasets.synthetic_cohort(n_patients=40, n_genes=120, seed=3)
    b = rg.datasets.synthetic_cohort(n_patients=40, n_genes=120, seed=3)
    c = rg.datasets.synthetic_cohort(n_patients=40, n_genes=120, seed=4)
    np.testing.assert_array_equal(a["rna"].X, b["rna"].X)
    assert not np.array_equal(a["radiomics"].X, c["radiomics"].X)
    truth = a.uns["truth"]
    assert truth["factors"].shape == (40, 3)
    assert truth["radiomic_features"].groupby("factor").size().tolist() == [10, 10, 10]
    assert truth["gene_sets"].groupby("term").size().tolist() == [25, 25, 25]
    assert truth["batch_shift"].shape == (3, 100)
    assert a["radiomics"].var["feature_class"].iloc[0] == "shape"
    assert a["radiomics"].var_names[0] == "CT_tumour_original_shape_Elongation"


def test_synthetic_planted_signal_is_there(cohort_session):
    m = cohort_session
    truth = m.uns["truth"]
    f1 = truth["factors"]["F1"].to_numpy()
    planted = truth["radiomic_features"].query("factor == 'F1'")["feature"]
    x = m["radiomics"][:, planted].X
    site = m.obs["site"].to_numpy()
    # within one site, planted features track F1 strongly; unplanted features do not
    sel = site == "site1"
    r_planted = [abs(stats.spearmanr(x[sel, j], f1[sel])[0]) for j in range(x.shape[1])]
    assert min(r_planted) > 0.6
    other = m["radiomics"][
        :, [v for v in m["radiomics"].var_names if v not in set(truth["radiomic_features"]["feature"])]
    ].X
    r_other = [abs(stats.spearmanr(other[sel, j], f1[sel])[0]) for j in range(other.shape[1])]
    assert np.median(r_other) < 0.2
    # site effect: a planted shift that differs between sites
    v = m["radiomics"].X[:, 50]
    assert stats.kruskal(*[v[site == s] for s in np.unique(site)]).pvalue < 1e-3
    # hazard: F1 raises the hazard (Cox), IDH is associated with F2
    from statsmodels.duration.hazard_regression import PHReg

    fit = PHReg(m.obs["os_months"].to_numpy(float), f1[:, None], status=m.obs["os_event"].to_numpy(bool)).fit()
    assert fit.params[0] > 0.3 and fit.pvalues[0] < 1e-3
    assert (
        stats.mannwhitneyu(
            truth["factors"]["F2"][m.obs["idh_mutant"]], truth["factors"]["F2"][~m.obs["idh_mutant"]]
        ).pvalue
        < 1e-6
    )
    cens = 1 - m.obs["os_event"].mean()
    assert 0.15 < cens < 0.5
    # PD-L1 (CD274) follows F1 in the counts
    cpm = np.log1p(m["rna"].X / m["rna"].X.sum(1, keepdims=True) * 1e6)
    assert stats.spearmanr(cpm[:, 0], f1)[0] > 0.5


def test_synthetic_scales_to_large_sizes():
    m = rg.datasets.synthetic_cohort(n_patients=2000, n_features=1000, n_genes=5000, seed=1)
    assert m["rna"].shape == (2000, 5000) and m["radiomics"].shape == (2000, 1000)
    assert m["rna"].X.dtype == np.float32


def test_synthetic_bad_sizes():
    with pytest.raises(ValueError, match="n_features must be"):
        rg.datasets.synthetic_cohort(n_patients=20, n_features=5)
    # the message gives the minimum for the sizes asked (defaults: 3 factors, 25-gene sets)
    with pytest.raises(ValueError, match=r"n_genes >= 4 \+ n_factors\*gene_set_size = 79 \(got 50\)"):
        rg.datasets.synthetic_cohort(n_patients=30, n_genes=50)


def test_synthetic_cohorts_share_structure_for_external_validation():
    a = rg.datasets.synthetic_cohort(n_patients=300, seed=0, structure_seed=0)
    b = rg.datasets.synthetic_cohort(n_patients=300, seed=1, structure_seed=0)
    c = rg.datasets.synthetic_cohort(n_patients=300, seed=0, structure_seed=1)
    pd.testing.assert_frame_equal(a.uns["truth"]["batch_shift"], b.uns["truth"]["batch_shift"])
    med_a, med_b, med_c = (np.median(m["radiomics"].X, axis=0) for m in (a, b, c))
    assert np.median(np.abs(med_a / med_b - 1)) < 0.1  # same feature units in another patient sample
    assert np.median(np.abs(med_a / med_c - 1)) > 0.5  # another structure: other units
    assert not np.array_equal(a.uns["truth"]["factors"].to_numpy(), b.uns["truth"]["factors"].to_numpy())
