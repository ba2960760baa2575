"""Write a tiny synthetic CT series with pydicom (used by tests and docstring examples)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_ct_series"]


def write_ct_series(
    folder: Path | str,
    *,
    n_slices: int = 3,
    size: int = 64,
    patient_id: str = "TCGA-02-0001",
    slice_thickness: float = 2.5,
    intercept: float = -1024.0,
    slope: float = 1.0,
    seed: int = 0,
) -> np.ndarray:
    """Write ``n_slices`` CT slices (files in reverse order of position) and return the HU volume."""
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    stored = rng.integers(0, 2000, size=(n_slices, size, size), dtype=np.uint16)
    series, study = generate_uid(), generate_uid()
    for k in range(n_slices):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CTImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = pydicom.Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, meta.MediaStorageSOPInstanceUID
        ds.PatientID, ds.PatientName, ds.Modality = patient_id, "Anonymous", "CT"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Manufacturer, ds.ManufacturerModelName, ds.ConvolutionKernel = (
            "GE MEDICAL SYSTEMS",
            "LightSpeed16",
            "STANDARD",
        )
        ds.SliceThickness, ds.KVP, ds.PixelSpacing = slice_thickness, 120, [0.7, 0.7]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-22.4, -22.4, -50.0 + slice_thickness * k]
        ds.InstanceNumber = n_slices - k  # deliberately opposite to the spatial order
        ds.Rows = ds.Columns = size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
        ds.PixelData = stored[k].tobytes()
        ds.save_as(folder / f"IM{n_slices - k:04d}.dcm", enforce_file_format=True)
    return stored.astype(np.float64) * slope + intercept
