"""DICOM folder trees to features: index_dicom, RTSTRUCT masks (vs MIRP's NIfTI masks and matplotlib), features."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
from matplotlib.path import Path as PolygonPath

import radiogenomics as rg
from radiogenomics.errors import DataFormatError
from radiogenomics.imaging._io import read_image
from radiogenomics.imaging._rtstruct import fill_even_odd, read_rtstruct, roi_contours

NIFTI = Path(__file__).parent / "data" / "imaging" / "tcia_sts" / "STS_002"
FOLDERS = {"CT": "CT", "MR": "MR_T1", "PT": "PET"}
GTV = {"GTV": ["GTV_Mass.*"]}


@pytest.fixture(scope="module")
def manifest():
    return rg.imaging.index_dicom(rg.datasets.sarcoma_dicom(), roi=GTV)[0]


def _matplotlib_mask(rtstruct: Path, image: sitk.Image) -> np.ndarray:
    """Independent rasterisation: matplotlib point-in-polygon at voxel centres, contours XOR'ed per slice."""
    nx, ny, nz = image.GetSize()
    out = np.zeros((nz, ny, nx), dtype=bool)
    for points in roi_contours(pydicom.dcmread(rtstruct), ""):
        index = np.array([image.TransformPhysicalPointToContinuousIndex(p.tolist()) for p in points])
        k = round(float(index[0, 2]))
        yy, xx = np.mgrid[0:ny, 0:nx]
        inside = PolygonPath(index[:, :2]).contains_points(np.c_[xx.ravel(), yy.ravel()]).reshape(ny, nx)
        out[k] ^= inside
    return out


def test_index_finds_every_modality_with_its_rtstruct():
    manifest, index = rg.imaging.index_dicom(rg.datasets.sarcoma_dicom(), roi=GTV)
    assert manifest[["patient_id", "timepoint", "modality", "roi"]].to_numpy().tolist() == [
        ["STS_002", "t0", m, "GTV"] for m in ("CT", "MR", "PT")
    ]
    assert manifest["mask_roi"].tolist() == ["GTV_Mass_CT", "GTV_Mass_MR_T1", "GTV_Mass_PET"]
    assert set(manifest["mask_format"]) == {"RTSTRUCT"}
    # the RTSTRUCTs reference series UIDs absent from the download: linked through the frame of reference
    assert set(manifest["link"]) == {"frame of reference + nearest folder"}
    for row in manifest.itertuples():
        assert Path(row.image).name == "image" and Path(row.image).parent.parent.name == FOLDERS[row.modality]
    n_files = sum(1 for p in rg.datasets.sarcoma_dicom().rglob("*") if p.is_file())
    assert index["n_files"].sum() == n_files
    assert index.loc[index["kind"] == "image", "n_files"].tolist() == [48, 35, 48]
    skipped = index[index["status"] == "skipped"]
    assert sorted(skipped["reason"]) == ["not a DICOM file: LICENSE.md", "not a DICOM file: README.md"]


def test_index_reports_unmatched_roi_and_unlinked_series(tmp_path):
    root = tmp_path / "tree"
    src = rg.datasets.sarcoma_dicom() / "STS_002"
    shutil.copytree(src / "PET", root / "PET")
    shutil.copytree(src / "CT" / "dicom" / "image", root / "CT" / "image")
    manifest, index = rg.imaging.index_dicom(root, roi={"tumour": ["GTV", "tumor"]})
    assert manifest.empty
    index = index.set_index("kind")
    assert index.loc["rtstruct", "reason"] == "no ROI matches; ROIs: ['GTV_Mass_PET']"
    assert set(index.loc["image", "reason"]) == {"no segmentation with a matching ROI refers to it"}
    manifest, _ = rg.imaging.index_dicom(root, roi="gtv_mass_pet")  # exact name, case ignored
    assert manifest[["modality", "roi"]].to_numpy().tolist() == [["PT", "gtv_mass_pet"]]
    with pytest.raises(DataFormatError, match="no DICOM file"):
        rg.imaging.index_dicom(_empty(tmp_path))


def _empty(tmp_path: Path) -> Path:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("no images here")
    return folder


@pytest.mark.parametrize("modality", ["CT", "MR", "PT"])
def test_rtstruct_mask_equals_mirp_nifti_and_matplotlib(manifest, modality):
    row = manifest.set_index("modality").loc[modality]
    image = read_image(row["image"])
    mask = sitk.GetArrayFromImage(read_rtstruct(row["mask"], image, row["mask_roi"])).astype(bool)
    reference = sitk.ReadImage(str(NIFTI / FOLDERS[modality] / "nifti" / "mask" / "mask.nii.gz"))
    assert rg.imaging._io.geometry_difference(image, reference) is None
    mirp = sitk.GetArrayFromImage(reference).astype(bool)
    independent = _matplotlib_mask(Path(row["mask"]), image)
    assert mask.sum() == {"CT": 17090, "MR": 17090, "PT": 555}[modality]
    assert np.array_equal(mask, mirp)
    assert np.array_equal(mask, independent)


def test_even_odd_fill_holes_and_separate_contours():
    outer = np.array([[2, 2], [17, 2], [17, 17], [2, 17]], float)
    hole = np.array([[6, 6], [13, 6], [13, 13], [6, 13]], float)
    island = np.array([[8.5, 8.5], [10.5, 8.5], [10.5, 10.5], [8.5, 10.5]], float)  # inside the hole
    apart = np.array([[20, 0.5], [23.5, 0.5], [23.5, 3.5], [20, 3.5]], float)
    filled = fill_even_odd([outer, hole, island, apart], (20, 25))
    # centres on a polygon's left/bottom edge count as inside (half-open rule), right/top edges do not
    assert filled[2:17, 2:17].sum() == 15 * 15 - 7 * 7 + 2 * 2
    assert filled[6:13, 6:13].sum() == 4
    assert filled[9:11, 9:11].all()
    assert filled[1:4, 20:24].sum() == 12
    yy, xx = np.mgrid[0:20, 0:25]
    points = np.c_[xx.ravel() + 1e-9, yy.ravel() + 1e-9]  # off the edges: matplotlib and even-odd must agree
    expected = np.zeros(20 * 25, dtype=bool)
    for polygon in (outer, hole, island, apart):
        expected ^= PolygonPath(polygon).contains_points(points)
    assert np.array_equal(fill_even_odd([p - 1e-9 for p in (outer, hole, island, apart)], (20, 25)).ravel(), expected)


def test_features_from_dicom_rtstruct_equal_features_from_nifti(manifest):
    # one (modality-neutral) preset per modality: a single preset for CT, MR and PET warns
    params = {key: {"imageType": {"Original": {}}, "setting": {"binCount": 32}} for key in FOLDERS}
    dicom = rg.imaging.extract(manifest, params=params, progress=False)
    nifti = pd.DataFrame(
        {
            "patient_id": "STS_002",
            "modality": list(FOLDERS),
            "roi": "GTV",
            "image": [str(NIFTI / f / "nifti" / "image" / "image.nii.gz") for f in FOLDERS.values()],
            "mask": [str(NIFTI / f / "nifti" / "mask" / "mask.nii.gz") for f in FOLDERS.values()],
        }
    )
    reference = rg.imaging.extract(nifti, params=params, progress=False)
    assert dicom.var_names.tolist() == reference.var_names.tolist()
    assert dicom.n_vars == 3 * 107
    x, y = dicom.X[0], reference.X[0]
    np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-12)
    assert dicom.obs.loc["STS_002", ["CT_GTV_mask_voxels", "MR_GTV_mask_voxels", "PT_GTV_mask_voxels"]].tolist() == [
        17090,
        17090,
        555,
    ]
    cases = dicom.uns["extraction"]["cases"]
    assert cases["mask_roi"].tolist() == ["GTV_Mass_CT", "GTV_Mass_MR_T1", "GTV_Mass_PET"]


def test_rtstruct_errors_name_the_roi(manifest):
    row = manifest.iloc[0]
    image = read_image(row["image"])
    with pytest.raises(DataFormatError, match="ROI 'tumour' not found; ROIs present: \\['GTV_Mass_CT'\\]"):
        read_rtstruct(row["mask"], image, "tumour")
    bad = manifest.iloc[[0]].assign(mask_roi="tumour")
    with pytest.raises(DataFormatError, match=r"every case failed.*ROI 'tumour' not found"):
        rg.imaging.extract(bad, params={"featureClass": {"firstorder": ["Mean"]}}, progress=False)
