"""PET SUV from DICOM headers, peritumoral rings, delta-radiomics, IBSI phantom table, feature maps."""

from __future__ import annotations

import shutil
from pathlib import Path

import anndata as ad
import matplotlib.pyplot as plt
import mudata as md
import numpy as np
import pandas as pd
import pydicom
import pytest
import SimpleITK as sitk
from scipy import ndimage

import radiogenomics as rg
from radiogenomics.errors import DataFormatError, MissingColumnError
from radiogenomics.imaging._ibsi import markdown_rows
from radiogenomics.imaging._subregions import ring_mask
from radiogenomics.imaging._suv import series_headers, suv_bw_factor

PET = rg.datasets.sarcoma_dicom() / "STS_002" / "PET" / "dicom"
FIRSTORDER = {"imageType": {"Original": {}}, "featureClass": {"firstorder": None}, "setting": {"binWidth": 0.25}}
# STS_002 PET header: 99 kg, 433,344,096 Bq of 18F (half-life 6588 s) injected 13:51:00, series 14:57:59
EXPECTED_DECAY = 2 ** (-4019 / 6588)
EXPECTED_FACTOR = 99_000 / (433_344_096 * EXPECTED_DECAY)


def _pet_copy(tmp_path: Path, **changes) -> Path:
    """Copy the PET series and RTSTRUCT, setting header tags (None deletes); Bq/ml values keep the same SUV."""
    root = tmp_path / "PET"
    shutil.copytree(PET, root / "dicom")
    for path in sorted((root / "dicom" / "image").iterdir()):
        ds = pydicom.dcmread(path)
        info = ds.RadiopharmaceuticalInformationSequence[0]
        if "RadiopharmaceuticalStartDateTime" in info:  # anonymised a day after the scan: use the time of day
            del info.RadiopharmaceuticalStartDateTime
        ds.Units = "BQML"
        ds.DecayCorrection = "START"
        ds.RescaleSlope = float(ds.RescaleSlope) / EXPECTED_FACTOR
        for tag, value in changes.items():
            if value is None:
                delattr(ds, tag)
            else:
                setattr(ds, tag, value)
        ds.save_as(path)
    return root


def test_real_pet_header_is_already_suv():
    record = suv_bw_factor(series_headers(PET / "image"))
    assert record["pet_units"] == "GML"
    assert record["suv_factor"] == 1.0
    manifest, _ = rg.imaging.index_dicom(rg.datasets.sarcoma_dicom(), roi="GTV_Mass_PET")
    assert manifest["suv"].tolist() == [""]


def test_suv_from_bqml_header_with_decay_correction(tmp_path):
    root = _pet_copy(tmp_path)
    record = suv_bw_factor(series_headers(root / "dicom" / "image"))
    assert record["suv_decay_correction"] == "START"
    assert record["suv_decay_seconds"] == 4019.0
    assert record["suv_decay_factor"] == pytest.approx(EXPECTED_DECAY, rel=1e-12)
    assert record["suv_factor"] == pytest.approx(EXPECTED_FACTOR, rel=1e-12)
    manifest, _ = rg.imaging.index_dicom(root, roi={"GTV": ["GTV_Mass.*"]})
    assert manifest["suv"].tolist() == ["bw"]
    original, _ = rg.imaging.index_dicom(rg.datasets.sarcoma_dicom(), roi={"GTV": ["GTV_Mass.*"]})
    suv = rg.imaging.extract(manifest, params=FIRSTORDER, progress=False)
    ref = rg.imaging.extract(original[original["modality"] == "PT"], params=FIRSTORDER, progress=False)
    np.testing.assert_allclose(suv.X, ref.X, rtol=1e-6)
    assert suv.obs["PT_GTV_suv_factor"].iloc[0] == pytest.approx(EXPECTED_FACTOR, rel=1e-12)
    assert suv.obs["PT_GTV_suv_decay_correction"].iloc[0] == "START"
    # ADMIN: already decay-corrected to the injection, no decay factor
    admin = suv_bw_factor(series_headers(_pet_copy(tmp_path / "admin", DecayCorrection="ADMIN") / "dicom" / "image"))
    assert admin["suv_factor"] == pytest.approx(99_000 / 433_344_096, rel=1e-12)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"PatientWeight": None}, "PatientWeight is missing"),
        ({"DecayCorrection": "NONE"}, "DecayCorrection 'NONE'"),
        ({"Units": "CNTS"}, "PET Units 'CNTS'"),
        ({"SeriesTime": "134500", "AcquisitionTime": "134500"}, "injection .* is after the scan"),
    ],
)
def test_suv_refused_when_header_cannot_give_it(tmp_path, changes, message):
    root = _pet_copy(tmp_path, **changes)
    with pytest.raises(DataFormatError, match=message):
        suv_bw_factor(series_headers(root / "dicom" / "image"))
    manifest, index = rg.imaging.index_dicom(root)
    assert manifest.empty
    reason = index.loc[index["kind"] == "image", "reason"].iloc[0]
    assert reason.startswith("SUV not computable") and pd.Series([reason]).str.contains(message).all()


def test_ring_width_in_mm_and_clipped_to_body():
    image = sitk.GetImageFromArray(np.full((12, 30, 30), 40.0))
    image.SetSpacing((1.0, 1.0, 3.0))
    arr = sitk.GetArrayFromImage(image)
    arr[:, :, :12] = -1000  # air left of x = 12
    body = sitk.GetImageFromArray(arr)
    body.CopyInformation(image)
    roi = np.zeros(arr.shape, np.uint8)
    roi[4:8, 10:20, 13:23] = 1
    roi_img = sitk.GetImageFromArray(roi)
    roi_img.CopyInformation(image)
    ring = sitk.GetArrayFromImage(ring_mask(roi_img, image, 2.0))
    distance = ndimage.distance_transform_edt(roi == 0, sampling=(3.0, 1.0, 1.0))
    assert np.array_equal(ring.astype(bool), (roi == 0) & (distance <= 2.0))
    assert not ring[[3, 8]].any()  # 3 mm slices: a 2 mm ring does not reach the next slice
    # a 14x14 square minus the 10x10 ROI; each corner loses the voxels at sqrt(5), sqrt(5), sqrt(8) mm
    assert ring[4:8].sum() == 4 * (14 * 14 - 10 * 10 - 4 * 3)
    clipped = sitk.GetArrayFromImage(ring_mask(roi_img, body, 2.0, body_threshold=-500))
    assert clipped[:, :, :12].sum() == 0 and clipped[:, :, 12:].sum() == ring[:, :, 12:].sum()


def test_peritumoral_ring_extracted_as_its_own_roi():
    manifest, _ = rg.imaging.index_dicom(rg.datasets.sarcoma_dicom(), roi={"GTV": ["GTV_Mass.*"]})
    ct = rg.imaging.subregions(manifest[manifest["modality"] == "CT"], ring_mm=5, body_threshold=-500)
    assert ct["roi"].tolist() == ["GTV", "GTV_ring5mm"]
    params = {"imageType": {"Original": {}}, "featureClass": {"firstorder": ["Mean"]}}
    adata = rg.imaging.extract(ct, params=params, progress=False)
    assert adata.var["roi"].tolist() == ["GTV", "GTV_ring5mm"]
    image, gtv = rg.imaging.read_case(ct, 0)
    _, ring = rg.imaging.read_case(ct, 1)
    gtv_a, ring_a, ct_a = (sitk.GetArrayFromImage(x) for x in (gtv, ring, image))
    assert not (gtv_a & ring_a).any()
    assert adata.obs["CT_GTV_ring5mm_mask_voxels"].iloc[0] == ring_a.sum() > 0
    assert adata.X[0, 1] == pytest.approx(ct_a[ring_a > 0].mean(), rel=1e-9)
    assert (ct_a[ring_a > 0] > -500).all()


def _two_timepoint_manifest(tmp_path: Path) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    mask = np.zeros((6, 16, 16), np.uint8)
    mask[1:5, 4:12, 4:12] = 1
    sitk.WriteImage(sitk.GetImageFromArray(mask), str(tmp_path / "mask.nrrd"))
    rows = []
    for i, pid in enumerate(["P1", "P2", "P3", "P4"]):
        base = rng.normal(100 + 10 * i, 5, mask.shape)
        for tp, image in (("baseline", base), ("followup", base * 1.5)):  # planted: +50 % everywhere
            if pid == "P4" and tp == "followup":
                continue
            sitk.WriteImage(sitk.GetImageFromArray(image), str(tmp_path / f"{pid}_{tp}.nrrd"))
            rows.append({"patient_id": pid, "timepoint": tp, "image": str(tmp_path / f"{pid}_{tp}.nrrd")})
    return pd.DataFrame(rows).assign(mask=str(tmp_path / "mask.nrrd"), modality="CT", roi="GTV")


def test_delta_recovers_planted_change(tmp_path):
    params = {"imageType": {"Original": {}}, "featureClass": {"firstorder": ["Mean", "Variance"]}}
    adata = rg.imaging.extract(_two_timepoint_manifest(tmp_path), params=params, progress=False)
    assert adata.var_names.tolist() == [
        "baseline_CT_GTV_original_firstorder_Mean",
        "baseline_CT_GTV_original_firstorder_Variance",
        "followup_CT_GTV_original_firstorder_Mean",
        "followup_CT_GTV_original_firstorder_Variance",
    ]
    assert adata.var["timepoint"].tolist() == ["baseline", "baseline", "followup", "followup"]
    mdata = md.MuData({"radiomics": adata})
    rg.imaging.delta(mdata, baseline="baseline", followup="followup")
    delta = mdata["radiomics_delta"]
    assert delta.var_names.tolist() == [
        "delta_CT_GTV_original_firstorder_Mean",
        "delta_CT_GTV_original_firstorder_Variance",
    ]
    np.testing.assert_allclose(delta.X[:3], [[0.5, 1.25]] * 3, rtol=1e-9)  # mean x1.5, variance x2.25
    assert np.isnan(delta.X[3]).all()
    assert delta.uns["delta"]["missing"].to_dict("records") == [{"patient_id": "P4", "missing": "followup"}]
    rg.io.write_h5mu(mdata, tmp_path / "delta.h5mu")
    back = rg.io.read_h5mu(tmp_path / "delta.h5mu")
    np.testing.assert_array_equal(back["radiomics_delta"].X, delta.X)
    assert back["radiomics"].var["timepoint"].tolist() == adata.var["timepoint"].tolist()
    assert back["radiomics_delta"].uns["delta"]["missing"]["patient_id"].tolist() == ["P4"]
    assert back["radiomics_delta"].uns["delta"]["params"]["kind"] == "relative"
    absolute = rg.imaging.delta(mdata, baseline="baseline", followup="followup", kind="absolute", copy=True)
    base = adata[:, "baseline_CT_GTV_original_firstorder_Mean"].X[:3, 0]
    np.testing.assert_allclose(absolute["radiomics_delta"].X[:3, 0], 0.5 * base, rtol=1e-9)
    with pytest.raises(KeyError, match="time point 'week6' not in"):
        rg.imaging.delta(mdata, baseline="baseline", followup="week6")
    single = md.MuData({"radiomics": ad.AnnData(np.ones((2, 1)), var=pd.DataFrame(index=["CT_GTV_x"]))})
    with pytest.raises(MissingColumnError, match="no 'timepoint' column"):
        rg.imaging.delta(single, baseline="a", followup="b")


def test_ibsi_table_in_docs_is_current():
    table = rg.imaging.ibsi_check()
    assert len(table) == 102
    assert (table["agrees"] | table["corrected_agrees"]).all()
    assert sorted(table.index[~table["agrees"]]) == ["morph_pca_least_axis", "morph_pca_min_axis", "stat_kurt"]
    assert (table.loc[~table["agrees"], "explanation"] != "").all()
    docs = (Path(__file__).parents[1] / "docs" / "ibsi.md").read_text().splitlines()
    rows = [line for line in docs if line.startswith("| `")]
    assert rows == markdown_rows(table)


def test_feature_map_is_the_kernel_statistic_inside_the_roi():
    manifest, _ = rg.imaging.index_dicom(rg.datasets.sarcoma_dicom(), roi="GTV_Mass_PET")
    image, mask = rg.imaging.read_case(manifest)
    fmap = rg.imaging.feature_map(image, mask, "firstorder_Mean", kernel_radius=1, params={"binWidth": 0.25})
    values, roi, img = sitk.GetArrayFromImage(fmap), sitk.GetArrayFromImage(mask) > 0, sitk.GetArrayFromImage(image)
    assert np.array_equal(np.isfinite(values), roi) and roi.sum() == 555
    for z, y, x in np.argwhere(roi)[::50]:  # mean of the ROI voxels of the 3x3x3 cube around each voxel
        cube = (slice(max(z - 1, 0), z + 2), slice(max(y - 1, 0), y + 2), slice(max(x - 1, 0), x + 2))
        assert values[z, y, x] == pytest.approx(img[cube][roi[cube]].mean(), rel=1e-6)
    ax = rg.pl.feature_map(image, fmap, {"GTV": mask}, label="SUV mean (3x3x3)")
    assert ax.get_title() == f"slice {int(np.argmax(roi.sum(axis=(1, 2))))}"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["GTV"]
    plt.close(ax.figure)
    with pytest.raises(ValueError, match="'<class>_<feature>'"):
        rg.imaging.feature_map(image, mask, "shape_Sphericity")
