from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import data_loaders as dl
import radiogenomics as rg
from radiogenomics.errors import DataFormatError, MissingColumnError


def test_patient_file_survival_columns():
    clin = dl.read_cbioportal_clinical(dl.example_file("cbioportal_clinical_patient"))
    assert clin.index.tolist()[:2] == ["TCGA-02-0001", "TCGA-02-0003"]
    assert str(clin["os_event"].dtype) == "boolean"
    assert clin["os_event"].tolist() == [True, True, False, False, True]
    assert clin["pfs_event"].isna().tolist() == [False, False, False, False, True]
    assert clin["dss_event"].tolist()[:3] == [True, True, False]
    np.testing.assert_allclose(clin["os_months"].to_numpy()[:4], [11.2, 4.7, 36.1, 52.0])
    assert np.isnan(clin.loc["TCGA-06-0126", "os_months"])
    assert np.isnan(clin.loc["TCGA-06-0126", "AGE"])  # [Not Available]
    assert clin["AGE"].dtype == np.float64


def test_sample_file_indexed_by_sample_and_pairs():
    samples = dl.read_cbioportal_clinical(dl.example_file("cbioportal_clinical_sample"))
    assert samples.index[0] == "TCGA-02-0001-01"
    assert samples["TMB_NONSYNONYMOUS"].dtype == np.float64
    patients = dl.read_cbioportal_clinical(dl.example_file("cbioportal_clinical_patient"))
    expr = dl.read_cbioportal_expression(dl.example_file("cbioportal_expression"))  # warns, see below
    mdata = rg.io.build_mudata({"rna": expr}, clinical=patients)
    assert mdata.n_obs == 5
    assert mdata.obs.loc["TCGA-02-0001", "os_event"]


def test_survival_event_words():
    assert [dl.survival_event(v) for v in ["1:Recurred/Progressed", "0:DiseaseFree", "DECEASED", "LIVING", "??"]] == [
        True,
        False,
        True,
        False,
        None,
    ]


def test_unknown_status_names_line_and_column(tmp_path):
    src = dl.example_file("cbioportal_clinical_patient").read_text()
    bad = tmp_path / "data_clinical_patient.txt"
    bad.write_text(src.replace("0:LIVING", "maybe", 1))
    with pytest.raises(DataFormatError, match=r"line 8, column 'OS_STATUS': status 'maybe'"):
        dl.read_cbioportal_clinical(bad)


def test_non_numeric_number_column(tmp_path):
    src = dl.example_file("cbioportal_clinical_patient").read_text()
    bad = tmp_path / "p.txt"
    bad.write_text(src.replace("\t44\t", "\tforty\t", 1))
    with pytest.raises(DataFormatError, match=r"line 6, column 'AGE': value 'forty' is not a number"):
        dl.read_cbioportal_clinical(bad)


def test_negative_months(tmp_path):
    src = dl.example_file("cbioportal_clinical_patient").read_text()
    bad = tmp_path / "p.txt"
    bad.write_text(src.replace("\t4.7\t", "\t-4.7\t", 1))
    with pytest.raises(DataFormatError, match=r"line 7, column 'OS_MONTHS': negative value"):
        dl.read_cbioportal_clinical(bad)


def test_missing_patient_id_and_wrong_delimiter(tmp_path):
    src = dl.example_file("cbioportal_clinical_patient").read_text()
    bad = tmp_path / "p.txt"
    bad.write_text(src.replace("PATIENT_ID\t", "PATIENT\t", 1))
    with pytest.raises(MissingColumnError, match=r"line 5: required column\(s\) \['PATIENT_ID'\]"):
        dl.read_cbioportal_clinical(bad)
    bad.write_text(src.replace("\t", ","))
    with pytest.raises(DataFormatError, match="expected tab-separated columns"):
        dl.read_cbioportal_clinical(bad)


def test_duplicated_patient(tmp_path):
    lines = dl.example_file("cbioportal_clinical_patient").read_text().split("\n")
    bad = tmp_path / "p.txt"
    bad.write_text("\n".join([*lines[:6], lines[5], *lines[6:]]))
    with pytest.raises(DataFormatError, match=r"duplicated PATIENT_ID 'TCGA-02-0001' on lines \[6, 7\]"):
        dl.read_cbioportal_clinical(bad)


def test_crlf_and_empty(tmp_path):
    src = dl.example_file("cbioportal_clinical_patient").read_bytes()
    crlf = tmp_path / "crlf.txt"
    crlf.write_bytes(src.replace(b"\n", b"\r\n"))
    pd.testing.assert_frame_equal(
        dl.read_cbioportal_clinical(crlf), dl.read_cbioportal_clinical(dl.example_file("cbioportal_clinical_patient"))
    )
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(DataFormatError, match="empty"):
        dl.read_cbioportal_clinical(empty)


def test_expression_duplicate_symbols_warn_and_values():
    with pytest.warns(UserWarning, match="2 rows share a gene symbol"):
        expr = dl.read_cbioportal_expression(dl.example_file("cbioportal_expression"))
    table = pd.read_csv(dl.example_file("cbioportal_expression"), sep="\t")
    np.testing.assert_allclose(expr[:, "CD274"].X.ravel(), table.iloc[0, 2:].to_numpy(dtype=float))
    assert expr.var.loc["100130426", "hugo_symbol"] == ""


def test_expression_bad_inputs(tmp_path):
    src = dl.example_file("cbioportal_expression").read_text()
    lines = src.split("\n")
    dup = tmp_path / "dup.txt"
    dup.write_text(src.replace("TCGA-02-0003-01", "TCGA-02-0001-01", 1))
    with pytest.raises(DataFormatError, match="duplicated sample column 'TCGA-02-0001-01'"):
        dl.read_cbioportal_expression(dup)
    text = tmp_path / "text.txt"
    fields = lines[1].split("\t")
    fields[2] = "high"
    text.write_text("\n".join([lines[0], "\t".join(fields), *lines[2:]]))
    with pytest.raises(DataFormatError, match=r"line 2, column 'TCGA-02-0001-01': value 'high' is not a number"):
        dl.read_cbioportal_expression(text)


pytestmark = pytest.mark.filterwarnings("ignore:cBioPortal expression file .* rows share a gene symbol:UserWarning")
