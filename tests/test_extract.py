"""rg.imaging.extract and rg.imaging.preprocess: pyradiomics baseline, failures, parallel, checkpoints, DICOM."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import SimpleITK as sitk

import radiogenomics as rg

DATA = Path(__file__).parent / "data" / "pyradiomics"
BASELINE = DATA / "baseline"
CLASSES = ["firstorder", "glcm", "gldm", "glrlm", "glszm", "ngtdm", "shape"]
# mesh-based shape features changed after pyradiomics 1.3 (the baseline's version)
MESH = {"MeshVolume", "SurfaceArea", "SurfaceVolumeRatio", "Sphericity"}
ORIGINAL = {"imageType": {"Original": {}}}


def _baseline(case: str) -> tuple[dict, pd.Series]:
    values, settings = {}, None
    for c in CLASSES:
        table = pd.read_csv(BASELINE / f"baseline_{c}.csv", index_col=0)
        settings = ast.literal_eval(table.loc["diagnostics_Configuration_Settings", case])
        features = table.loc[[i for i in table.index if not i.startswith("diagnostics_")], case]
        values.update(features.astype(float).to_dict())
    return settings, pd.Series(values)


def _case(pid: str, name: str = "breast1", **extra) -> dict:
    return {
        "patient_id": pid,
        "image": str(DATA / f"{name}_image.nrrd"),
        "mask": str(DATA / f"{name}_label.nrrd"),
    } | extra


def _crop(name: str, folder: Path) -> dict:
    """Crop a pyradiomics case to its mask's bounding box + 4 voxels (fast, same texture)."""
    image = sitk.ReadImage(str(DATA / f"{name}_image.nrrd"))
    mask = sitk.ReadImage(str(DATA / f"{name}_label.nrrd"))
    stats = sitk.LabelShapeStatisticsImageFilter()
    stats.Execute(mask)
    box = np.array(stats.GetBoundingBox(1)).reshape(2, -1)
    lo = np.maximum(box[0] - 4, 0)
    hi = np.minimum(box[0] + box[1] + 4, image.GetSize())
    size = [int(v) for v in hi - lo]
    paths = {}
    for key, img in (("image", image), ("mask", mask)):
        paths[key] = str(folder / f"{name}_crop_{key}.nrrd")
        sitk.WriteImage(sitk.RegionOfInterest(img, size, [int(v) for v in lo]), paths[key])
    return {"patient_id": f"{name}_crop", **paths}


def test_brain1_matches_pyradiomics_baseline():
    settings, expected = _baseline("brain1")
    assert settings["binWidth"] == 25
    assert settings["voxelArrayShift"] == 2000
    params = {"imageType": {"Original": {}}, "setting": {k: v for k, v in settings.items() if v is not None}}
    adata = rg.imaging.extract(
        pd.DataFrame([_case("brain1", "brain1", modality="MR", roi="tumour")]), params=params, progress=False
    )
    got = pd.Series(adata.X[0], index=adata.var_names)
    names = "MR_tumour_" + expected.index
    assert set(names) <= set(got.index), sorted(set(names) - set(got.index))
    rel = np.abs(got[names].to_numpy() - expected.to_numpy()) / np.abs(expected.to_numpy())
    mesh = np.array([n.rsplit("_", 1)[1] in MESH for n in expected.index])
    assert len(expected) == 107
    assert rel[~mesh].max() < 1e-6, expected.index[~mesh][np.argmax(rel[~mesh])]
    assert rel[mesh].max() < 1e-3
    assert got["MR_tumour_original_firstorder_Mean"] == pytest.approx(825.2354363065023, rel=1e-12)
    assert got["MR_tumour_original_glcm_Contrast"] == pytest.approx(47.492125114429776, rel=1e-9)
    # diagnostics: the image hash is pyradiomics' baseline hash
    base = pd.read_csv(BASELINE / "baseline_firstorder.csv", index_col=0)["brain1"]
    assert adata.obs.loc["brain1", "MR_tumour_image_hash"] == base["diagnostics_Image-original_Hash"]
    assert adata.obs.loc["brain1", "MR_tumour_mask_voxels"] == 4137
    assert adata.obs.loc["brain1", "MR_tumour_spacing_z"] == pytest.approx(6.5)
    var = adata.var.loc["MR_tumour_original_glcm_Contrast"]
    assert var.to_dict() == {
        "modality": "MR",
        "roi": "tumour",
        "image_type": "original",
        "feature_class": "glcm",
        "feature": "Contrast",
    }
    info = adata.uns["extraction"]
    assert json.loads(info["params"])["setting"]["binWidth"] == 25
    assert "SimpleITK" in info["versions"]
    assert info["failures"].empty


def _bad_cases(folder: Path) -> list[dict]:
    corrupt = folder / "corrupt.nrrd"
    corrupt.write_bytes((DATA / "breast1_image.nrrd").read_bytes()[:2000])
    mask = sitk.ReadImage(str(DATA / "breast1_label.nrrd"))
    empty = sitk.Image(mask.GetSize(), mask.GetPixelID())
    empty.CopyInformation(mask)
    sitk.WriteImage(empty, str(folder / "empty.nrrd"))
    shifted = sitk.Image(mask)
    shifted.SetSpacing([s * 1.5 for s in mask.GetSpacing()])
    sitk.WriteImage(shifted, str(folder / "spacing.nrrd"))
    return [
        {"patient_id": "corrupt", "image": str(corrupt), "mask": str(DATA / "breast1_label.nrrd")},
        _case("empty") | {"mask": str(folder / "empty.nrrd")},
        _case("nolabel", label=3),
        _case("geometry") | {"mask": str(folder / "spacing.nrrd")},
    ]


def test_batch_records_failures_and_goes_on(tmp_path):
    good = [_case(f"good{i}") for i in range(3)]
    manifest = pd.DataFrame(good[:2] + _bad_cases(tmp_path) + good[2:])
    with pytest.warns(UserWarning, match="4 of 7 cases failed"):
        adata = rg.imaging.extract(manifest, params=ORIGINAL, progress=False)
    assert list(adata.obs_names) == ["good0", "good1", "good2"]
    assert np.isfinite(adata.X).all()
    np.testing.assert_array_equal(adata.X[0], adata.X[2])
    failures = adata.uns["extraction"]["failures"].set_index("patient_id")
    assert list(failures.columns[:3]) == ["image", "mask", "reason"]
    assert sorted(failures.index) == ["corrupt", "empty", "geometry", "nolabel"]
    assert failures.loc["corrupt", "reason"].startswith("cannot read image")
    assert "mask is empty" in failures.loc["empty", "reason"]
    assert "label 3 absent from mask; labels present: 1" in failures.loc["nolabel", "reason"]
    geometry = failures.loc["geometry", "reason"]
    assert "geometry mismatch" in geometry and "spacing" in geometry and "resample_mask=True" in geometry
    assert "size" not in geometry.split(";")[0]  # only the spacing (and the origin it moves) differ
    cases = adata.uns["extraction"]["cases"]
    assert (cases["status"] == "ok").sum() == 3


def test_resample_mask_option_and_all_failed(tmp_path):
    bad = _bad_cases(tmp_path)
    adata = rg.imaging.extract(pd.DataFrame([bad[3]]), params=ORIGINAL, progress=False, resample_mask=True)
    assert adata.obs["image_roi_mask_resampled"].tolist() == [True]
    assert adata.obs["image_roi_mask_voxels"].iloc[0] > 0
    with pytest.raises(rg.errors.DataFormatError, match="every case failed"):
        rg.imaging.extract(pd.DataFrame(bad[:3]), params=ORIGINAL, progress=False)


def test_manifest_errors_and_csv_paths(tmp_path):
    with pytest.raises(KeyError, match="lacks column"):
        rg.imaging.extract(pd.DataFrame({"patient_id": ["a"], "image": ["x"]}), progress=False)
    dup = pd.DataFrame([_case("a"), _case("a")])
    with pytest.raises(ValueError, match="more than once"):
        rg.imaging.extract(dup, progress=False)
    with pytest.raises(ValueError, match="not valid pyradiomics parameters"):
        rg.imaging.extract(pd.DataFrame([_case("a")]), params={"setting": {"binWidth": "wide"}}, progress=False)
    # relative paths in a CSV manifest are relative to the CSV; two rois of one patient -> one row
    (tmp_path / "img.nrrd").write_bytes((DATA / "breast1_image.nrrd").read_bytes())
    (tmp_path / "seg.nrrd").write_bytes((DATA / "breast1_label.nrrd").read_bytes())
    table = pd.DataFrame({"patient_id": ["p1", "p1"], "image": "img.nrrd", "mask": "seg.nrrd", "roi": ["a", "b"]})
    table.to_csv(tmp_path / "manifest.csv", index=False)
    params = ORIGINAL | {"featureClass": {"firstorder": ["Mean"]}}
    adata = rg.imaging.extract(tmp_path / "manifest.csv", params=params, progress=False)
    assert adata.shape == (1, 2)
    assert list(adata.var_names) == ["image_a_original_firstorder_Mean", "image_b_original_firstorder_Mean"]


def _batch(tmp_path: Path) -> pd.DataFrame:
    return pd.DataFrame([_case("breast1"), _crop("brain1", tmp_path), _crop("brain2", tmp_path), _case("breast1b")])


def test_parallel_and_dask_equal_serial(tmp_path):
    distributed = pytest.importorskip("distributed")
    import dask

    manifest = _batch(tmp_path)
    serial = rg.imaging.extract(manifest, params=ORIGINAL, progress=False)
    assert serial.shape[0] == 4 and serial.shape[1] > 100
    pooled = rg.imaging.extract(manifest, params=ORIGINAL, n_jobs=2, progress=False)
    assert pooled.uns["extraction"]["backend"] == "processes"
    np.testing.assert_array_equal(pooled.X, serial.X)
    pd.testing.assert_frame_equal(pooled.obs, serial.obs)
    # not the dask_client fixture: the cluster's threads must not be alive while the pool above forks
    with (
        # spawned workers: forking a process that runs threads (logging, tqdm, dask) can deadlock the child
        dask.config.set({"distributed.worker.multiprocessing-method": "spawn"}),
        distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        dasked = rg.imaging.extract(manifest, params=ORIGINAL, client=client, progress=False)
    assert dasked.uns["extraction"]["backend"] == "dask"
    np.testing.assert_array_equal(dasked.X, serial.X)
    pd.testing.assert_frame_equal(dasked.obs, serial.obs)
    assert list(dasked.var_names) == list(serial.var_names)


CHILD = textwrap.dedent(
    """
    import sys
    import pandas as pd
    import radiogenomics as rg
    rg.imaging.extract(pd.read_csv(sys.argv[1]), params={"imageType": {"Original": {}}},
                       checkpoint=sys.argv[2], progress=False)
    """
)


def test_checkpoint_survives_sigkill(tmp_path):
    manifest = pd.DataFrame([_case(f"p{i:02d}") for i in range(10)])
    manifest.to_csv(tmp_path / "manifest.csv", index=False)
    ckpt = tmp_path / "ckpt"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(tmp_path / "manifest.csv"), str(ckpt)])
    deadline = time.monotonic() + 60
    while not list(ckpt.glob("*.case.json")) and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.005)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    done = {p.name: p.stat().st_mtime_ns for p in ckpt.glob("*.case.json")}
    assert 1 <= len(done) < len(manifest), "the kill should land mid-batch"
    resumed = rg.imaging.extract(manifest, params=ORIGINAL, checkpoint=ckpt, progress=False)
    cases = resumed.uns["extraction"]["cases"]
    assert (cases["status"] == "ok").all()
    assert (cases["source"] == "checkpoint").sum() == len(done)
    assert list(resumed.obs_names) == list(manifest["patient_id"])
    # finished cases were read back, not recomputed: their files are untouched
    assert {p: ckpt.joinpath(p).stat().st_mtime_ns for p in done} == done
    assert len(list(ckpt.glob("*.case.json"))) == len(manifest)
    fresh = rg.imaging.extract(manifest.head(2), params=ORIGINAL, progress=False)
    np.testing.assert_array_equal(resumed.X[:2], fresh.X)
    again = rg.imaging.extract(manifest, params=ORIGINAL, checkpoint=ckpt, progress=False)
    assert (again.uns["extraction"]["cases"]["source"] == "checkpoint").all()
    # other settings -> other keys: nothing is reused
    other = rg.imaging.extract(manifest.head(1), params=ORIGINAL | {"setting": {"binWidth": 10}}, checkpoint=ckpt, progress=False)  # fmt: skip
    assert other.uns["extraction"]["cases"]["source"].tolist() == ["computed"]


def _write_ct_series(folder: Path, volume: np.ndarray, spacing=(0.7, 0.8, 2.5), origin=(-10.0, 5.0, 1.0)) -> list:
    """Write a synthetic CT series (one file per slice) with pydicom; return the datasets."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder.mkdir()
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    datasets = []
    for k, plane in enumerate(volume):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.PatientID, ds.PatientName, ds.PatientBirthDate, ds.PatientSex = "SYN1", "Synthetic^One", "", "O"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 1, k + 1
        ds.StudyDate, ds.StudyTime, ds.ReferringPhysicianName, ds.AccessionNumber = "20200101", "000000", "", ""
        ds.Modality, ds.Manufacturer = "CT", "synthetic"
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [origin[0], origin[1], origin[2] + spacing[2] * k]
        ds.PixelSpacing, ds.SliceThickness = [spacing[1], spacing[0]], spacing[2]
        ds.Rows, ds.Columns = plane.shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = -1024, 1
        ds.PixelData = plane.astype(np.int16).tobytes()
        ds.save_as(folder / f"slice{k:03d}.dcm", enforce_file_format=True)
        datasets.append(ds)
    return datasets


def _segment(hd, number: int, name: str):
    return hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=name,
        segmented_property_category=hd.sr.CodedConcept("49755003", "SCT", "Morphologically Altered Structure"),
        segmented_property_type=hd.sr.CodedConcept("108369006", "SCT", "Neoplasm"),
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL,
    )


def test_dicom_series_and_dicom_seg_mask(tmp_path):
    hd = pytest.importorskip("highdicom")
    from pydicom.uid import generate_uid

    rng = np.random.default_rng(0)
    volume = rng.integers(900, 1300, size=(8, 24, 28))
    source = _write_ct_series(tmp_path / "series", volume)
    tumour = np.zeros(volume.shape, dtype=bool)
    tumour[2:6, 6:16, 8:20] = True  # slices 0, 1, 6, 7 empty: highdicom omits those frames
    necrosis = np.zeros(volume.shape, dtype=bool)
    necrosis[3:5, 8:13, 10:16] = True  # inside the tumour: the two segments overlap
    seg = hd.seg.Segmentation(
        source_images=source,
        pixel_array=np.stack([tumour, necrosis], axis=-1),
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_segment(hd, 1, "tumour"), _segment(hd, 2, "necrosis")],
        series_instance_uid=generate_uid(),
        series_number=2,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="synthetic",
        manufacturer_model_name="test",
        software_versions="0",
        device_serial_number="0",
    )
    seg.save_as(tmp_path / "seg.dcm")
    # the same data as NRRD files with the geometry written in the DICOM headers
    image = sitk.GetImageFromArray((volume - 1024).astype(np.int16))
    image.SetSpacing((0.7, 0.8, 2.5))
    image.SetOrigin((-10.0, 5.0, 1.0))
    sitk.WriteImage(image, str(tmp_path / "image.nrrd"))
    for name, array in (("tumour", tumour), ("necrosis", necrosis)):
        label = sitk.GetImageFromArray(array.astype(np.uint8))
        label.CopyInformation(image)
        sitk.WriteImage(label, str(tmp_path / f"{name}.nrrd"))
    dicom = {"image": tmp_path / "series", "mask": tmp_path / "seg.dcm", "modality": "CT"}
    nrrd = {"image": tmp_path / "image.nrrd", "modality": "CT"}
    manifest = pd.DataFrame(
        [
            {"patient_id": "dicom", "roi": "tumour", "label": 1, **dicom},
            {"patient_id": "dicom", "roi": "necrosis", "label": 2, **dicom},
            {"patient_id": "dicom", "roi": "oedema", "label": 3, **dicom},
            {"patient_id": "nrrd", "roi": "tumour", "label": 1, "mask": tmp_path / "tumour.nrrd", **nrrd},
            {"patient_id": "nrrd", "roi": "necrosis", "label": 1, "mask": tmp_path / "necrosis.nrrd", **nrrd},
        ]
    )
    with pytest.warns(UserWarning, match="1 of 5 cases failed"):
        adata = rg.imaging.extract(manifest, params=ORIGINAL, progress=False)
    reason = adata.uns["extraction"]["failures"]["reason"].item()
    assert "segment 3 absent from this DICOM-SEG; segments present: [1, 2]" in reason
    assert adata.obs["CT_tumour_mask_voxels"].tolist() == [int(tumour.sum())] * 2
    assert adata.obs["CT_necrosis_mask_voxels"].tolist() == [int(necrosis.sum())] * 2
    assert adata.obs.loc["dicom", "CT_tumour_spacing_z"] == pytest.approx(2.5)
    assert adata.obs["CT_oedema_status"].tolist() == ["failed", "absent"]
    assert adata.var["roi"].value_counts().to_dict() == {"tumour": 107, "necrosis": 107}
    np.testing.assert_allclose(adata.X[0], adata.X[1], rtol=1e-10)


def test_preprocess_resample_and_normalize():
    rng = np.random.default_rng(1)
    array = rng.normal(200, 20, size=(12, 40, 40))
    array[:, :4] = 0  # background strip (outside the body)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing((0.5, 0.5, 2.0))
    mask_array = np.zeros(array.shape, np.uint8)
    mask_array[3:9, 10:30, 12:28] = 1
    mask = sitk.GetImageFromArray(mask_array)
    mask.CopyInformation(image)
    out, out_mask, record = rg.imaging.preprocess(image, mask, spacing=1.0, normalize="zscore_mask")
    assert out.GetSpacing() == (1.0, 1.0, 1.0) and out.GetSize() == (20, 20, 24)
    assert out_mask.GetSize() == out.GetSize()
    labels = sitk.GetArrayFromImage(out_mask)
    assert set(np.unique(labels)) == {0, 1}
    volume_in = mask_array.sum() * 0.5 * 0.5 * 2.0
    assert labels.sum() * 1.0 == pytest.approx(volume_in, rel=0.05)
    inside = sitk.GetArrayFromImage(out)[labels > 0]
    assert inside.mean() == pytest.approx(0, abs=1e-5) and inside.std() == pytest.approx(1, rel=1e-5)
    assert record["normalize_region"] == "mask" and record["spacing_in"] == [0.5, 0.5, 2.0]
    body, _, rec = rg.imaging.preprocess(image, normalize="zscore")
    values = sitk.GetArrayFromImage(body)[:, 4:]  # the body found by Otsu
    assert rec["normalize_region"] == "body" and rec["normalize_mean"] == pytest.approx(200, abs=1)
    assert values.mean() == pytest.approx(0, abs=0.01) and values.std() == pytest.approx(1, rel=0.01)
    with pytest.raises(ValueError, match="needs a mask"):
        rg.imaging.preprocess(image, normalize="zscore_mask")
    with pytest.raises(ValueError, match="not supported"):
        rg.imaging.preprocess(image, normalize="minmax")
    with pytest.raises(ValueError, match="reference"):
        rg.imaging.preprocess(image, normalize="histogram")


def test_preprocess_histogram_matching():
    rng = np.random.default_rng(2)
    reference = sitk.GetImageFromArray(rng.gamma(4.0, 50.0, size=(10, 32, 32)))
    moving = sitk.GetImageFromArray(rng.gamma(4.0, 50.0, size=(10, 32, 32)) * 2.5 + 300)  # other scanner scale
    out, _, record = rg.imaging.preprocess(moving, normalize="histogram", reference=reference)
    q = [25, 50, 75, 90]
    ref_q = np.percentile(sitk.GetArrayFromImage(reference), q)
    before = np.abs(np.percentile(sitk.GetArrayFromImage(moving), q) - ref_q)
    after = np.abs(np.percentile(sitk.GetArrayFromImage(out), q) - ref_q)
    assert np.all(after < 0.1 * before)
    assert np.all(after / ref_q < 0.05)
    assert record["reference_hash"] == sitk.Hash(reference)


def test_preprocess_n4_removes_bias_field():
    z, y, x = np.mgrid[0:12, 0:48, 0:48]
    phantom = np.where((y - 24) ** 2 + (x - 24) ** 2 < 20**2, 100.0, 0.0)
    phantom[(y - 24) ** 2 + (x - 24) ** 2 < 8**2] = 150.0  # a second tissue
    bias = np.exp(0.4 * (x - 24) / 24 + 0.2 * (y - 24) / 24)  # smooth multiplicative field
    noise = np.random.default_rng(3).normal(0, 1.0, phantom.shape)
    image = sitk.GetImageFromArray((phantom * bias + noise * (phantom > 0)).astype(np.float32))
    tissue = (phantom == 100.0) & (z >= 0)

    def cv(array):
        return array[tissue].std() / array[tissue].mean()

    out, _, record = rg.imaging.preprocess(image, n4=True)
    corrected = sitk.GetArrayFromImage(out)
    assert cv(phantom * bias) > 0.15
    assert cv(corrected) < 0.5 * cv(phantom * bias)
    assert record["n4"] is True and record["n4_shrink"] == [4, 4, 1]
    ct = sitk.GetImageFromArray(np.full((4, 16, 16), -1000.0))
    with pytest.raises(ValueError, match="positive intensities"):
        rg.imaging.preprocess(ct, n4=True)


def test_extract_with_preprocess_and_h5mu_round_trip(tmp_path):
    manifest = pd.DataFrame([_case("p1"), _case("p2", image=str(tmp_path / "missing.nrrd"))])
    prep = {"spacing": [1.0, 1.0, 1.0], "normalize": "zscore"}
    params = ORIGINAL | {"setting": {"binWidth": 0.25}}
    with pytest.warns(UserWarning, match="1 of 2 cases failed"):
        adata = rg.imaging.extract(manifest, params=params, preprocess=prep, progress=False)
    record = json.loads(adata.obs.loc["p1", "image_roi_preprocess"])
    assert record["spacing_out"] == [1.0, 1.0, 1.0] and record["normalize"] == "zscore"
    assert json.loads(adata.uns["extraction"]["preprocess"]) == prep
    plain = rg.imaging.extract(manifest.head(1), params=params, progress=False)
    mean = "image_roi_original_firstorder_Mean"
    assert abs(adata[:, mean].X[0, 0]) < 5 < plain[:, mean].X[0, 0]  # z-scored vs raw intensities
    mdata = rg.io.build_mudata({"radiomics": adata}, id_rule=None)
    path = rg.io.write_h5mu(mdata, tmp_path / "cohort.h5mu")
    back = rg.io.read_h5mu(path)["radiomics"]
    np.testing.assert_array_equal(back.X, mdata["radiomics"].X)
    pd.testing.assert_frame_equal(back.var, mdata["radiomics"].var)
    info = back.uns["extraction"]
    assert info["failures"]["reason"].str.startswith("cannot read image").all()
    assert info["params"] == adata.uns["extraction"]["params"]
    assert list(info["cases"]["source"]) == ["computed", "computed"]


def test_geometry_difference_names_what_differs():
    from radiogenomics.imaging._io import geometry_difference

    image = sitk.Image([10, 12, 5], sitk.sitkInt16)
    assert geometry_difference(image, sitk.Image(image)) is None
    mask = sitk.Image([10, 12, 6], sitk.sitkUInt8)
    mask.SetOrigin((0.0, 2.5, 0.0))
    mask.SetDirection((0, 1, 0, 1, 0, 0, 0, 0, 1))
    message = geometry_difference(image, mask)
    assert message.startswith("size (10, 12, 5) (image) vs (10, 12, 6) (mask)")
    assert "origin (0, 0, 0) (image) vs (0, 2.5, 0) (mask)" in message
    assert "direction" in message and "spacing" not in message


def test_nifti_and_mha_inputs_give_the_nrrd_features(tmp_path):
    rows = [_case("nrrd")]
    for ext in ("nii.gz", "mha"):
        for part in ("image", "label"):
            sitk.WriteImage(sitk.ReadImage(str(DATA / f"breast1_{part}.nrrd")), str(tmp_path / f"{part}.{ext}"))
        rows.append(
            {"patient_id": ext, "image": str(tmp_path / f"image.{ext}"), "mask": str(tmp_path / f"label.{ext}")}
        )
    params = ORIGINAL | {"featureClass": {"firstorder": None, "glcm": None, "shape": None}}
    adata = rg.imaging.extract(pd.DataFrame(rows), params=params, progress=False)
    assert adata.uns["extraction"]["failures"].empty
    np.testing.assert_allclose(adata.X[1], adata.X[0], rtol=1e-5)  # NIfTI stores the geometry in float32
    np.testing.assert_array_equal(adata.X[2], adata.X[0])


@pytest.mark.parametrize("name", ["CT", "MR"])
def test_shipped_parameter_files_are_valid_pyradiomics_settings(name):
    from radiogenomics.imaging._extract import _effective_params, _load_params

    raw, source = _load_params(name)
    assert source.endswith(f"params/{name}.yaml")
    effective = _effective_params(raw)
    assert set(effective["imageType"]) == {"Original", "LoG", "Wavelet"}
    assert effective["setting"]["resampledPixelSpacing"] == ([1, 1, 1] if name == "CT" else [2, 2, 2])
    assert effective["setting"]["normalize"] is (name == "MR")
    assert "SumAverage" not in effective["featureClass"]["glcm"]


def test_preprocessed_results_do_not_depend_on_threads_or_backend():
    # N4's result depends on the number of ITK threads; each case runs single-threaded, so the
    # caller's (or the machine's) thread setting and the backend do not change the features
    manifest = pd.DataFrame([_case("a"), _case("b")])
    params = ORIGINAL | {"featureClass": {"firstorder": None, "glcm": None}}
    prep = {"n4": True, "spacing": 1.0}
    before = sitk.ProcessObject.GetGlobalDefaultNumberOfThreads()
    try:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(2)
        two = rg.imaging.extract(manifest, params=params, preprocess=prep, progress=False)
        assert sitk.ProcessObject.GetGlobalDefaultNumberOfThreads() == 2  # restored after each case
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
        one = rg.imaging.extract(manifest, params=params, preprocess=prep, progress=False)
    finally:
        sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(before)
    pooled = rg.imaging.extract(manifest, params=params, preprocess=prep, n_jobs=2, progress=False)
    np.testing.assert_array_equal(one.X, two.X)
    np.testing.assert_array_equal(pooled.X, two.X)
    assert two.uns["extraction"]["itk_threads"] == 1
    record = json.loads(two.obs.loc["a", "image_roi_preprocess"])
    assert record["n4"] is True and record["spacing_out"] == [1.0, 1.0, 1.0]
