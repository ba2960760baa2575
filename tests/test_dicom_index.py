"""index_dicom on modified copies of the sarcoma tree: DICOM-SEG, time points, holes, localisers, series names."""

from __future__ import annotations

import shutil
import warnings
from typing import TYPE_CHECKING

import mudata as md
import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
from matplotlib.path import Path as PolygonPath
from pydicom.uid import generate_uid

import radiogenomics as rg
from radiogenomics.imaging._io import read_image
from radiogenomics.imaging._rtstruct import read_rtstruct

if TYPE_CHECKING:
    from pathlib import Path

STS = rg.datasets.sarcoma_dicom() / "STS_002"
FIRSTORDER = {"imageType": {"Original": {}}, "featureClass": {"firstorder": ["Mean", "Maximum"]}}


def _rewrite(folder: Path, **tags) -> None:
    """Set header tags on every DICOM file under ``folder`` (callables get the dataset)."""
    for path in sorted(folder.rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        for tag, value in tags.items():
            setattr(ds, tag, value(ds) if callable(value) else value)
        ds.save_as(path)


def _new_series_uids(folder: Path) -> None:
    series = generate_uid()
    _rewrite(folder, SeriesInstanceUID=series, SOPInstanceUID=lambda ds: generate_uid())


def _segmentation(hd, sources: list, array: np.ndarray, segment):
    return hd.seg.Segmentation(
        source_images=sources,
        pixel_array=array,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[segment],
        series_instance_uid=generate_uid(),
        series_number=99,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="test",
        manufacturer_model_name="test",
        software_versions="0",
        device_serial_number="0",
    )


def test_dicom_seg_linked_by_referenced_series_and_extracted(tmp_path):
    hd = pytest.importorskip("highdicom")
    shutil.copytree(STS / "PET" / "dicom" / "image", tmp_path / "PET")
    image = read_image(tmp_path / "PET")
    gtv = sitk.GetArrayFromImage(read_rtstruct(STS / "PET" / "dicom" / "mask" / "RS.dcm", image)).astype(bool)
    sources = sorted(
        (pydicom.dcmread(p) for p in (tmp_path / "PET").iterdir()), key=lambda d: float(d.ImagePositionPatient[2])
    )
    segment = hd.seg.SegmentDescription(
        segment_number=1,
        segment_label="GTV_Mass_PET",
        segmented_property_category=hd.sr.CodedConcept("49755003", "SCT", "Morphologically Altered Structure"),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )
    with warnings.catch_warnings():  # highdicom copies the source's StudyID (18 characters > VR SH's 16)
        warnings.simplefilter("ignore", UserWarning)  # and its one-component PatientName
        seg = _segmentation(hd, sources, gtv, segment)
    (tmp_path / "SEG").mkdir()
    seg.save_as(tmp_path / "SEG" / "seg.dcm")
    manifest, index = rg.imaging.index_dicom(tmp_path, roi={"GTV": ["GTV_Mass.*"]})
    assert manifest[["modality", "roi", "mask_format", "label", "link"]].to_numpy().tolist() == [
        ["PT", "GTV", "SEG", 1, "referenced series"]
    ]
    assert index.loc[index["kind"] == "seg", "linked_to"].tolist() == manifest["series_uid"].tolist()
    adata = rg.imaging.extract(manifest, params=FIRSTORDER, progress=False)
    assert adata.obs["PT_GTV_mask_voxels"].iloc[0] == 555


def _second_study(tmp_path: Path, scale: float) -> Path:
    """STS_002 PET and its RTSTRUCT twice: a baseline and a follow-up study 90 days later with SUV x scale."""
    root = tmp_path / "tree"
    for visit in ("baseline", "followup"):
        shutil.copytree(STS / "PET", root / visit / "PET")
    follow = root / "followup" / "PET" / "dicom"
    study, frame = generate_uid(), generate_uid()
    _new_series_uids(follow / "image")
    _rewrite(follow / "image", RescaleSlope=lambda ds: float(ds.RescaleSlope) * scale)
    _rewrite(follow, StudyInstanceUID=study, StudyDate="20060428", FrameOfReferenceUID=frame)
    rs_path = follow / "mask" / "RS.dcm"
    rs = pydicom.dcmread(rs_path)
    rs.SeriesInstanceUID = generate_uid()
    rs.ReferencedFrameOfReferenceSequence[0].FrameOfReferenceUID = frame
    for roi in rs.StructureSetROISequence:
        roi.ReferencedFrameOfReferenceUID = frame
    rs.save_as(rs_path)
    return root


def test_time_points_from_study_dates_to_delta(tmp_path):
    manifest, index = rg.imaging.index_dicom(_second_study(tmp_path, 1.2), roi={"GTV": ["GTV_Mass.*"]})
    assert manifest[["timepoint", "study_date", "link"]].to_numpy().tolist() == [
        ["t0", "20060128", "frame of reference"],  # the RTSTRUCTs name series absent from the download
        ["t1", "20060428", "frame of reference"],
    ]
    assert (index["status"] == "used").sum() == 4
    adata = rg.imaging.extract(manifest, params=FIRSTORDER, progress=False)
    assert adata.var_names.tolist() == [
        "t0_PT_GTV_original_firstorder_Mean",
        "t0_PT_GTV_original_firstorder_Maximum",
        "t1_PT_GTV_original_firstorder_Mean",
        "t1_PT_GTV_original_firstorder_Maximum",
    ]
    mdata = md.MuData({"radiomics": adata})
    rg.imaging.delta(mdata, baseline="t0", followup="t1")
    np.testing.assert_allclose(mdata["radiomics_delta"].X, [[0.2, 0.2]], rtol=1e-6)
    assert mdata["radiomics_delta"].uns["delta"]["missing"].empty


def test_rtstruct_hole_and_second_contour_on_a_slice(tmp_path):
    """Add a square hole inside a GTV contour and a separate square island: even-odd filling."""
    src = STS / "CT" / "dicom" / "mask" / "RS.dcm"
    image = read_image(STS / "CT" / "dicom" / "image")
    rs = pydicom.dcmread(src)
    contours = rs.ROIContourSequence[0].ContourSequence
    base = sitk.GetArrayFromImage(read_rtstruct(src, image)).astype(bool)
    k = int(np.argmax(base.sum(axis=(1, 2))))  # the largest slice; its contour(s) lie at that slice's z
    z = image.TransformIndexToPhysicalPoint((0, 0, k))[2]
    ys, xs = np.nonzero(base[k])
    cx, cy = image.TransformContinuousIndexToPhysicalPoint((float(xs.mean()), float(ys.mean()), float(k)))[:2]
    hole = np.array([[cx - 5.2, cy - 5.2], [cx + 5.1, cy - 5.2], [cx + 5.1, cy + 5.1], [cx - 5.2, cy + 5.1]])
    origin = np.asarray(image.GetOrigin())[:2]
    spacing = np.asarray(image.GetSpacing())[:2]
    island = origin + spacing * np.array([[1.3, 1.3], [6.2, 1.3], [6.2, 5.2], [1.3, 5.2]])  # a corner, outside the GTV
    for square in (hole, island):
        item = pydicom.Dataset()
        item.ContourGeometricType = "CLOSED_PLANAR"
        item.NumberOfContourPoints = 4
        item.ContourData = [float(v) for p in square for v in (*p, z)]
        contours.append(item)
    rs.save_as(tmp_path / "RS.dcm")
    mask = sitk.GetArrayFromImage(read_rtstruct(tmp_path / "RS.dcm", image)).astype(bool)
    ny, nx = mask.shape[1:]
    yy, xx = np.mgrid[0:ny, 0:nx]
    centres = np.c_[origin[0] + spacing[0] * xx.ravel(), origin[1] + spacing[1] * yy.ravel()]
    in_hole = PolygonPath(hole).contains_points(centres).reshape(ny, nx)
    in_island = PolygonPath(island).contains_points(centres).reshape(ny, nx)
    assert in_hole.sum() > 80 and in_island.sum() == 5 * 4
    assert np.array_equal(np.delete(mask, k, axis=0), np.delete(base, k, axis=0))
    assert np.array_equal(mask[k], base[k] ^ in_hole ^ in_island)
    assert base[k][in_hole].all() and not base[k][in_island].any()  # a hole inside the GTV, an island outside


def test_localiser_unnamed_series_and_naming(tmp_path):
    root = tmp_path / "tree"
    for name in ("CT", "MR_T1"):
        shutil.copytree(STS / name, root / name)
    shutil.copytree(STS / "CT" / "dicom" / "image", root / "scout")
    _new_series_uids(root / "scout")
    _rewrite(root / "scout", ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"], SeriesDescription="scout")
    manifest, index = rg.imaging.index_dicom(root, roi={"GTV": ["GTV_Mass.*"]}, series={"T1": "^MR .*T1"})
    assert manifest[["modality", "roi"]].to_numpy().tolist() == [["T1", "GTV"]]
    reasons = dict(zip(index["series_description"], index["reason"], strict=True))
    assert reasons["scout"] == "localiser (ImageType LOCALIZER)"
    assert reasons["IBSI_1_STS_002_CT_image"] == "no modality name of series= matches it"
    # the CT contours stay with the CT series (skipped), not moved onto the MR of the same frame of reference
    assert reasons["IBSI_1_STS_002_CT_mask"] == "its image series 'IBSI_1_STS_002_CT_image' is skipped"
    assert index["n_files"].sum() == sum(1 for p in root.rglob("*") if p.is_file())


def test_label_subregions_become_rois(tmp_path):
    rng = np.random.default_rng(1)
    sitk.WriteImage(sitk.GetImageFromArray(rng.normal(100, 10, (6, 16, 16))), str(tmp_path / "img.nrrd"))
    labels = np.zeros((6, 16, 16), np.uint8)
    labels[1:5, 3:13, 3:13] = 2  # enhancing rim
    labels[2:4, 6:10, 6:10] = 1  # necrotic core
    sitk.WriteImage(sitk.GetImageFromArray(labels), str(tmp_path / "labels.nrrd"))
    manifest = pd.DataFrame(
        {"patient_id": ["P1"], "image": [str(tmp_path / "img.nrrd")], "mask": [str(tmp_path / "labels.nrrd")]}
    )
    regions = rg.imaging.subregions(
        manifest.assign(modality="MR", roi="tumour"), labels={"necrosis": 1, "rim": 2}, keep=False
    )
    assert regions[["roi", "label"]].to_numpy().tolist() == [["tumour_necrosis", 1], ["tumour_rim", 2]]
    adata = rg.imaging.extract(regions, params=FIRSTORDER, progress=False)
    assert adata.var["roi"].unique().tolist() == ["tumour_necrosis", "tumour_rim"]
    assert adata.obs.loc["P1", ["MR_tumour_necrosis_mask_voxels", "MR_tumour_rim_mask_voxels"]].tolist() == [
        32,
        400 - 32,
    ]
