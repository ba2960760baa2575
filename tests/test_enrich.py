from __future__ import annotations

from pathlib import Path

import anndata as ad
import mudata as md
import numpy as np
import pandas as pd
import pytest
from scipy.stats import hypergeom
from statsmodels.stats.multitest import multipletests

import radiogenomics as rg
from radiogenomics.enrich._null import enrichment_scores
from radiogenomics.errors import DataFormatError

DATA = Path(__file__).parent / "data"
EDB = DATA / "edb"
LEUKEMIA = DATA / "leukemia_collapsed_by_symbol_mean.csv.gz"


def _log_layer(mdata):
    x = mdata["rna"].X
    mdata["rna"].layers["log"] = np.log1p(x / x.sum(axis=1, keepdims=True) * 1e6)
    return mdata


def _planted_sets(mdata):
    truth = mdata.uns["truth"]["gene_sets"]
    return {t: g["gene"].tolist() for t, g in truth.groupby("term")}


def _planted_feature(mdata, factor="F1"):
    feats = mdata.uns["truth"]["radiomic_features"]
    return feats.loc[feats["factor"] == factor, "feature"].iloc[0]


def _edb_ranking():
    rnk = pd.read_csv(EDB / "gsea_data.gsea_data.rnk", sep="\t", header=None, index_col=0).iloc[:, 0]
    rnk.index = rnk.index.astype(str)
    return rnk.rename("edb")


def _frame_container(frame: pd.DataFrame) -> md.MuData:
    """Samples x genes frame as a MuData with one 'rna' modality."""
    adata = ad.AnnData(
        frame.to_numpy(dtype=float), obs=pd.DataFrame(index=frame.index), var=pd.DataFrame(index=frame.columns)
    )
    return md.MuData({"rna": adata})


# --- gene sets -------------------------------------------------------------------------------


def test_hallmark_bundled_and_dict():
    sets = rg.enrich.gene_sets("hallmark")
    assert len(sets) == 50
    assert len(sets["HALLMARK_HYPOXIA"]) == 200
    assert "VEGFA" in sets["HALLMARK_HYPOXIA"]
    assert rg.enrich.gene_sets({"a/b": ["X", "Y", "X"]}) == {"a_b": ["X", "Y"]}
    edb = rg.enrich.read_gmt(EDB / "gene_sets.gmt")
    assert len(edb) == 7
    assert len(edb["OCT4 KD-SPECIFIC"]) == 60


def test_bad_gmt(tmp_path):
    empty = tmp_path / "empty.gmt"
    empty.write_text("\n# nothing\n")
    with pytest.raises(DataFormatError, match="holds no gene sets"):
        rg.enrich.read_gmt(empty)
    spaces = tmp_path / "spaces.gmt"
    spaces.write_text("SET1 desc GENE1 GENE2\n")
    with pytest.raises(DataFormatError, match=r"line 1.*tab-separated"):
        rg.enrich.read_gmt(spaces)
    nogenes = tmp_path / "nogenes.gmt"
    nogenes.write_text("SET1\tdesc\t\t\n")
    with pytest.raises(DataFormatError, match="no genes"):
        rg.enrich.read_gmt(nogenes)
    with pytest.raises(FileNotFoundError, match="Unknown gene-set collection"):
        rg.enrich.gene_sets("kegg_not_shipped")


# --- GSEA against the GSEA-desktop reference -----------------------------------------------------


def test_gsea_matches_gsea_desktop():
    rnk = _edb_ranking()
    data = ad.AnnData(np.zeros((2, len(rnk)), dtype=np.float32), var=pd.DataFrame(index=rnk.index))
    rg.enrich.gsea(data, rnk, gene_sets=EDB / "gene_sets.gmt", n_permutations=200, seed=1)
    res = data.uns["gsea"]["results"].set_index("term")
    ref = pd.read_csv(EDB / "gsea_desktop_reference_from_results_edb.csv", index_col=0)
    assert sorted(res.index) == sorted(ref.index)
    np.testing.assert_allclose(res.loc[ref.index, "es"], ref["ES"], atol=1e-4)
    assert (res.loc[ref.index, "overlap"] == ref["n_hits"]).all()
    # NES and p depend on the permutations: only the sign and the strong hits agree.
    assert (np.sign(res.loc[ref.index, "nes"]) == np.sign(ref["NES"])).all()
    strong = ref.index[ref["FDR_q"] < 0.01]
    assert (res.loc[strong, "padj"] < 0.05).all()
    # The vectorised ES used for the patient-permutation null agrees with gseapy.
    genes = list(rnk.index)
    edb_sets = rg.enrich.read_gmt(EDB / "gene_sets.gmt")
    es = enrichment_scores(rnk.to_numpy()[None, :], genes, edb_sets)[0]
    np.testing.assert_allclose(es, res.loc[list(edb_sets), "es"], atol=1e-10)
    # The stored ranking + gene set give back the running score, its ES and GSEA-desktop's hit positions.
    stored = data.uns["gsea"]
    for term in ref.index:
        genes = stored["gene_sets"].query("term == @term")["gene"]
        curve = rg.enrich.running_score(stored["rankings"]["edb"], genes)
        assert curve.attrs["es"] == pytest.approx(res.loc[term, "es"], abs=1e-10)
        hits = curve.index[curve["hit"]].tolist()
        assert hits == [int(i) for i in ref.loc[term, "hit_indices"].split()]


# --- GSEA on planted signal ----------------------------------------------------------------------


def test_gsea_planted_feature_and_factor(mdata):
    _log_layer(mdata)
    sets = _planted_sets(mdata)
    mdata.obs["F1_truth"] = mdata.uns["truth"]["factors"]["F1"].reindex(mdata.obs_names).to_numpy()
    feature = f"radiomics:{_planted_feature(mdata)}"
    rg.enrich.gsea(mdata, [feature, "F1_truth"], layer="log", gene_sets=sets, n_permutations=300)
    res = mdata.uns["gsea"]["results"]
    for ranking in (feature, "F1_truth"):
        top = res[res["ranking"] == ranking].iloc[0]
        assert top["term"] == "PLANTED_F1"
        assert top["padj"] < 0.05
        assert top["nes"] > 0
        assert top["overlap"] == top["set_size"] == 25
        assert isinstance(top["leading_edge"], str)
        assert set(top["leading_edge"].split(";")) <= set(sets["PLANTED_F1"])
    assert mdata.uns["gsea"]["params"]["ranking"] == [feature, "F1_truth"]


def test_gsea_mofa_factor_weights(mdata):
    _log_layer(mdata)
    z = mdata.uns["truth"]["factors"].reindex(mdata["rna"].obs_names).to_numpy()
    expr = mdata["rna"].layers["log"]
    weights = np.linalg.lstsq(z - z.mean(0), expr - expr.mean(0), rcond=None)[0].T  # genes x factors
    mdata["rna"].varm["LFs"] = weights
    mdata.obsm["X_mofa"] = mdata.uns["truth"]["factors"].reindex(mdata.obs_names).to_numpy()
    rg.enrich.gsea(mdata, ["mofa:1", "mofa:2"], gene_sets=_planted_sets(mdata), n_permutations=300)
    res = mdata.uns["gsea"]["results"]
    for k in (1, 2):
        top = res[res["ranking"] == f"mofa:{k}"].iloc[0]
        assert (top["term"], top["padj"] < 0.05) == (f"PLANTED_F{k}", True)
    with pytest.raises(KeyError, match=r"mofa:1\.\.mofa:3"):
        rg.enrich.gsea(mdata, "mofa:7", gene_sets=_planted_sets(mdata), n_permutations=10)


def test_gsea_batched_equals_one_call_per_ranking(mdata):
    _log_layer(mdata)
    feats = mdata.uns["truth"]["radiomic_features"]["feature"].iloc[[0, 10, 20]]
    keys = [f"radiomics:{f}" for f in feats]
    sets = _planted_sets(mdata)
    rg.enrich.gsea(mdata, keys, layer="log", gene_sets=sets, n_permutations=100, batch=True, key_added="batched")
    rg.enrich.gsea(mdata, keys, layer="log", gene_sets=sets, n_permutations=100, key_added="single")
    # With the patient null every number is ours and identical; ES and leading edges come from gseapy.
    pd.testing.assert_frame_equal(mdata.uns["batched"]["results"], mdata.uns["single"]["results"])
    rg.enrich.gsea(
        mdata, keys, layer="log", gene_sets=sets, n_permutations=100, null="genes", batch=True, key_added="bg"
    )
    rg.enrich.gsea(mdata, keys, layer="log", gene_sets=sets, n_permutations=100, null="genes", key_added="sg")
    cols = ["ranking", "term", "es", "leading_edge"]
    pd.testing.assert_frame_equal(
        mdata.uns["bg"]["results"].sort_values(cols[:2])[cols].reset_index(drop=True),
        mdata.uns["sg"]["results"].sort_values(cols[:2])[cols].reset_index(drop=True),
    )
    # each factor's radiomic block points to its own planted set
    res = mdata.uns["batched"]["results"]
    tops = res.groupby("ranking", sort=False).head(1)
    assert tops["term"].tolist() == ["PLANTED_F1", "PLANTED_F2", "PLANTED_F3"]


def test_gsea_null_rankings_find_nothing(mdata):
    sets = _planted_sets(mdata)
    genes = mdata["rna"].var_names
    rng = np.random.default_rng(3)
    rankings = [pd.Series(rng.normal(size=len(genes)), index=genes, name=f"null{i}") for i in range(3)]
    rg.enrich.gsea(mdata, rankings, gene_sets=sets, n_permutations=300)
    res = mdata.uns["gsea"]["results"]
    assert len(res) == 9
    assert (res["null"] == "genes").all()
    assert (res["padj"] > 0.05).all()
    # Random patient-level features: the patient-permutation null finds nothing ...
    _log_layer(mdata)
    keys = []
    for i in range(8):
        mdata.obs[f"noise{i}"] = rng.normal(size=mdata.n_obs)
        keys.append(f"noise{i}")
    rg.enrich.gsea(mdata, keys, layer="log", gene_sets=sets, n_permutations=200, key_added="noise")
    res = mdata.uns["noise"]["results"]
    assert (res["null"] == "patients").all()
    assert (res["padj"] > 0.05).all()
    # ... while gene-set permutation calls co-expressed sets significant for noise.
    rg.enrich.gsea(mdata, keys, layer="log", gene_sets=sets, n_permutations=200, null="genes", key_added="noise_g")
    assert (mdata.uns["noise_g"]["results"]["padj"] < 0.05).sum() >= 4
    with pytest.raises(ValueError, match="null='patients' needs rankings"):
        rg.enrich.gsea(mdata, rankings[0], gene_sets=sets, null="patients")


def test_gsea_copy_and_round_trip(mdata, tmp_path):
    _log_layer(mdata)
    feature = f"radiomics:{_planted_feature(mdata)}"
    out = rg.enrich.gsea(mdata, feature, layer="log", gene_sets=_planted_sets(mdata), n_permutations=50, copy=True)
    assert "gsea" not in mdata.uns
    rg.enrich.pathway_scores(out, layer="log", gene_sets=_planted_sets(mdata), method="zscore", min_size=5)
    path = tmp_path / "enrich.h5mu"
    rg.io.write_h5mu(out, path)
    back = rg.io.read_h5mu(path)
    for table in ("results", "rankings", "gene_sets", "overlap"):
        pd.testing.assert_frame_equal(
            back.uns["gsea"][table], out.uns["gsea"][table], check_dtype=False, check_index_type=False
        )
    np.testing.assert_allclose(back["pathways"].X, out["pathways"].X)
    assert back["pathways"].uns["pathway_scores"]["params"]["method"] == "zscore"
    ax = rg.pl.gsea_running_score(back, feature, "PLANTED_F1")
    assert ax.get_title().startswith("PLANTED_F1: ES = ")
    assert rg.pl.enrichment_dotplot(back).get_xlabel() == "ranking"


# --- bad input -----------------------------------------------------------------------------------


def test_ranking_missing_ties_and_inf(mdata):
    genes = mdata["rna"].var_names
    sets = _planted_sets(mdata)
    values = pd.Series(np.linspace(-1, 1, len(genes)), index=genes, name="lin")
    with_nan = values.copy()
    with_nan.iloc[:5] = np.nan
    with pytest.warns(UserWarning, match="5 of 500 genes have missing values"):
        rg.enrich.gsea(mdata, with_nan, gene_sets=sets, n_permutations=20)
    assert mdata.uns["gsea"]["rankings"]["lin"].notna().sum() == 495
    with pytest.warns(UserWarning, match="tied values"):
        rg.enrich.gsea(mdata, values.round(1), gene_sets=sets, n_permutations=20)
    with_inf = values.copy()
    with_inf.iloc[0] = np.inf
    with pytest.raises(DataFormatError, match="infinite"):
        rg.enrich.gsea(mdata, with_inf, gene_sets=sets, n_permutations=20)
    with pytest.raises(ValueError, match="fewer than 2 distinct"):
        rg.enrich.gsea(mdata, pd.Series(1.0, index=genes, name="flat"), gene_sets=sets, n_permutations=20)


def test_no_overlap_and_low_overlap(mdata):
    _log_layer(mdata)
    feature = f"radiomics:{_planted_feature(mdata)}"
    with pytest.raises(ValueError, match="No gene set has between min_size"):
        rg.enrich.gsea(mdata, feature, layer="log", gene_sets="hallmark", n_permutations=20)
    sets = _planted_sets(mdata)
    sets["PARTLY_ABSENT"] = sets["PLANTED_F2"][:16] + [f"NOTAGENE{i}" for i in range(40)]
    with pytest.warns(UserWarning, match="Low gene-set overlap"):
        rg.enrich.gsea(mdata, feature, layer="log", gene_sets=sets, n_permutations=20, min_size=20)
    overlap = mdata.uns["gsea"]["overlap"].set_index("term")
    assert overlap.loc["PARTLY_ABSENT", "overlap"] == 16
    assert not overlap.loc["PARTLY_ABSENT", "tested"]
    with pytest.warns(UserWarning, match="looks like raw counts"):
        rg.enrich.gsea(mdata, feature, gene_sets=_planted_sets(mdata), n_permutations=20)


def test_ensembl_ids_are_mapped_or_rejected(mdata):
    _log_layer(mdata)
    rna = mdata["rna"]
    symbols = rna.var_names.copy()
    rna.var["gene_name"] = symbols.to_numpy()
    rna.var_names = [f"ENSG{i:011d}.{i % 7 + 1}" for i in range(rna.n_vars)]
    sets = _planted_sets(mdata)
    feature = f"radiomics:{_planted_feature(mdata)}"
    rg.enrich.gsea(mdata, feature, layer="log", gene_sets=sets, n_permutations=100)
    assert mdata.uns["gsea"]["results"]["term"].iloc[0] == "PLANTED_F1"
    assert "CD274" in mdata.uns["gsea"]["rankings"].index
    rg.enrich.pathway_scores(mdata, layer="log", gene_sets=sets, method="zscore")
    assert mdata["pathways"].var["overlap"].tolist() == [25, 25, 25]
    del rna.var["gene_name"]
    with pytest.raises(DataFormatError, match=r"Ensembl IDs.*var\[.gene_name.\]"):
        rg.enrich.gsea(mdata, feature, layer="log", gene_sets=sets, n_permutations=20)
    ensembl_sets = {"E": list(rna.var_names[4:30].str.split(".").str[0])}
    rna.var_names = symbols
    with pytest.raises(DataFormatError, match="gene sets use Ensembl IDs"):
        rg.enrich.gsea(mdata, feature, layer="log", gene_sets=ensembl_sets, n_permutations=20)


# --- ORA -----------------------------------------------------------------------------------------


def test_ora_matches_scipy_hypergeom():
    sets = rg.enrich.gene_sets("hallmark")
    background = sorted({g for s in sets.values() for g in s})
    query = sets["HALLMARK_HYPOXIA"][:25] + sets["HALLMARK_APOPTOSIS"][:5] + background[:30]
    res = rg.enrich.ora(query, "hallmark", background=background).set_index("term")
    n_bg, n_q = len(background), len(set(query))
    assert (res["n_background"] == n_bg).all()
    assert (res["n_genes"] == n_q).all()
    k, size = res["overlap"].to_numpy(), res["set_size"].to_numpy()
    expected = hypergeom.sf(k - 1, n_bg, size, n_q)
    np.testing.assert_allclose(res["p"], expected, rtol=1e-6)
    np.testing.assert_allclose(res["padj"], multipletests(expected, method="fdr_bh")[1], rtol=1e-6)
    assert res.index[0] == "HALLMARK_HYPOXIA"
    assert len(res) == 50
    with pytest.warns(UserWarning, match="not in the background"):
        rg.enrich.ora(["VEGFA", "NOT_A_GENE"], "hallmark", background=background)
    with pytest.raises(ValueError, match="None of the query genes"):
        rg.enrich.ora(["NOT_A_GENE"], "hallmark", background=background)


# --- pathway scores ------------------------------------------------------------------------------


def test_ssgsea_matches_published_gseapy_output():
    # Golub leukemia (collapsed by symbol, mean), samples ALL_1 and ALL_2 only: ssGSEA ES of a sample
    # depends on that sample alone (within-sample ranks).
    frame = pd.read_csv(DATA / "leukemia_all1_all2_by_symbol.csv.gz", index_col=0).T
    mdata = _frame_container(frame)
    rg.enrich.pathway_scores(mdata, method="ssgsea")
    es = mdata["pathways"].to_df(layer="es")
    assert es.shape == (2, 50)
    assert es.loc["ALL_2", "HALLMARK_MYC_TARGETS_V1"] == pytest.approx(3393.823575, abs=1e-5)


def test_gsva_and_ssgsea_nes_match_published_gseapy_output():
    # GSVA and ssGSEA's NES compare samples, so they need all 48 samples.
    mdata = _frame_container(pd.read_csv(LEUKEMIA, index_col=0).T)
    rg.enrich.pathway_scores(mdata, method="gsva")
    assert mdata["pathways"].to_df().loc["ALL_1", "HALLMARK_ADIPOGENESIS"] == pytest.approx(-0.213310, abs=1e-6)
    rg.enrich.pathway_scores(mdata, method="ssgsea", key_added="ss", chunk_size=10)
    assert mdata["ss"].to_df().loc["ALL_2", "HALLMARK_MYC_TARGETS_V1"] == pytest.approx(0.707975, abs=1e-6)
    assert mdata["ss"].to_df(layer="es").loc["ALL_2", "HALLMARK_MYC_TARGETS_V1"] == pytest.approx(3393.823575, abs=1e-5)


def test_zscore_scores_by_hand():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(8, 6)), index=[f"p{i}" for i in range(8)], columns=list("ABCDEF"))
    mdata = _frame_container(frame)
    rg.enrich.pathway_scores(mdata, gene_sets={"S": ["A", "B", "C"], "T": ["D", "E"]}, method="zscore", min_size=2)
    z = (frame - frame.mean()) / frame.std(ddof=1)
    np.testing.assert_allclose(mdata["pathways"].to_df()["S"], z[["A", "B", "C"]].sum(axis=1) / np.sqrt(3))
    np.testing.assert_allclose(mdata["pathways"].to_df()["T"], z[["D", "E"]].sum(axis=1) / np.sqrt(2))


def test_ssgsea_chunks_give_the_same_scores(mdata):
    _log_layer(mdata)
    sets = _planted_sets(mdata)
    rg.enrich.pathway_scores(mdata, layer="log", gene_sets=sets, chunk_size=None, key_added="whole")
    rg.enrich.pathway_scores(mdata, layer="log", gene_sets=sets, chunk_size=17, key_added="chunks")
    np.testing.assert_allclose(mdata["chunks"].X, mdata["whole"].X, rtol=1e-12)
    np.testing.assert_allclose(mdata["chunks"].layers["es"], mdata["whole"].layers["es"], rtol=1e-12)


@pytest.mark.parametrize("method", ["ssgsea", "gsva", "zscore"])
def test_pathway_scores_track_planted_factor(mdata, method):
    _log_layer(mdata)
    rg.enrich.pathway_scores(mdata, layer="log", gene_sets=_planted_sets(mdata), method=method)
    scores = mdata["pathways"].to_df()
    factors = mdata.uns["truth"]["factors"].reindex(scores.index)
    for k in (1, 2, 3):
        assert np.corrcoef(scores[f"PLANTED_F{k}"], factors[f"F{k}"])[0, 1] > 0.8
    assert "pathways" in mdata.mod
    assert mdata["pathways"].n_obs == mdata["rna"].n_obs


def test_pathways_feed_association_map_and_heatmap(mdata):
    _log_layer(mdata)
    rg.enrich.pathway_scores(mdata, layer="log", gene_sets=_planted_sets(mdata), method="zscore")
    rg.integrate.associate(mdata, x="radiomics", y="pathways")
    res = rg.get.associations(mdata)
    hit = res[(res["x_feature"] == _planted_feature(mdata)) & (res["y_feature"] == "PLANTED_F1")]
    assert hit["padj"].iloc[0] < 1e-6
    ax = rg.pl.pathway_heatmap(mdata, top=12)
    assert ax.get_ylabel() == "radiomic feature"
    assert len(ax.get_yticklabels()) == 12


def test_gsea_patient_null_on_a_dask_cluster_equals_local(mdata, dask_client):
    _log_layer(mdata)
    sets = _planted_sets(mdata)
    keys = [f"radiomics:{_planted_feature(mdata, f)}" for f in ("F1", "F2")]
    local = rg.enrich.gsea(mdata, keys, layer="log", gene_sets=sets, n_permutations=50, copy=True)
    dasked = rg.enrich.gsea(mdata, keys, layer="log", gene_sets=sets, n_permutations=50, client=dask_client, copy=True)
    pd.testing.assert_frame_equal(dasked.uns["gsea"]["results"], local.uns["gsea"]["results"])
    assert (local.uns["gsea"]["results"]["null"] == "patients").all()
