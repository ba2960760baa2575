"""Image and mask readers: NIfTI, NRRD, MHA, DICOM series folders and DICOM-SEG masks (SimpleITK, highdicom)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataFormatError, MissingFileError

if TYPE_CHECKING:
    import os

    import SimpleITK as sitk

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"  # Segmentation Storage
# "Same grid" for image and mask, with ITK's rule (the one pyradiomics' checks use): origin and spacing
# may differ by GEOMETRY_TOLERANCE x the image's first spacing, direction cosines by GEOMETRY_TOLERANCE.
# 1e-4 of a voxel absorbs the float32 rounding of NIfTI headers (~2e-6 mm), and nothing a user could see.
GEOMETRY_TOLERANCE = 1e-4


def _is_dicom_file(path: Path) -> bool:
    if path.suffix.lower() == ".dcm":
        return True
    try:
        with path.open("rb") as fh:
            fh.seek(128)
            return fh.read(4) == b"DICM"
    except OSError:
        return False


def _is_dicom_seg(path: Path) -> bool:
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=["SOPClassUID"])
    except (OSError, pydicom.errors.InvalidDicomError):
        return False
    return str(ds.get("SOPClassUID", "")) == SEG_SOP_CLASS


def _read_dicom_series(folder: Path, series_uid: str = "") -> sitk.Image:
    import SimpleITK as sitk

    reader = sitk.ImageSeriesReader()
    series = reader.GetGDCMSeriesIDs(str(folder))
    if not series:
        msg = f"{folder}: no DICOM series found in this folder (expected one folder per series)."
        raise DataFormatError(msg)
    if series_uid:
        if series_uid not in series:
            msg = f"{folder}: series {series_uid} not found here; series present: {', '.join(series)}"
            raise DataFormatError(msg)
        series = [series_uid]
    if len(series) > 1:
        msg = (
            f"{folder}: the folder holds {len(series)} DICOM series ({', '.join(series)}); "
            "put each series in its own folder and list that folder in the manifest."
        )
        raise DataFormatError(msg)
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(str(folder), series[0]))
    return reader.Execute()


def _existing(path: str | os.PathLike) -> Path:
    """``path`` as a :class:`~pathlib.Path`; :class:`MissingFileError` naming it if it does not exist."""
    path = Path(path)
    if not path.exists():
        msg = f"{path}: file or folder not found."
        raise MissingFileError(msg)
    return path


def read_image(path: str | os.PathLike) -> sitk.Image:
    """Read an image file (NIfTI, NRRD, MHA, single DICOM) or a DICOM series folder with SimpleITK."""
    import SimpleITK as sitk

    path = _existing(path)
    if path.is_dir():
        return _read_dicom_series(path)
    try:
        return sitk.ReadImage(str(path))
    except RuntimeError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unknown error"
        msg = f"{path}: SimpleITK cannot read this file ({first}); is it a complete NIfTI/NRRD/MHA/DICOM file?"
        raise DataFormatError(msg) from e


def _seg_file(path: Path) -> Path | None:
    """Return the DICOM-SEG file at ``path`` (a file, or a folder holding exactly one SEG), else None."""
    if path.is_file():
        return path if _is_dicom_file(path) and _is_dicom_seg(path) else None
    if path.is_dir():
        segs = [p for p in sorted(path.iterdir()) if p.is_file() and _is_dicom_seg(p)]
        return segs[0] if len(segs) == 1 else None
    return None


def read_dicom_seg(path: str | os.PathLike, reference: sitk.Image, label: int | None = None) -> sitk.Image:
    """Read a DICOM-SEG file with highdicom and place its segments on the grid of ``reference``.

    The result is a label map whose values are segment numbers (so a manifest ``label`` is a
    segment number). With ``label``, only that segment is read, so overlapping segments (e.g. a
    whole tumour containing its necrosis) are fine. Frames omitted from the SEG are background.
    """
    import highdicom as hd
    import SimpleITK as sitk

    seg = hd.seg.segread(str(path))
    numbers = [int(n) for n in seg.segment_numbers]
    if label is not None and label not in numbers:
        msg = f"{path}: segment {label} absent from this DICOM-SEG; segments present: {numbers}"
        raise DataFormatError(msg)
    try:
        volume = seg.get_volume(
            segment_numbers=[label] if label is not None else None,
            combine_segments=True,
            allow_missing_positions=True,
            dtype=np.uint16,
        )
    except (ValueError, RuntimeError) as e:
        msg = f"{path}: this DICOM-SEG does not describe a regularly spaced 3D volume ({e})."
        raise DataFormatError(msg) from e
    labels = volume.to_simpleitk()
    # The SEG may cover only the slices containing the segment: map it onto the image grid.
    return sitk.Resample(labels, reference, sitk.Transform(), sitk.sitkNearestNeighbor, 0, sitk.sitkUInt16)


def read_mask(path: str | os.PathLike, reference: sitk.Image, label: int | None = None) -> sitk.Image:
    """Read a mask: an image file, a DICOM series folder, or a DICOM-SEG file (placed on ``reference``'s grid).

    ``label`` selects one segment of a DICOM-SEG (ignored for label-map files).
    """
    import SimpleITK as sitk

    path = _existing(path)
    seg = _seg_file(path)
    mask = read_dicom_seg(seg, reference, label) if seg is not None else read_image(path)
    if mask.GetNumberOfComponentsPerPixel() != 1:
        msg = f"{path}: the mask has {mask.GetNumberOfComponentsPerPixel()} components per voxel; expected a label map."
        raise DataFormatError(msg)
    if mask.GetPixelID() in (sitk.sitkFloat32, sitk.sitkFloat64):
        array = sitk.GetArrayViewFromImage(mask)
        if not np.all(np.isfinite(array)) or not np.array_equal(array, np.round(array)):
            msg = f"{path}: the mask holds non-integer values; a mask must be a label map (0 = background)."
            raise DataFormatError(msg)
        mask = sitk.Cast(mask, sitk.sitkInt32)
    return mask


def _fmt(values: np.ndarray, digits: int) -> str:
    return "(" + ", ".join(f"{float(v):.{digits}g}" for v in values) + ")"


def geometry_difference(image: sitk.Image, mask: sitk.Image, tolerance: float = GEOMETRY_TOLERANCE) -> str | None:
    """Describe how the grids of ``image`` and ``mask`` differ (size, spacing, origin, direction); None if equal.

    ``tolerance`` follows ITK (and so pyradiomics' ``geometryTolerance``): spacing and origin are
    equal within ``tolerance`` x the image's first spacing, direction cosines within ``tolerance``.
    """
    diffs = []
    if image.GetDimension() != mask.GetDimension():
        return f"dimension {image.GetDimension()} (image) vs {mask.GetDimension()} (mask)"
    if image.GetSize() != mask.GetSize():
        diffs.append(f"size {image.GetSize()} (image) vs {mask.GetSize()} (mask)")
    spacing_i, spacing_m = np.array(image.GetSpacing()), np.array(mask.GetSpacing())
    coordinate = tolerance * abs(float(spacing_i[0]))  # ITK's ImageToImageFilter::VerifyInputInformation
    origin_i, origin_m = np.array(image.GetOrigin()), np.array(mask.GetOrigin())
    for name, a, b, digits in (("spacing", spacing_i, spacing_m, 6), ("origin", origin_i, origin_m, 7)):
        gap = np.max(np.abs(a - b))
        if gap > coordinate:
            diffs.append(f"{name} {_fmt(a, digits)} (image) vs {_fmt(b, digits)} (mask), up to {gap:.2g} mm apart")
    dir_i, dir_m = np.array(image.GetDirection()), np.array(mask.GetDirection())
    if np.max(np.abs(dir_i - dir_m)) > tolerance:
        diffs.append(f"direction {_fmt(dir_i, 4)} (image) vs {_fmt(dir_m, 4)} (mask)")
    return "; ".join(diffs) if diffs else None


def resample_to(mask: sitk.Image, reference: sitk.Image) -> sitk.Image:
    """Resample a label map onto the grid of ``reference`` with nearest-neighbour interpolation."""
    import SimpleITK as sitk

    return sitk.Resample(mask, reference, sitk.Transform(), sitk.sitkNearestNeighbor, 0, mask.GetPixelID())


RECORD_PREFIX = "radiogenomics_"  # metadata keys set on images by the readers below, recorded by extract


def read_case_image(case: dict) -> sitk.Image:
    """Read a manifest case's image: ``image`` path, optional ``series_uid``, and ``suv="bw"`` for PET."""
    path = Path(case["image"])
    uid = str(case.get("series_uid") or "")
    image = _read_dicom_series(path, uid) if uid and path.is_dir() else read_image(path)
    if case.get("suv") == "bw":
        from ._suv import suv_bw_image

        image = suv_bw_image(image, path, series_uid=uid)
    return image


def read_case_mask(case: dict, reference: sitk.Image) -> sitk.Image:
    """Read a manifest case's mask: image/DICOM-SEG as :func:`read_mask`, or an RTSTRUCT ROI (``mask_roi``).

    With ``ring_mm`` the mask becomes the peritumoral ring of that width around the ROI
    (clipped to ``body_threshold`` when given).
    """
    import SimpleITK as sitk

    from ._rtstruct import is_rtstruct, read_rtstruct

    path = Path(case["mask"])
    label = int(case["label"])
    if path.is_file() and is_rtstruct(path):
        binary = read_rtstruct(path, reference, str(case.get("mask_roi") or ""))
        mask = sitk.Cast(binary, sitk.sitkUInt16) * label
    elif case.get("mask_roi"):
        msg = f"{path}: mask_roi={case['mask_roi']!r} given but this file is not an RTSTRUCT."
        raise DataFormatError(msg)
    else:
        mask = read_mask(path, reference, label)
    ring = case.get("ring_mm")
    if ring is not None and np.isfinite(ring):
        from ._subregions import ring_mask

        body = case.get("body_threshold")
        body = float(body) if body is not None and np.isfinite(body) else None
        roi = sitk.Equal(mask, label) if mask.GetSize() == reference.GetSize() else None
        if roi is None or geometry_difference(reference, mask):
            msg = f"{path}: a peritumoral ring needs the mask on the image grid; {geometry_difference(reference, mask)}"
            raise DataFormatError(msg)
        mask = sitk.Cast(ring_mask(roi, reference, float(ring), body_threshold=body), sitk.sitkUInt16) * label
    return mask


def reader_record(image: sitk.Image) -> dict:
    """Values the readers recorded on ``image`` (e.g. SUV factor and decay correction), without the key prefix."""
    out = {}
    for key in image.GetMetaDataKeys():
        if key.startswith(RECORD_PREFIX):
            value = image.GetMetaData(key)
            try:
                out[key[len(RECORD_PREFIX) :]] = float(value)
            except ValueError:
                out[key[len(RECORD_PREFIX) :]] = value
    return out
