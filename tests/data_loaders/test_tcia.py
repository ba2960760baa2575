from __future__ import annotations

import numpy as np
import pytest

import data_loaders as dl
from data_loaders._dicom_example import write_ct_series
from radiogenomics.errors import DataFormatError


@pytest.fixture
def series(tmp_path):
    folder = tmp_path / "ct"
    expected = write_ct_series(folder, n_slices=3, size=64, slope=2.0, intercept=-1024.0, seed=3)
    return folder, expected


def test_volume_sorted_and_rescaled(series):
    folder, expected = series
    out = dl.read_dicom_series(folder)
    assert out.volume.shape == (3, 64, 64)
    np.testing.assert_array_equal(out.volume, expected)  # files are written in reverse spatial order
    assert out.volume.min() >= -1024.0 and out.volume.max() <= 2 * 1999 - 1024
    assert out.spacing == pytest.approx((2.5, 0.7, 0.7))
    assert out.origin == pytest.approx((-22.4, -22.4, -50.0))
    h = out.header.iloc[0]
    assert h[["patient_id", "modality", "manufacturer", "model", "kernel"]].tolist() == [
        "TCGA-02-0001",
        "CT",
        "GE MEDICAL SYSTEMS",
        "LightSpeed16",
        "STANDARD",
    ]
    assert h["slice_thickness"] == 2.5 and h["kvp"] == 120 and np.isnan(h["field_strength"])
    assert h["n_slices"] == 3


def test_non_dicom_file_warns(series):
    folder, expected = series
    (folder / "notes.txt").write_text("not an image")
    with pytest.warns(UserWarning, match=r"1 non-DICOM file\(s\).*notes.txt"):
        out = dl.read_dicom_series(folder)
    np.testing.assert_array_equal(out.volume, expected)


def test_two_series_need_uid(series, tmp_path):
    folder, _ = series
    other = tmp_path / "other"
    write_ct_series(other, n_slices=2, seed=4)
    for f in other.iterdir():
        f.rename(folder / f"B_{f.name}")
    with pytest.raises(DataFormatError, match="holds 2 series"):
        dl.read_dicom_series(folder)
    import pydicom

    uid = str(pydicom.dcmread(next(folder.glob("B_*"))).SeriesInstanceUID)
    assert dl.read_dicom_series(folder, series_uid=uid).volume.shape == (2, 64, 64)


def test_gap_warns_and_duplicate_position_errors(tmp_path):
    folder = tmp_path / "gap"
    write_ct_series(folder, n_slices=4, seed=5)
    (folder / "IM0002.dcm").unlink()
    with pytest.warns(UserWarning, match="Uneven slice spacing"):
        assert dl.read_dicom_series(folder).volume.shape == (3, 64, 64)
    import pydicom

    dup = tmp_path / "dup"
    write_ct_series(dup, n_slices=2, seed=6)
    ds = pydicom.dcmread(dup / "IM0001.dcm")
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.save_as(dup / "IM0009.dcm")
    with pytest.raises(DataFormatError, match="share the position"):
        dl.read_dicom_series(dup)


def test_empty_folder(tmp_path):
    with pytest.raises(DataFormatError, match="No DICOM image slice"):
        dl.read_dicom_series(tmp_path)
