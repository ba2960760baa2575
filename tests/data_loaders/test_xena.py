from __future__ import annotations

import numpy as np
import pytest

import data_loaders as dl
from radiogenomics.errors import DataFormatError


def test_log2_counts_back_transform_matches_gdc():
    xena = dl.read_xena_matrix(dl.example_file("xena_counts"), units="log2(count+1)")
    gdc = dl.read_gdc_star_counts(dl.example_file("gdc_star_counts"), sample_sheet=dl.example_file("gdc_sample_sheet"))
    assert xena.obs_names.tolist() == gdc.obs_names.tolist()
    assert xena.var_names.tolist() == gdc.var_names.tolist()
    exact = gdc.layers["counts"] < 1000
    np.testing.assert_array_equal(xena.layers["counts"][exact], gdc.layers["counts"][exact])
    # six significant digits in the file: large counts are recovered to within 0.01 %
    np.testing.assert_allclose(xena.layers["counts"], gdc.layers["counts"], rtol=1e-4)
    np.testing.assert_allclose(xena.X, np.log2(xena.layers["counts"] + 1), atol=1e-3)
    assert xena.uns["xena"] == {"units": "log2(count+1)", "log2": True, "pseudocount": 1.0, "id_column": "Ensembl_ID"}


def test_tpm_units_and_unknown_units(tmp_path):
    path = tmp_path / "tpm.tsv"
    path.write_text("sample\tS1\tS2\nA\t0\t3.5\nB\t9.9657\t-9.9658\n")
    tpm = dl.read_xena_matrix(path, units="log2(tpm+0.001)")
    np.testing.assert_allclose(tpm.layers["tpm"], [[0.999, 2**9.9657 - 0.001], [2**3.5 - 0.001, 0.0]], rtol=1e-9)
    with pytest.raises(ValueError, match="units='tpm' is not known"):
        dl.read_xena_matrix(path, units="tpm")


def test_not_counts_warns(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("gene\tS1\nA\t3.3\n")
    with pytest.warns(UserWarning, match="differs from whole numbers"):
        dl.read_xena_matrix(path, units="log2(count+1)")


def test_duplicates_and_text(tmp_path):
    path = tmp_path / "x.tsv"
    path.write_text("gene\tS1\tS1\nA\t1\t2\n")
    with pytest.raises(DataFormatError, match="duplicated sample column 'S1'"):
        dl.read_xena_matrix(path, units="linear")
    path.write_text("gene\tS1\tS2\nA\t1\t2\nA\t1\t2\n")
    with pytest.raises(DataFormatError, match=r"duplicated gene 'A' on lines \[2, 3\]"):
        dl.read_xena_matrix(path, units="linear")
    path.write_text("gene\tS1\tS2\nA\t1\t2\nB\t1\toops\n")
    with pytest.raises(DataFormatError, match=r"line 3, column 'S2': value 'oops' is not a number"):
        dl.read_xena_matrix(path, units="linear")
    path.write_text("gene,S1,S2\nA,1,2\n")
    with pytest.raises(DataFormatError, match="expected tab-separated"):
        dl.read_xena_matrix(path, units="linear")
