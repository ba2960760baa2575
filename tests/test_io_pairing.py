"""Pairing modalities per patient: rg.io.build_mudata edge cases."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

import radiogenomics as rg
from radiogenomics.errors import DataFormatError, PairingError, RadiogenomicsError


def _frame(ids, n_features=3, prefix="f", seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.normal(size=(len(ids), n_features)), index=ids, columns=[f"{prefix}{i}" for i in range(n_features)]
    )


def test_sample_and_aliquot_barcodes_map_to_patients():
    radiomics = _frame(["TCGA-02-0001", "TCGA-02-0003"])
    rna = _frame(["TCGA-02-0001-01A-01R-0177-01", " tcga-02-0003-01a-01r-0177-01 "], prefix="g")
    mdata = rg.io.build_mudata({"radiomics": radiomics, "rna": rna}, how="inner")
    assert mdata.obs_names.tolist() == ["TCGA-02-0001", "TCGA-02-0003"]
    assert mdata["rna"].obs["sample_id"].tolist() == ["TCGA-02-0001-01A-01R-0177-01", " tcga-02-0003-01a-01r-0177-01 "]
    np.testing.assert_allclose(mdata["rna"].X, rna.to_numpy())


def test_underscore_and_r_style_barcodes():
    ids = rg.io.normalize_ids(["TCGA_CS_4941", "TCGA.02.0001.01A", "tcga-hT-7686"])["patient_id"].tolist()
    assert ids == ["TCGA-CS-4941", "TCGA-02-0001", "TCGA-HT-7686"]


def test_duplicate_samples_keep_primary_then_lowest_vial():
    ids = [
        "TCGA-02-0001-02A-01R",
        "TCGA-02-0001-01B-01R",
        "TCGA-02-0001-11A-01R",
        "TCGA-02-0001-01A-02R",
        "TCGA-02-0001-01A-01R",
    ]
    rna = _frame(ids, prefix="g")
    rna.iloc[:, 0] = np.arange(len(ids))
    with pytest.warns(UserWarning, match="dropped 4 input IDs"):
        mdata = rg.io.build_mudata({"rna": rna, "radiomics": _frame(["TCGA-02-0001"])})
    assert mdata["rna"].obs["sample_id"].tolist() == ["TCGA-02-0001-01A-01R"]
    assert mdata["rna"].X[0, 0] == 4
    pairing = rg.get.pairing(mdata)
    dropped = pairing[(pairing["modality"] == "rna") & (pairing["status"] == "dropped")]
    assert sorted(dropped["input_id"]) == sorted(ids[:4])
    assert dropped["reason"].str.contains("other sample of patient").all()


def test_input_order_does_not_change_choice():
    ids = ["TCGA-02-0001-01B", "TCGA-02-0001-02A", "TCGA-02-0001-01A"]
    picks = []
    for order in (ids, ids[::-1]):
        with pytest.warns(UserWarning, match="rna: 2 other sample of patient"):
            mdata = rg.io.build_mudata({"rna": _frame(order), "x": _frame(["TCGA-02-0001"])})
        picks.append(mdata["rna"].obs["sample_id"].iloc[0])
    assert picks == ["TCGA-02-0001-01A", "TCGA-02-0001-01A"]


def test_duplicate_identical_ids_recorded():
    clinical = pd.DataFrame({"age": [50, 51, 60]}, index=["TCGA-02-0001", "TCGA-02-0001", "TCGA-02-0003"])
    with pytest.warns(UserWarning, match="clinical: 1 duplicate ID"):
        mdata = rg.io.build_mudata({"radiomics": _frame(["TCGA-02-0001", "TCGA-02-0003"])}, clinical)
    assert mdata.obs["age"].tolist() == [50, 60]


def test_transposed_matrix_is_explained():
    patients = ["TCGA-02-0001", "TCGA-02-0003", "TCGA-02-0006"]
    radiomics = _frame(patients)
    rna = _frame(patients, n_features=4, prefix="GENE").T  # genes as rows: a common mistake
    with pytest.raises(PairingError, match="looks transposed") as err:
        rg.io.build_mudata({"radiomics": radiomics, "rna": rna})
    assert "GENE0" in str(err.value) and "TCGA-02-0001" in str(err.value)
    assert isinstance(err.value, ValueError) and isinstance(err.value, RadiogenomicsError)


def test_disjoint_ids_show_examples_and_cause():
    radiomics = _frame(["R01-001", "R01-002"])
    clinical = pd.DataFrame({"age": [1, 2]}, index=["TCGA-02-0001", "TCGA-02-0003"])
    with pytest.raises(PairingError, match="different ID schemes") as err:
        rg.io.build_mudata({"radiomics": radiomics}, clinical)
    assert "'R01-001'" in str(err.value) and "'TCGA-02-0001'" in str(err.value)


def test_sample_barcodes_without_tcga_rule_suggest_it():
    radiomics = _frame(["TCGA-02-0001", "TCGA-02-0003"])
    rna = _frame(["TCGA-02-0001-01A", "TCGA-02-0003-01A"])
    with pytest.raises(PairingError, match="id_rule='tcga_patient'"):
        rg.io.build_mudata({"radiomics": radiomics, "rna": rna}, id_rule=None)
    assert rg.io.build_mudata({"radiomics": radiomics, "rna": rna}).n_obs == 2


def test_missing_and_non_string_ids():
    radiomics = _frame(["A1", "A2", "A3", "A4"])
    rna = pd.DataFrame({"g": [1.0, 2.0, 3.0, 4.0]}, index=pd.Index([1, 2, None, ""], dtype=object))
    mapping = {"1": "A1", "2": "A2"}
    with pytest.warns(UserWarning, match="rna: 2 missing or empty ID"):
        mdata = rg.io.build_mudata({"radiomics": radiomics, "rna": rna}, id_rule=lambda s: mapping.get(s, s))
    assert mdata["rna"].obs_names.tolist() == ["A1", "A2"]
    pairing = rg.get.pairing(mdata)
    assert len(pairing) == 8
    assert (pairing["reason"] == "missing or empty ID").sum() == 2


def test_numeric_ids_with_rule_none():
    a = pd.DataFrame({"x": [1.0, 2.0]}, index=[101, 102])
    b = pd.DataFrame({"y": [3.0, 4.0]}, index=["101", " 102"])
    mdata = rg.io.build_mudata({"a": a, "b": b}, id_rule=None, how="inner")
    assert mdata.obs_names.tolist() == ["101", "102"]


def test_patient_in_one_modality_outer_and_inner():
    radiomics = _frame(["TCGA-02-0001", "TCGA-02-0003", "TCGA-02-0006"])
    rna = _frame(["TCGA-02-0001-01A", "TCGA-02-0003-01A", "TCGA-02-0009-01A"], prefix="g")
    outer = rg.io.build_mudata({"radiomics": radiomics, "rna": rna}, how="outer")
    assert outer.n_obs == 4
    assert outer.obs.loc["TCGA-02-0006", "has_rna"] == np.False_
    assert outer.obs.loc["TCGA-02-0009", "has_radiomics"] == np.False_
    with pytest.warns(UserWarning, match="dropped 2 input IDs"):
        inner = rg.io.build_mudata({"radiomics": radiomics, "rna": rna}, how="inner")
    assert inner.obs_names.tolist() == ["TCGA-02-0001", "TCGA-02-0003"]
    reasons = rg.get.pairing(inner).set_index("input_id")["reason"]
    assert "lacks at least one modality" in reasons["TCGA-02-0006"]
    with pytest.warns(UserWarning, match="dropped 1 input IDs"):
        anchored = rg.io.build_mudata({"radiomics": radiomics, "rna": rna}, how="radiomics")
    assert anchored.obs_names.tolist() == radiomics.index.tolist()


def test_no_modality_is_a_typed_error():
    with pytest.raises(DataFormatError, match="needs at least one modality"):
        rg.io.build_mudata({}, None)


def test_inner_with_no_common_patient():
    a = _frame(["TCGA-02-0001", "TCGA-02-0003"])
    b = _frame(["TCGA-02-0006", "TCGA-02-0001"])
    c = _frame(["TCGA-02-0003", "TCGA-02-0006"])
    with pytest.raises(PairingError, match="No patient is present in every modality"):
        rg.io.build_mudata({"a": a, "b": b, "c": c}, how="inner")


def test_clinical_rows_never_add_patients_and_are_accounted():
    radiomics = _frame(["TCGA-02-0001", "TCGA-02-0003"])
    clinical = pd.DataFrame(
        {
            "os_months": [10.0, 20.0, 30.0],
            "os_event": [True, False, True],
            "1p/19q codeletion": ["codel", "non-codel", None],
        },
        index=["TCGA-02-0001", "TCGA-02-0003", "TCGA-02-0099"],
    )
    with pytest.warns(UserWarning, match="clinical: 1 not in cohort"):
        mdata = rg.io.build_mudata({"radiomics": radiomics}, clinical)
    assert mdata.n_obs == 2
    assert "1p_19q codeletion" in mdata.obs.columns  # '/' cannot be stored in h5mu
    assert mdata.uns["radiogenomics"]["build_mudata"]["renamed_columns"] == {"1p/19q codeletion": "1p_19q codeletion"}
    summary = rg.get.pairing_summary(mdata)
    assert summary.loc["clinical"].tolist() == [3, 2, 1, 0]


def test_bad_inputs_have_clear_messages():
    with pytest.raises(DataFormatError, match="columns \\['site'\\] are not numeric"):
        rg.io.build_mudata({"radiomics": pd.DataFrame({"v": [1.0], "site": ["a"]}, index=["TCGA-02-0001"])})
    with pytest.raises(TypeError, match="pass an AnnData or a pandas DataFrame"):
        rg.io.build_mudata({"radiomics": np.ones((2, 2))})
    with pytest.raises(ValueError, match="how='left' is not valid"):
        rg.io.build_mudata({"radiomics": _frame(["TCGA-02-0001"])}, how="left")
    with pytest.raises(ValueError, match="not a TCGA barcode"):
        rg.io.parse_tcga_barcode("R01-001")


def test_anndata_input_keeps_annotations():
    adata = ad.AnnData(
        np.ones((2, 2)), obs=pd.DataFrame({"batch": ["a", "b"]}, index=["TCGA-02-0001-01A", "TCGA-02-0003-01A"])
    )
    adata.var_names = ["f1", "f2"]
    mdata = rg.io.build_mudata({"radiomics": adata})
    assert mdata["radiomics"].obs["batch"].tolist() == ["a", "b"]
    assert mdata["radiomics"].obs["sample_id"].tolist() == ["TCGA-02-0001-01A", "TCGA-02-0003-01A"]


def test_pairing_accounts_for_every_synthetic_id(mdata):
    pairing = rg.get.pairing(mdata)
    n = mdata.n_obs
    assert len(pairing) == 4 * n
    assert (pairing["status"] == "kept").all()


def test_rule_none_keeps_ids_as_given():
    a = pd.DataFrame({"x": [1.0, 2.0]}, index=[" sample_0", "Sample_1 "])
    b = pd.DataFrame({"y": [3.0, 4.0]}, index=["sample_0", "Sample_1"])
    mdata = rg.io.build_mudata({"a": a, "b": b}, id_rule=None, how="inner")
    assert mdata.obs_names.tolist() == ["sample_0", "Sample_1"]
    assert rg.io.normalize_ids(["tcga-02-0001-01a", "ab_1"])["patient_id"].tolist() == ["TCGA-02-0001", "AB_1"]
    upper = pd.DataFrame({"y": [3.0, 4.0]}, index=["SAMPLE_0", "SAMPLE_1"])
    with pytest.raises(PairingError, match="differ only in letter case"):
        rg.io.build_mudata({"a": a, "b": upper}, id_rule=None)
    assert rg.io.build_mudata({"a": a, "b": upper}, id_rule=str.upper, how="inner").n_obs == 2


def test_barcode_rules_have_one_home():
    import data_loaders as dl
    from radiogenomics.io import _ids

    for name in ("parse_tcga_barcode", "tcga_patient_id", "tcga_sample_type", "tcga_barcode_table"):
        assert getattr(dl, name) is getattr(_ids, name)
    assert dl.tcga_barcode_table(["tcga-02-0001-11a"]).iloc[0]["sample_type"] == "Solid Tissue Normal"
