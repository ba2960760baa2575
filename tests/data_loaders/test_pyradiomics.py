from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import data_loaders as dl
from radiogenomics.errors import DataFormatError, MissingColumnError


def test_example_split_features_and_diagnostics():
    rad = dl.read_pyradiomics_csv(dl.example_file("pyradiomics_features"), id_column="patient_id")
    table = pd.read_csv(dl.example_file("pyradiomics_features"))
    assert rad.obs_names.tolist() == table["patient_id"].tolist()
    assert all(not c.startswith("diagnostics") for c in rad.var_names)
    assert "diagnostics_Mask-original_VoxelNum" in rad.obs.columns
    assert rad.obs["diagnostics_Mask-original_VoxelNum"].dtype.kind in "if"
    np.testing.assert_allclose(rad[:, "original_shape_VoxelVolume"].X.ravel(), table["original_shape_VoxelVolume"])
    assert rad.var["feature_class"].value_counts().to_dict() == {"firstorder": 4, "glcm": 4, "shape": 2}
    # the sphere radius grows with the patient index in the generator
    assert np.all(np.diff(rad[:, "original_shape_VoxelVolume"].X.ravel()) > 0)


def test_id_pattern_and_errors(tmp_path):
    path = dl.example_file("pyradiomics_features")
    rad = dl.read_pyradiomics_csv(path, id_column="Image", id_pattern=r"TCGA-\w\w-\w{4}")
    assert rad.obs_names[0] == "TCGA-02-0001" and rad.obs["source_id"].iloc[0] == "images/TCGA-02-0001_image.nrrd"
    with pytest.raises(
        DataFormatError, match=r"line 2, column 'Image': 'images/TCGA-02-0001_image.nrrd' does not match"
    ):
        dl.read_pyradiomics_csv(path, id_column="Image", id_pattern=r"R01-\d+")
    with pytest.raises(MissingColumnError, match=r"required column\(s\) \['ID'\]"):
        dl.read_pyradiomics_csv(path, id_column="ID")
    table = pd.read_csv(path)
    dup = tmp_path / "dup.csv"
    table.assign(patient_id=["A", "B", "A", "C"]).to_csv(dup, index=False)
    with pytest.raises(DataFormatError, match=r"duplicated ID 'A' on lines \[2, 4\]"):
        dl.read_pyradiomics_csv(dup, id_column="patient_id")
    text = tmp_path / "text.csv"
    table.astype({"original_glcm_Contrast": object}).assign(original_glcm_Contrast=["1", "2", "nan?", "4"]).to_csv(
        text, index=False
    )
    with pytest.raises(DataFormatError, match=r"line 4, column 'original_glcm_Contrast': value 'nan\?'"):
        dl.read_pyradiomics_csv(text, id_column="patient_id")
    nofeat = tmp_path / "nofeat.csv"
    table[["patient_id", "Image"]].to_csv(nofeat, index=False)
    with pytest.raises(DataFormatError, match="no feature columns"):
        dl.read_pyradiomics_csv(nofeat, id_column="patient_id")
    tsv = tmp_path / "tab.csv"
    table.to_csv(tsv, sep="\t", index=False)
    with pytest.raises(DataFormatError, match=r"expected comma-separated columns .* tabs"):
        dl.read_pyradiomics_csv(tsv, id_column="patient_id")
