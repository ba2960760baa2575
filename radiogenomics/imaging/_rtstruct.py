"""RTSTRUCT contours to voxel masks: even-odd filling at voxel centres, slice by slice.

An RTSTRUCT stores each ROI as closed planar polygons in patient coordinates (mm), one or
more per slice. DICOM does not say how nested polygons combine; the convention of the
common converters (and of the IBSI sarcoma masks made with MIRP) is the even-odd rule: a
voxel is inside when a ray from its centre crosses the ROI's polygons on that slice an odd
number of times, so a polygon inside another cuts a hole and disjoint polygons add up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataFormatError

if TYPE_CHECKING:
    import os

    import SimpleITK as sitk

RTSTRUCT_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.481.3"  # RT Structure Set Storage
SLICE_TOLERANCE = 0.25  # voxels: how far a contour may lie from a slice centre


def is_rtstruct(path: Path) -> bool:
    """Whether ``path`` is a DICOM RT Structure Set (reads the SOP Class UID only)."""
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID", "Modality"])
    except (OSError, pydicom.errors.InvalidDicomError):
        return False
    return str(ds.get("SOPClassUID", "")) == RTSTRUCT_SOP_CLASS or ds.get("Modality") == "RTSTRUCT"


def _dataset(path: str | os.PathLike):
    import pydicom

    return pydicom.dcmread(path, stop_before_pixels=True)


def rtstruct_rois(ds) -> pd.DataFrame:
    """One row per ROI of an RTSTRUCT dataset: number, name, frame of reference, contour count."""
    contours = {int(c.ReferencedROINumber): c for c in ds.get("ROIContourSequence", [])}
    rows = []
    for roi in ds.get("StructureSetROISequence", []):
        number = int(roi.ROINumber)
        seq = contours[number].get("ContourSequence", []) if number in contours else []
        rows.append(
            {
                "roi_number": number,
                "roi_name": str(roi.get("ROIName", "")),
                "frame_of_reference_uid": str(roi.get("ReferencedFrameOfReferenceUID", "")),
                "n_contours": len(seq),
            }
        )
    return pd.DataFrame(rows, columns=["roi_number", "roi_name", "frame_of_reference_uid", "n_contours"])


def referenced_series(ds) -> list[str]:
    """SeriesInstanceUIDs the RTSTRUCT says it was drawn on (ReferencedFrameOfReferenceSequence)."""
    out = []
    for frame in ds.get("ReferencedFrameOfReferenceSequence", []):
        for study in frame.get("RTReferencedStudySequence", []):
            out += [str(s.SeriesInstanceUID) for s in study.get("RTReferencedSeriesSequence", [])]
    return out


def referenced_instances(ds) -> set[str]:
    """SOPInstanceUIDs of the image slices the contours point to (ContourImageSequence)."""
    return {
        str(item.ReferencedSOPInstanceUID)
        for roi in ds.get("ROIContourSequence", [])
        for contour in roi.get("ContourSequence", [])
        for item in contour.get("ContourImageSequence", [])
    }


def roi_contours(ds, roi_name: str, *, source: object = "RTSTRUCT") -> list[np.ndarray]:
    """Closed planar polygons of ROI ``roi_name``: a list of (n_points, 3) arrays in patient mm.

    Raises
    ------
    DataFormatError
        When the ROI is absent (the message lists the ROIs present) or has a point or open contour.
    """
    rois = rtstruct_rois(ds)
    if not roi_name:
        if len(rois) != 1:
            msg = f"{source}: holds {len(rois)} ROIs {list(rois['roi_name'])}; name one with mask_roi."
            raise DataFormatError(msg)
        roi_name = str(rois["roi_name"].iloc[0])
    hit = rois[rois["roi_name"] == roi_name]
    if hit.empty:
        msg = f"{source}: ROI {roi_name!r} not found; ROIs present: {list(rois['roi_name'])}"
        raise DataFormatError(msg)
    number = int(hit["roi_number"].iloc[0])
    out = []
    for roi in ds.get("ROIContourSequence", []):
        if int(roi.ReferencedROINumber) != number:
            continue
        for contour in roi.get("ContourSequence", []):
            kind = str(contour.get("ContourGeometricType", "CLOSED_PLANAR"))
            if kind != "CLOSED_PLANAR":
                msg = f"{source}: ROI {roi_name!r} has a {kind} contour; only CLOSED_PLANAR polygons make a volume."
                raise DataFormatError(msg)
            out.append(np.asarray(contour.ContourData, dtype=float).reshape(-1, 3))
    if not out:
        msg = f"{source}: ROI {roi_name!r} has no contour."
        raise DataFormatError(msg)
    return out


def _to_index(points: np.ndarray, reference: sitk.Image) -> np.ndarray:
    """Patient coordinates (n, 3) -> continuous voxel indices (n, 3) in (x, y, z) order."""
    direction = np.asarray(reference.GetDirection(), dtype=float).reshape(3, 3)
    scale = direction * np.asarray(reference.GetSpacing(), dtype=float)
    return np.linalg.solve(scale, (points - np.asarray(reference.GetOrigin(), dtype=float)).T).T


def fill_even_odd(polygons: list[np.ndarray], shape: tuple[int, int]) -> np.ndarray:
    """Fill polygons (each (n, 2) in (x, y) voxel-index coordinates) on a (ny, nx) grid, even-odd rule.

    A voxel centre (integer x, y) is inside when a ray towards +x crosses the polygon edges an
    odd number of times. Edges count on the half-open rule (y1 <= y < y2), so a vertex is
    never counted twice.
    """
    ny, nx = shape
    out = np.zeros(shape, dtype=bool)
    starts = np.concatenate(polygons)
    ends = np.concatenate([np.roll(p, -1, axis=0) for p in polygons])
    cols = np.arange(nx)
    lo = np.minimum(starts[:, 1], ends[:, 1])
    hi = np.maximum(starts[:, 1], ends[:, 1])
    for y in range(max(0, int(np.floor(lo.min()))), min(ny, int(np.ceil(hi.max())) + 1)):
        cross = (starts[:, 1] <= y) != (ends[:, 1] <= y)
        if not cross.any():
            continue
        s, e = starts[cross], ends[cross]
        xs = np.sort(s[:, 0] + (y - s[:, 1]) * (e[:, 0] - s[:, 0]) / (e[:, 1] - s[:, 1]))
        n_right = len(xs) - np.searchsorted(xs, cols, side="right")
        out[y] = n_right % 2 == 1
    return out


def rasterize(contours: list[np.ndarray], reference: sitk.Image, *, source: object = "RTSTRUCT") -> np.ndarray:
    """Voxel mask (z, y, x) of closed planar contours on the grid of ``reference``, even-odd per slice.

    Raises
    ------
    DataFormatError
        When a contour is not on one image slice (tilted or between slices) or every contour is
        outside the image.
    """
    nx, ny, nz = reference.GetSize()
    slices: dict[int, list[np.ndarray]] = {}
    outside = 0
    for number, points in enumerate(contours):
        index = _to_index(points, reference)
        z = float(np.median(index[:, 2]))
        k = round(z)
        if np.max(np.abs(index[:, 2] - k)) > SLICE_TOLERANCE:
            msg = (
                f"{source}: contour {number} lies at slice index {z:.3f}, not on an image slice "
                f"(tolerance {SLICE_TOLERANCE} voxel); resample the image or check the frame of reference."
            )
            raise DataFormatError(msg)
        if not 0 <= k < nz:
            outside += 1
            continue
        slices.setdefault(k, []).append(index[:, :2])
    if not slices:
        msg = f"{source}: all {len(contours)} contours lie outside the image (slices 0-{nz - 1})."
        raise DataFormatError(msg)
    if outside:
        import warnings

        msg = f"{source}: {outside} of {len(contours)} contours lie outside the image slices and were not drawn."
        warnings.warn(msg, UserWarning, stacklevel=2)
    mask = np.zeros((nz, ny, nx), dtype=bool)
    for k, polygons in slices.items():
        mask[k] = fill_even_odd(polygons, (ny, nx))
    return mask


def read_rtstruct(path: str | os.PathLike, reference: sitk.Image, roi_name: str = "") -> sitk.Image:
    """Read ROI ``roi_name`` of an RTSTRUCT file as a 0/1 mask on the grid of ``reference``.

    ``roi_name`` may be empty when the file holds one ROI. The contours are filled with the
    even-odd rule at voxel centres (holes and several contours per slice handled).
    """
    import SimpleITK as sitk

    contours = roi_contours(_dataset(path), roi_name, source=Path(path))
    array = rasterize(contours, reference, source=f"{path} ROI {roi_name!r}")
    mask = sitk.GetImageFromArray(array.astype(np.uint8))
    mask.CopyInformation(reference)
    return mask


def match_roi(name: str, patterns: list[str]) -> bool:
    """Whether ROI ``name`` equals one of ``patterns`` (case-insensitive) or fully matches one as a regex."""
    for pattern in patterns:
        if name.lower() == pattern.lower():
            return True
        try:
            if re.fullmatch(pattern, name, flags=re.IGNORECASE):
                return True
        except re.error:
            continue
    return False
