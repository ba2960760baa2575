from __future__ import annotations

import re

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import data_loaders as dl
import radiogenomics as rg
from radiogenomics.errors import DataFormatError, MissingColumnError


def test_read_maf_types_and_header():
    maf = dl.read_maf(dl.example_file("maf"))
    assert len(maf) == 11
    assert maf.attrs["header"] == [
        "#version gdc-1.0.0",
        "#filedate 20220326",
        "#annotation.spec gdc-1.0.1-public",
        "#n.analyzed.samples 1",
    ]
    assert str(maf["Start_Position"].dtype) == "Int64"
    assert maf.loc[maf["Hugo_Symbol"] == "TP53", "HGVSp_Short"].tolist() == ["p.R273H", "p.X125_splice"]


def test_matrix_default_classes_and_layers():
    mut = dl.mutation_matrix(dl.example_file("maf"))
    # silent-only genes (TTN) and non-coding classes (CD274 3'UTR) are not counted
    assert mut.var_names.tolist() == ["ATRX", "EGFR", "IDH1", "IDH2", "PTEN", "TP53", "IDH1_R132", "IDH2_R172"]
    assert mut.obs_names.tolist()[3] == "TCGA-06-0126-01A-01D-1490-08"
    assert mut.X[3].sum() == 0  # sample with only a silent variant keeps an all-zero row
    codes = mut.uns["variant_class_codes"].set_index("variant_class")["code"]
    s = "TCGA-02-0003-01A-01D-1490-08"
    assert mut[s, "PTEN"].layers["variant_class"][0, 0] == codes["Frame_Shift_Del"]
    assert mut[s, "PTEN"].layers["n_mutations"][0, 0] == 1  # the silent PTEN variant is not counted
    assert mut.obs.loc[s, "n_mutations"] == 2
    assert set(mut.uns["maf"]["Variant_Classification"]) <= set(dl.NONSILENT_CLASSES)


def test_classes_genes_samples_arguments():
    mut = dl.mutation_matrix(
        dl.example_file("maf"), genes=["PTEN", "KRAS"], classes=["Silent"], samples=["TCGA-99-9999-01A-01D-0000-08"]
    )
    assert mut.var_names.tolist() == ["PTEN", "KRAS"]
    assert mut.X[:, 0].sum() == 1 and mut.X[:, 1].sum() == 0
    assert "TCGA-99-9999-01A-01D-0000-08" in mut.obs_names


def test_idh_status_from_maf_matches_hotspot_rule():
    maf = dl.read_maf(dl.example_file("maf"))
    mut = dl.mutation_matrix(maf, hotspots=dl.IDH_HOTSPOTS)
    with pytest.warns(UserWarning, match="build_mudata dropped"):
        mdata = rg.io.build_mudata(
            {
                "mut": mut,
                "rna": dl.read_gdc_star_counts(
                    dl.example_file("gdc_star_counts"), sample_sheet=dl.example_file("gdc_sample_sheet")
                ),
            }
        )
    rg.omics.mutation_status(mdata, {"IDH": ["IDH1_R132", "IDH2_R172"], "IDH_any": ["IDH1", "IDH2"]})
    # the rule, written out: IDH1 p.R132* or IDH2 p.R172* (not synonymous) in a non-silent class
    rule = maf["HGVSp_Short"].fillna("").map(lambda s: bool(re.match(r"^p\.R(132|172)(?!\d)(?!=)", s)))
    rule &= maf["Hugo_Symbol"].isin(["IDH1", "IDH2"]) & maf["Variant_Classification"].isin(dl.NONSILENT_CLASSES)
    hot_patients = set(maf.loc[rule, "Tumor_Sample_Barcode"].str[:12])
    has_mut = mdata.obs["has_mut"]
    expected = pd.Series(np.where(mdata.obs_names.isin(hot_patients), "mutant", "wildtype"), index=mdata.obs_names)[
        has_mut
    ]
    assert mdata.obs.loc[has_mut, "IDH_status"].astype(str).tolist() == expected.tolist()
    assert sorted(hot_patients) == ["TCGA-02-0001", "TCGA-06-0125"]
    # IDH1 G97D is a mutation of the gene but not the hotspot
    assert mdata.obs.loc["TCGA-DU-7309", ["IDH_status", "IDH_any_status"]].tolist() == ["wildtype", "mutant"]
    counts = mdata.uns["mutation_status"]["counts"].set_index("group")
    assert counts.loc["IDH", ["mutant", "wildtype"]].tolist() == [2, 3]


def test_missing_barcode_column(tmp_path):
    text = dl.example_file("maf").read_text().replace("Tumor_Sample_Barcode", "Tumor_Sample", 1)
    bad = tmp_path / "bad.maf"
    bad.write_text(text)
    with pytest.raises(MissingColumnError, match=r"bad.maf', line 5: required column\(s\) \['Tumor_Sample_Barcode'\]"):
        dl.read_maf(bad)
    with pytest.raises(MissingColumnError, match="Tumor_Sample_Barcode"):
        dl.mutation_matrix(pd.DataFrame({"Hugo_Symbol": ["A"], "Variant_Classification": ["Silent"]}))


def test_empty_barcode_and_bad_position(tmp_path):
    lines = dl.example_file("maf").read_text().split("\n")
    bad = tmp_path / "bad.maf"
    bad.write_text("\n".join([*lines[:7], lines[7].replace("TCGA-02-0001-01C-01D-0182-01", "", 1), *lines[8:]]))
    with pytest.raises(DataFormatError, match=r"line 8, column 'Tumor_Sample_Barcode': value is empty"):
        dl.read_maf(bad)
    bad.write_text("\n".join([*lines[:5], lines[5].replace("208248389", "2O8248389"), *lines[6:]]))
    with pytest.raises(DataFormatError, match=r"line 6, column 'Start_Position': value '2O8248389'"):
        dl.read_maf(bad)


def test_unknown_class_warns_and_empty_file(tmp_path):
    bad = tmp_path / "bad.maf"
    bad.write_text(dl.example_file("maf").read_text().replace("Nonsense_Mutation", "Nonsense", 1))
    with pytest.warns(UserWarning, match=r"unknown Variant_Classification values \['Nonsense'\]"):
        dl.read_maf(bad)
    empty = tmp_path / "empty.maf"
    empty.write_text("")
    with pytest.raises(DataFormatError, match="empty"):
        dl.read_maf(empty)
    only_header = tmp_path / "header.maf"
    only_header.write_text("#version gdc-1.0.0\n")
    with pytest.raises(DataFormatError, match="no header line after 1 comment lines"):
        dl.read_maf(only_header)


def test_h5ad_round_trip(tmp_path):
    mut = dl.mutation_matrix(dl.example_file("maf"), hotspots=dl.IDH_HOTSPOTS)
    mut.write_h5ad(tmp_path / "mut.h5ad")
    back = ad.read_h5ad(tmp_path / "mut.h5ad")
    np.testing.assert_array_equal(back.layers["variant_class"], mut.layers["variant_class"])
    pd.testing.assert_frame_equal(back.uns["maf"], mut.uns["maf"], check_dtype=False)
