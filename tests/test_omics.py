from __future__ import annotations

import warnings
from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import data_loaders as dl
import radiogenomics as rg
from radiogenomics.errors import DataFormatError, MissingColumnError

DATA = Path(__file__).parent / "data" / "omics"


@pytest.fixture
def gdc():
    return dl.read_gdc_star_counts(dl.example_file("gdc_star_counts"), sample_sheet=dl.example_file("gdc_sample_sheet"))


def test_log_cpm_is_log2_cpm_plus_one(gdc):
    counts = gdc.layers["counts"].astype(float)
    rg.omics.normalize(gdc, method="log_cpm")
    expected = np.log2(counts / counts.sum(axis=1, keepdims=True) * 1e6 + 1)
    np.testing.assert_allclose(gdc.X, expected, rtol=1e-10)
    np.testing.assert_array_equal(gdc.layers["counts"], counts)  # raw counts untouched
    assert gdc.uns["normalize"]["params"] == {"method": "log_cpm", "layer": "counts", "source": "layers['counts']"}


def test_log_tpm_from_layer_and_from_gene_length(gdc):
    tpm = gdc.layers["tpm"].astype(float)
    rg.omics.normalize(gdc, method="log_tpm")
    np.testing.assert_allclose(gdc.X, np.log2(tpm + 1), rtol=1e-6)
    counts = np.array([[10, 0, 30], [5, 5, 0]], dtype=float)
    adata = ad.AnnData(X=counts.copy(), var=pd.DataFrame({"gene_length": [1000, 2000, 500]}, index=["a", "b", "c"]))
    rg.omics.normalize(adata, method="log_tpm")
    rate = counts / np.array([1.0, 2.0, 0.5])
    np.testing.assert_allclose(adata.layers["tpm"], rate / rate.sum(axis=1, keepdims=True) * 1e6)
    np.testing.assert_allclose(adata.X[0], np.log2(np.array([10, 0, 60]) / 70 * 1e6 + 1))
    np.testing.assert_array_equal(adata.layers["counts"], counts)
    with pytest.raises(MissingColumnError, match="needs layers\\['tpm'\\]"):
        rg.omics.normalize(ad.AnnData(X=counts.copy()), method="log_tpm")


def test_vst_matches_deseq2_reference():
    counts = pd.read_csv(DATA / "deseq2_vst_counts.csv.gz", index_col=0)
    reference = pd.read_csv(DATA / "deseq2_vst_reference.csv.gz", index_col=0)
    adata = ad.AnnData(
        X=counts.to_numpy(dtype=float), obs=pd.DataFrame(index=counts.index), var=pd.DataFrame(index=counts.columns)
    )
    rg.omics.normalize(adata, method="vst")
    params = adata.uns["normalize"]["params"]
    assert params["fit_type"] == "parametric"
    # DESeq2 1.38.3: asymptDisp 0.08053947585, extraPois 1.318302285
    assert params["asympt_disp"] == pytest.approx(0.0805395, rel=0.01)
    assert params["extra_pois"] == pytest.approx(1.318302, rel=0.01)
    diff = np.abs(adata.X - reference.to_numpy())
    assert diff.max() < 0.01, diff.max()
    assert np.median(diff) < 1e-3
    # variance stabilisation: the spread of the transform barely depends on the mean, unlike log2(count+1) of normalised counts
    mean = counts.mean().to_numpy()
    low, high = (mean > 5) & (mean < 30), mean > 500
    sd_vst = adata.X.std(axis=0)
    log_norm = np.log2(counts.to_numpy() / adata.obs["size_factor"].to_numpy()[:, None] + 1)
    sd_log = log_norm.std(axis=0)
    assert np.median(sd_vst[low]) / np.median(sd_vst[high]) < np.median(sd_log[low]) / np.median(sd_log[high])


def test_vst_constant_dispersion_matches_deseq2_mean_fit():
    from radiogenomics.omics._vst import gene_dispersions, mean_dispersion, size_factors, vst_mean_transform

    counts = pd.read_csv(DATA / "deseq2_vst_counts.csv.gz", index_col=0).to_numpy(dtype=float)
    reference = pd.read_csv(DATA / "deseq2_vst_mean_reference.csv.gz", index_col=0).to_numpy()
    sf = size_factors(counts)
    alpha = mean_dispersion(gene_dispersions(counts, sf))
    assert alpha == pytest.approx(0.1528752237, rel=0.005)  # DESeq2 1.38.3 fitType="mean"
    values = vst_mean_transform(counts / sf[:, None], alpha)[:, :40]
    assert np.abs(values - reference).max() < 0.005


def test_normalize_rejects_bad_counts():
    with pytest.raises(DataFormatError, match="negative values"):
        rg.omics.normalize(ad.AnnData(X=np.array([[1.0, -2.0], [3.0, 4.0]])))
    with pytest.raises(DataFormatError, match="whole-number counts"):
        rg.omics.normalize(ad.AnnData(X=np.array([[1.5, 2.0], [3.0, 4.0]])), method="vst")
    with pytest.raises(ValueError, match="method='tmm' is not known"):
        rg.omics.normalize(ad.AnnData(X=np.ones((2, 2))), method="tmm")


def test_copy_and_mudata(mdata):
    out = rg.omics.normalize(mdata, copy=True)
    assert "counts" not in mdata.mod["rna"].layers and "counts" in out.mod["rna"].layers
    assert rg.omics.normalize(mdata) is None
    assert mdata.mod["rna"].uns["normalize"]["params"]["method"] == "log_cpm"


def test_filter_genes(gdc):
    counts = gdc.layers["counts"]
    rg.omics.filter_genes(gdc, min_count=100, min_samples=3)
    expected = (counts >= 100).sum(axis=0) >= 3
    assert gdc.n_vars == int(expected.sum())
    removed = gdc.uns["filter_genes"]["removed"]
    assert len(removed) == int((~expected).sum()) and removed["reason"].str.contains("fewer than 3").all()


def test_filter_genes_in_mudata_updates_shape(mdata):
    n = mdata.mod["rna"].n_vars
    rg.omics.filter_genes(mdata, min_count=1e9, min_samples=1)
    assert mdata.mod["rna"].n_vars == 0 and len(mdata.mod["rna"].uns["filter_genes"]["removed"]) == n
    assert mdata.n_vars == sum(m.n_vars for m in mdata.mod.values())


def test_highly_variable_uses_training_samples_only(mdata):
    rg.omics.normalize(mdata)
    train = np.arange(mdata.n_obs) < 80
    rg.omics.highly_variable(mdata, n_top_genes=20, train=train)
    first = mdata.mod["rna"].var["highly_variable"].copy()
    rna = mdata.mod["rna"]
    rna.X[~train] = np.random.default_rng(0).normal(0, 50, size=rna.X[~train].shape)  # scramble validation samples
    rg.omics.highly_variable(mdata, n_top_genes=20, train=train)
    pd.testing.assert_series_equal(mdata.mod["rna"].var["highly_variable"], first)
    assert mdata.mod["rna"].uns["highly_variable"]["params"]["n_train"] == 80


def test_map_gene_ids_keeps_highest_mean(gdc):
    means = gdc.layers["counts"].mean(axis=0)
    pinx = gdc.var_names[gdc.var["gene_name"] == "PINX1"]
    winner = pinx[np.argmax(means[gdc.var_names.isin(pinx)])]
    with pytest.warns(UserWarning, match=r"map_gene_ids: 2 genes share a symbol.*keeping the highest mean expression"):
        rg.omics.map_gene_ids(gdc)
    assert gdc.var_names.is_unique and gdc.var.loc["PINX1", "gene_id"] == winner
    assert gdc.uns["map_gene_ids"]["params"]["n_dropped"] == 2
    dropped = gdc.uns["map_gene_ids"]["dropped"]
    assert (dropped["mean"] <= dropped["kept_mean"]).all()
    first = dl.read_gdc_star_counts(
        dl.example_file("gdc_star_counts"), sample_sheet=dl.example_file("gdc_sample_sheet")
    )
    with pytest.warns(UserWarning, match=r"keeping the first in file order \(duplicates='first'\)"):
        rg.omics.map_gene_ids(first, duplicates="first")
    assert first.var.loc["PINX1", "gene_id"] == "ENSG00000254093.8"
    with pytest.raises(MissingColumnError, match="gene symbols are needed"):
        rg.omics.map_gene_ids(ad.AnnData(X=np.ones((2, 2))))


def test_mutation_status_matches_planted_idh(mdata):
    with pytest.raises(
        MissingColumnError, match=r"WHO CNS5 \(IDH1 R132 or IDH2 R172\).*groups=\{'IDH': \['IDH1', 'IDH2'\]\}"
    ):
        rg.omics.mutation_status(mdata)  # the synthetic cohort has gene-level calls only
    rg.omics.mutation_status(mdata, {"IDH": ["IDH1", "IDH2"]})
    truth = mdata.obs["idh_mutant"].astype(bool)
    status = mdata.obs["IDH_status"] == "mutant"
    mut = mdata.mod["mut"]
    expected = (mut[:, ["IDH1", "IDH2"]].X.sum(axis=1) > 0).ravel()
    np.testing.assert_array_equal(status.loc[mut.obs_names].to_numpy(), expected)
    assert (status == truth).mean() > 0.9
    with pytest.raises(MissingColumnError, match="need mutation_matrix"):
        rg.omics.mutation_status(mdata, {"IDH": ["IDH1_R132"]})


def test_marker_cutpoints_fitted_on_training_only(mdata):
    rg.omics.normalize(mdata)
    train = np.arange(mdata.n_obs) < 90
    rg.omics.markers(mdata, ["CD274", "CXCL8"], train=train)
    cuts = mdata.uns["markers"]["cutpoints"].set_index("gene")
    values = mdata.obs["CD274_expression"]
    assert cuts.loc["CD274", "cutpoint"] == pytest.approx(values[train].median())
    assert cuts.loc["CD274", "protein"] == "PD-L1" and cuts.loc["CXCL8", "n_train"] == 90
    assert (mdata.obs.loc[train, "CD274_level"] == "high").sum() == 45
    # validation values do not move the cut-point
    rna = mdata.mod["rna"]
    rna.X[~train] += 100
    rg.omics.markers(mdata, ["CD274"], train=train, key_added="again")
    assert mdata.uns["again"]["cutpoints"]["cutpoint"].iloc[0] == pytest.approx(cuts.loc["CD274", "cutpoint"])
    assert (mdata.obs.loc[~train, "CD274_level"] == "high").all()


def test_marker_cutpoint_applied_to_validation_cohort(mdata):
    rg.omics.normalize(mdata)
    rg.omics.markers(mdata, ["CD274"], method="quantile", quantile=0.75)
    stored = mdata.uns["markers"]["cutpoints"]
    validation = rg.datasets.synthetic_cohort(n_patients=30, n_genes=100, seed=5)
    rg.omics.normalize(validation)
    rg.omics.markers(validation, ["CD274"], cutpoint=stored)
    cut = stored["cutpoint"].iloc[0]
    expected = np.where(validation.obs["CD274_expression"] > cut, "high", "low")
    assert validation.obs["CD274_level"].astype(str).tolist() == expected.tolist()
    assert validation.uns["markers"]["params"]["applied"] is True
    rg.omics.markers(validation, ["CD274"], method="fixed", threshold=cut, key_added="fixed")
    assert validation.obs["CD274_level"].astype(str).tolist() == expected.tolist()
    with pytest.raises(MissingColumnError, match="cutpoint has no value for \\['CXCL8'\\]"):
        rg.omics.markers(validation, ["CXCL8"], cutpoint={"CD274": 1.0})
    with pytest.raises(MissingColumnError, match="Gene 'NOPE' not found"):
        rg.omics.markers(validation, ["NOPE"])


def test_markers_on_gdc_ensembl_ids_via_gene_name(gdc):
    rg.omics.normalize(gdc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        mdata = rg.io.build_mudata({"rna": gdc})
    with pytest.raises(MissingColumnError, match="matches 2 rows of var\\['gene_name'\\]"):
        rg.omics.markers(mdata, ["PINX1"])
    rg.omics.markers(mdata, ["CD274"], method="median")
    np.testing.assert_allclose(
        mdata.obs["CD274_expression"].to_numpy(), mdata.mod["rna"][:, "ENSG00000120217.14"].X.ravel()
    )


def test_results_survive_h5mu_round_trip(tmp_path, gdc):
    mut = dl.mutation_matrix(dl.example_file("maf"), hotspots=dl.IDH_HOTSPOTS)
    with pytest.warns(UserWarning, match="share a symbol"):
        rg.omics.map_gene_ids(gdc)
    rg.omics.filter_genes(gdc, min_count=5, min_samples=2)
    with pytest.warns(UserWarning, match="DESeq2 fitType='mean'"):
        rg.omics.normalize(gdc, method="vst")  # 5 samples: the parametric trend fails, as in DESeq2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        mdata = rg.io.build_mudata({"rna": gdc, "mut": mut})
    rg.omics.highly_variable(mdata, n_top_genes=5)
    rg.omics.mutation_status(mdata, {"IDH": ["IDH1_R132", "IDH2_R172"]})
    rg.omics.markers(mdata, ["CD274", "CXCL8"])
    rg.io.write_h5mu(mdata, tmp_path / "c.h5mu")
    back = rg.io.read_h5mu(tmp_path / "c.h5mu")
    rna, rna2 = mdata.mod["rna"], back.mod["rna"]
    for key in ("normalize", "filter_genes", "map_gene_ids", "highly_variable", "gdc_star_counts"):
        assert key in rna2.uns
    pd.testing.assert_frame_equal(rna2.uns["map_gene_ids"]["dropped"], rna.uns["map_gene_ids"]["dropped"])
    pd.testing.assert_frame_equal(rna2.uns["gdc_star_counts"]["files"], rna.uns["gdc_star_counts"]["files"])
    assert rna2.uns["normalize"]["params"]["asympt_disp"] == rna.uns["normalize"]["params"]["asympt_disp"]
    np.testing.assert_array_equal(back.mod["mut"].layers["variant_class"], mdata.mod["mut"].layers["variant_class"])
    pd.testing.assert_frame_equal(
        back.mod["mut"].uns["variant_class_codes"], mdata.mod["mut"].uns["variant_class_codes"]
    )
    pd.testing.assert_frame_equal(back.uns["markers"]["cutpoints"], mdata.uns["markers"]["cutpoints"])
    pd.testing.assert_frame_equal(back.uns["mutation_status"]["counts"], mdata.uns["mutation_status"]["counts"])
    assert back.obs["IDH_status"].astype(str).tolist() == mdata.obs["IDH_status"].astype(str).tolist()
    assert back.obs["CD274_level"].astype(str).tolist() == mdata.obs["CD274_level"].astype(str).tolist()


def test_map_gene_ids_in_mudata(gdc):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        mdata = rg.io.build_mudata({"rna": gdc, "mut": dl.mutation_matrix(dl.example_file("maf"))})
    with pytest.warns(UserWarning, match="share a symbol"):
        rg.omics.map_gene_ids(mdata)
    assert mdata.mod["rna"].n_vars == 22 and "CD274" in mdata.mod["rna"].var_names
    assert mdata.n_vars == 22 + mdata.mod["mut"].n_vars
    assert "CD274" in mdata.var_names


def test_idh_default_follows_who_cns5_hotspots():
    maf = pd.DataFrame(
        {
            "Hugo_Symbol": ["IDH1", "IDH1", "IDH2", "TP53"],
            "Variant_Classification": ["Missense_Mutation"] * 4,
            "Tumor_Sample_Barcode": ["TCGA-AA-0001-01A", "TCGA-AA-0002-01A", "TCGA-AA-0003-01A", "TCGA-AA-0004-01A"],
            "HGVSp_Short": ["p.R132H", "p.V178I", "p.R172K", "p.R273H"],
        }
    )
    mut = dl.mutation_matrix(maf)  # hotspot columns by default
    assert mut.var_names.tolist() == ["IDH1", "IDH2", "TP53", "IDH1_R132", "IDH2_R172"]
    mdata = rg.io.build_mudata({"mut": mut})
    rg.omics.mutation_status(mdata)
    status = mdata.obs["IDH_status"].astype(str).to_dict()
    assert status == {
        "TCGA-AA-0001": "mutant",
        "TCGA-AA-0002": "wildtype",
        "TCGA-AA-0003": "mutant",
        "TCGA-AA-0004": "wildtype",
    }
    assert mdata.uns["mutation_status"]["params"]["rule"] == "WHO CNS5 (IDH1 R132 or IDH2 R172)"
    rg.omics.mutation_status(mdata, {"IDH_any": ["IDH1", "IDH2"]})
    assert mdata.obs.loc["TCGA-AA-0002", "IDH_any_status"] == "mutant"  # V178I counts only by gene
    assert dl.mutation_matrix(maf, hotspots=None).n_vars == 3
