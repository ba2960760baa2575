from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import data_loaders as dl
import radiogenomics as rg
from radiogenomics.errors import DataFormatError, MissingColumnError


def _load(folder):
    return dl.read_gdc_star_counts(folder / "gdc_star_counts", sample_sheet=folder / "gdc_sample_sheet.tsv")


def _files(folder):
    return sorted((folder / "gdc_star_counts").rglob("*.tsv"))


def _file_of(folder, sample):
    sheet = pd.read_csv(folder / "gdc_sample_sheet.tsv", sep="\t")
    row = sheet[sheet["Sample ID"] == sample].iloc[0]
    return folder / "gdc_star_counts" / row["File ID"] / row["File Name"]


def test_example_layout_and_values(examples):
    rna = _load(examples)
    assert rna.shape == (5, 24)
    assert rna.obs_names.tolist() == sorted(rna.obs_names)
    assert not any(v.startswith("N_") for v in rna.var_names)
    assert rna.layers["counts"].dtype == np.int32
    np.testing.assert_array_equal(rna.X, rna.layers["counts"])
    raw = pd.read_csv(_file_of(examples, "TCGA-02-0003-01A"), sep="\t", skiprows=1)
    genes = raw.iloc[4:].set_index("gene_id")
    row = rna["TCGA-02-0003-01A"]
    np.testing.assert_array_equal(row.layers["counts"].ravel(), genes["unstranded"].to_numpy())
    np.testing.assert_allclose(row.layers["fpkm_uq"].ravel(), genes["fpkm_uq_unstranded"].to_numpy(), rtol=1e-6)
    assert rna.obs.loc["TCGA-02-0003-01A", "n_unmapped"] == float(raw.iloc[0]["unstranded"])
    assert rna.var.loc["ENSG00000169429.11", ["gene_name", "gene_type"]].tolist() == ["CXCL8", "protein_coding"]
    np.testing.assert_allclose(rna.layers["tpm"].sum(axis=1), 1e6, rtol=1e-4)
    assert rna.obs.loc["TCGA-06-0125-11A", "sample_type"] == "Solid Tissue Normal"
    assert rna.uns["gdc_star_counts"]["gene_model"] == "GENCODE v36"
    assert "stranded_first" not in rna.layers
    stranded = dl.read_gdc_star_counts(
        examples / "gdc_star_counts", sample_sheet=examples / "gdc_sample_sheet.tsv", stranded=True
    )
    np.testing.assert_array_equal(
        stranded.layers["stranded_first"] + stranded.layers["stranded_second"], stranded.layers["counts"]
    )


def test_pairs_samples_to_patients(examples):
    rna = _load(examples)
    with pytest.warns(UserWarning, match="build_mudata dropped 1 input IDs"):
        mdata = rg.io.build_mudata({"rna": rna})
    assert mdata.obs_names.tolist() == ["TCGA-02-0001", "TCGA-02-0003", "TCGA-06-0125", "TCGA-DU-7309"]
    pairing = mdata.uns["pairing"].set_index("input_id")
    assert pairing.loc["TCGA-06-0125-11A", "status"] == "dropped"
    assert mdata.mod["rna"].obs.loc["TCGA-06-0125", "sample_id"] == "TCGA-06-0125-01A"


def test_list_of_files_and_dataframe_sheet(examples):
    sheet = dl.read_gdc_sample_sheet(examples / "gdc_sample_sheet.tsv")
    files = [_file_of(examples, "TCGA-02-0001-01C"), _file_of(examples, "TCGA-DU-7309-01A")]
    rna = dl.read_gdc_star_counts(files, sample_sheet=sheet)
    assert rna.obs_names.tolist() == ["TCGA-02-0001-01C", "TCGA-DU-7309-01A"]


def test_crlf_file_reads_identically(examples, rewrite):
    before = _load(examples)
    path = _file_of(examples, "TCGA-02-0003-01A")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    after = _load(examples)
    np.testing.assert_array_equal(before.layers["counts"], after.layers["counts"])
    np.testing.assert_array_equal(before.layers["tpm"], after.layers["tpm"])


def test_wrong_delimiter(examples, rewrite):
    path = _file_of(examples, "TCGA-02-0003-01A")
    rewrite(path, lambda lines: [line.replace("\t", ",") for line in lines])
    with pytest.raises(DataFormatError, match=r"line 2: expected tab-separated columns .* commas"):
        _load(examples)


def test_missing_column(examples, rewrite):
    path = _file_of(examples, "TCGA-02-0003-01A")
    rewrite(path, lambda lines: [line.rsplit("\t", 1)[0] if i else line for i, line in enumerate(lines)])
    with pytest.raises(MissingColumnError, match=r"line 2: required column\(s\) \['fpkm_uq_unstranded'\]"):
        _load(examples)


def test_duplicated_gene(examples, rewrite):
    path = _file_of(examples, "TCGA-02-0001-01C")
    rewrite(path, lambda lines: [*lines[:7], lines[6], *lines[7:]])
    with pytest.raises(DataFormatError, match=r"duplicated gene_id 'ENSG00000000003.15' on lines \[7, 8\]"):
        _load(examples)


def test_non_numeric_count(examples, rewrite):
    path = _file_of(examples, "TCGA-02-0003-01A")
    rewrite(
        path, lambda lines: [*lines[:8], lines[8].replace("\tprotein_coding\t", "\tprotein_coding\tNA5", 1), *lines[9:]]
    )
    with pytest.raises(DataFormatError, match=r"line 9, column 'unstranded': value 'NA5\d*' is not a number"):
        _load(examples)


def test_negative_count(examples, rewrite):
    path = _file_of(examples, "TCGA-02-0003-01A")
    rewrite(
        path, lambda lines: [*lines[:9], lines[9].replace("\tprotein_coding\t", "\tprotein_coding\t-", 1), *lines[10:]]
    )
    with pytest.raises(DataFormatError, match=r"line 10, column 'unstranded': negative value"):
        _load(examples)


def test_empty_file(examples):
    _file_of(examples, "TCGA-02-0003-01A").write_text("")
    with pytest.raises(DataFormatError, match="is empty"):
        _load(examples)


def test_unlisted_file_and_duplicate_sample_warn(examples):
    sheet = pd.read_csv(examples / "gdc_sample_sheet.tsv", sep="\t")
    extra = sheet.iloc[[0]].assign(**{"File Name": "copy.rna_seq.augmented_star_gene_counts.tsv", "File ID": "copy"})
    src = _file_of(examples, sheet.iloc[0]["Sample ID"])
    (examples / "gdc_star_counts" / "copy").mkdir()
    (examples / "gdc_star_counts" / "copy" / extra.iloc[0]["File Name"]).write_bytes(src.read_bytes())
    orphan = examples / "gdc_star_counts" / "orphan" / "x.rna_seq.augmented_star_gene_counts.tsv"
    orphan.parent.mkdir()
    orphan.write_bytes(src.read_bytes())
    pd.concat([sheet, extra]).to_csv(examples / "gdc_sample_sheet.tsv", sep="\t", index=False)
    with pytest.warns(UserWarning, match="2 file\\(s\\) not loaded"):
        rna = _load(examples)
    assert rna.n_obs == 5
    files = rna.uns["gdc_star_counts"]["files"]
    assert sorted(files.loc[files["status"] == "skipped", "reason"]) == [
        "another file of the same sample was loaded",
        "not in the sample sheet",
    ]


def test_different_gene_models_error_and_reordered_rows_realign(examples, rewrite):
    path = _file_of(examples, "TCGA-02-0003-01A")
    before = _load(examples)
    rewrite(path, lambda lines: [*lines[:6], *reversed([x for x in lines[6:] if x]), ""])
    after = _load(examples)
    np.testing.assert_array_equal(before.layers["counts"], after.layers["counts"])
    rewrite(path, lambda lines: [*lines[:-3], ""])
    with pytest.raises(DataFormatError, match="different genes from the first file"):
        _load(examples)


def test_sample_sheet_missing_column(examples, rewrite):
    sheet = examples / "gdc_sample_sheet.tsv"
    rewrite(sheet, lambda lines: [line.replace("Sample ID", "Sample") for line in lines])
    with pytest.raises(
        MissingColumnError, match=r"gdc_sample_sheet.tsv', line 1: required column\(s\) \['Sample ID'\]"
    ):
        _load(examples)


def test_gzipped_files_match_their_sheet_rows(examples):
    import gzip

    before = _load(examples)
    path = _file_of(examples, "TCGA-02-0003-01A")
    with gzip.open(path.with_name(path.name + ".gz"), "wb") as handle:
        handle.write(path.read_bytes())
    path.unlink()
    after = _load(examples)
    np.testing.assert_array_equal(before.layers["counts"], after.layers["counts"])
