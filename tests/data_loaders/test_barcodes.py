from __future__ import annotations

import pytest

import data_loaders as dl


def test_barcode_table_fields():
    t = dl.tcga_barcode_table(["TCGA-02-0001-01C-01D-0182-01", "TCGA-06-0125-11A-01R-1849-01", "TCGA-DU-7309"])
    first = t.iloc[0]
    assert first[
        ["patient_id", "tss", "participant", "sample_type_code", "vial", "portion", "analyte", "plate", "center"]
    ].tolist() == ["TCGA-02-0001", "02", "0001", "01", "C", "01", "D", "0182", "01"]
    assert t.iloc[1]["sample_type"] == "Solid Tissue Normal"
    assert t.iloc[1]["analyte_type"] == "RNA"
    assert t.iloc[2]["sample_type"] is None


def test_helpers_and_errors():
    assert dl.tcga_patient_id("TCGA.06.0125.01A") == "TCGA-06-0125"
    assert dl.tcga_sample_type("TCGA-06-0125-06A") == "Metastatic"
    assert dl.tcga_sample_type("TCGA-06-0125") is None
    assert dl.parse_tcga_barcode("TCGA-06-0125-01A")["vial"] == "A"
    with pytest.raises(ValueError, match="not a TCGA barcode"):
        dl.tcga_patient_id("R01-012")
