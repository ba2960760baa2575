"""DICOM series folders (TCIA downloads) -> volume plus scanner metadata for harmonisation."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import pandas as pd

from radiogenomics.errors import DataFormatError
from radiogenomics.io._text import check_path

if TYPE_CHECKING:
    from os import PathLike
    from pathlib import Path

__all__ = ["DicomSeries", "read_dicom_series"]

# header column -> DICOM keyword
HEADER_TAGS = {
    "patient_id": "PatientID",
    "modality": "Modality",
    "manufacturer": "Manufacturer",
    "model": "ManufacturerModelName",
    "kernel": "ConvolutionKernel",
    "slice_thickness": "SliceThickness",
    "field_strength": "MagneticFieldStrength",
    "kvp": "KVP",
    "study_date": "StudyDate",
    "series_description": "SeriesDescription",
    "series_uid": "SeriesInstanceUID",
    "institution": "InstitutionName",
}


class DicomSeries(NamedTuple):
    """A DICOM series read by :func:`read_dicom_series`."""

    volume: np.ndarray
    """Voxel values after RescaleSlope/RescaleIntercept (e.g. HU for CT), shape (slices, rows, columns)."""
    spacing: tuple[float, float, float]
    """Voxel spacing in mm: (between slices, between rows, between columns)."""
    origin: tuple[float, float, float]
    """ImagePositionPatient of the first slice (x, y, z in mm)."""
    header: pd.DataFrame
    """One row (indexed by PatientID) of scanner and acquisition metadata."""


def _value(ds, keyword: str):
    value = getattr(ds, keyword, None)
    if value is None or value == "":
        return None
    if isinstance(value, str | int | float):
        return value
    if hasattr(value, "__float__") and not isinstance(value, list | tuple):
        try:
            return float(value)
        except (TypeError, ValueError):
            return str(value)
    if hasattr(value, "__iter__") and not isinstance(value, str | bytes):
        return "\\".join(str(v) for v in value)
    return str(value)


def _load_slices(folder: Path):
    import pydicom
    from pydicom.errors import InvalidDicomError

    slices, skipped = [], []
    for f in sorted(p for p in folder.iterdir() if p.is_file()):
        try:
            slices.append(pydicom.dcmread(f))
        except InvalidDicomError:
            skipped.append(f.name)
    if skipped:
        msg = f"read_dicom_series: {len(skipped)} non-DICOM file(s) in {str(folder)!r} ignored: {skipped[:5]}."
        warnings.warn(msg, UserWarning, stacklevel=3)
    return slices


def read_dicom_series(folder: PathLike[str] | str, *, series_uid: str | None = None) -> DicomSeries:
    """Read one DICOM series (e.g. a TCIA download folder) into a volume and its scanner metadata.

    Slices are sorted along the slice normal by ``ImagePositionPatient`` (not by file name or
    ``InstanceNumber``) and each slice is rescaled with its own ``RescaleSlope`` and
    ``RescaleIntercept``. The header keeps what harmonisation needs (site and scanner).

    Parameters
    ----------
    folder
        Folder holding the slices of one series (other series can be present if ``series_uid``
        is given; non-DICOM files are ignored with a warning).
    series_uid
        ``SeriesInstanceUID`` to read when the folder has several series.

    Returns
    -------
    :class:`DicomSeries` with ``volume`` (float64, slices x rows x columns), ``spacing`` (mm),
    ``origin`` and ``header``: one row indexed by ``PatientID`` with ``patient_id``,
    ``modality``, ``manufacturer``, ``model``, ``kernel`` (ConvolutionKernel, CT),
    ``slice_thickness``, ``field_strength`` (MagneticFieldStrength, MR), ``kvp``,
    ``study_date``, ``series_description``, ``series_uid``, ``institution``, ``n_slices``,
    ``rows``, ``columns``, ``pixel_spacing`` and ``slice_spacing``. Absent tags are missing.

    Raises
    ------
    MissingFileError
        No folder at ``folder``.
    DataFormatError
        ``folder`` is a file, not a folder; no DICOM slice, several series without ``series_uid``, slices of different sizes or
        orientations, two slices at the same position.

    Examples
    --------
    >>> import tempfile
    >>> import data_loaders as dl
    >>> from data_loaders._dicom_example import write_ct_series
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     expected = write_ct_series(tmp, n_slices=3)
    ...     series = dl.read_dicom_series(tmp)
    >>> series.volume.shape, bool((series.volume == expected).all())
    ((3, 64, 64), True)
    >>> print(*series.header.loc["TCGA-02-0001", ["modality", "manufacturer", "kernel", "slice_thickness"]], sep=" | ")
    CT | GE MEDICAL SYSTEMS | STANDARD | 2.5
    """
    path = check_path(folder, "DICOM series", kind="folder")
    slices = [s for s in _load_slices(path) if hasattr(s, "PixelData")]
    if not slices:
        msg = f"No DICOM image slice found in {str(path)!r}."
        raise DataFormatError(msg)
    uids = sorted({str(getattr(s, "SeriesInstanceUID", "")) for s in slices})
    if series_uid is not None:
        slices = [s for s in slices if str(getattr(s, "SeriesInstanceUID", "")) == series_uid]
        if not slices:
            msg = f"Series {series_uid!r} not found in {str(path)!r}; series present: {uids}."
            raise DataFormatError(msg)
    elif len(uids) > 1:
        msg = f"{str(path)!r} holds {len(uids)} series ({uids[:3]} ...); pass series_uid= to choose one."
        raise DataFormatError(msg)
    shapes = {(int(s.Rows), int(s.Columns)) for s in slices}
    if len(shapes) > 1:
        msg = f"Slices in {str(path)!r} have different sizes {sorted(shapes)}; they are not one volume."
        raise DataFormatError(msg)
    slices, positions = _sort(slices, path)
    volume = np.stack(
        [
            s.pixel_array.astype(np.float64) * float(getattr(s, "RescaleSlope", 1) or 1)
            + float(getattr(s, "RescaleIntercept", 0) or 0)
            for s in slices
        ]
    )
    gaps = np.diff(positions)
    slice_spacing = float(np.median(gaps)) if len(gaps) else float(getattr(slices[0], "SliceThickness", 1.0) or 1.0)
    if len(gaps) and np.ptp(gaps) > 0.01 * max(slice_spacing, 1e-6):
        msg = f"Uneven slice spacing in {str(path)!r} ({gaps.min():.3g}-{gaps.max():.3g} mm): missing slices? Resample before feature extraction."
        warnings.warn(msg, UserWarning, stacklevel=2)
    first = slices[0]
    pixel = [float(v) for v in getattr(first, "PixelSpacing", [1.0, 1.0])]
    row = {name: _value(first, keyword) for name, keyword in HEADER_TAGS.items()}
    for name in ("slice_thickness", "field_strength", "kvp"):
        row[name] = float(row[name]) if row[name] is not None else np.nan
    row.update(
        n_slices=len(slices),
        rows=int(first.Rows),
        columns=int(first.Columns),
        pixel_spacing=pixel[0],
        slice_spacing=slice_spacing,
    )
    header = pd.DataFrame([row], index=pd.Index([str(row["patient_id"] or "")]))
    x, y, z = (float(v) for v in getattr(first, "ImagePositionPatient", [0.0, 0.0, 0.0]))
    origin = (x, y, z)
    return DicomSeries(volume=volume, spacing=(slice_spacing, pixel[0], pixel[1]), origin=origin, header=header)


def _sort(slices, path: Path):
    if all(hasattr(s, "ImagePositionPatient") and hasattr(s, "ImageOrientationPatient") for s in slices):
        orientations = {tuple(round(float(v), 4) for v in s.ImageOrientationPatient) for s in slices}
        if len(orientations) > 1:
            msg = f"Slices in {str(path)!r} have different orientations; they are not one volume."
            raise DataFormatError(msg)
        o = np.array(next(iter(orientations)), dtype=float)
        normal = np.cross(o[:3], o[3:])
        pos = np.array([float(np.dot(normal, [float(v) for v in s.ImagePositionPatient])) for s in slices])
    else:
        msg = f"Slices in {str(path)!r} lack ImagePositionPatient; sorted by InstanceNumber instead."
        warnings.warn(msg, UserWarning, stacklevel=3)
        pos = np.array([float(getattr(s, "InstanceNumber", i)) for i, s in enumerate(slices)])
    order = np.argsort(pos, kind="stable")
    pos = pos[order]
    if len(pos) > 1 and np.any(np.diff(pos) == 0):
        msg = f"Two slices in {str(path)!r} share the position {pos[np.flatnonzero(np.diff(pos) == 0)[0]]:.3g} mm (duplicate files?)."
        raise DataFormatError(msg)
    return [slices[i] for i in order], pos
