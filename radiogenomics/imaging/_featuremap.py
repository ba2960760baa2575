"""Voxel-wise feature maps (pyradiomics voxel-based extraction) and reading one manifest case."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import DataFormatError, InputTypeError, OutOfRangeError, ParameterError
from ._manifest import read_manifest

if TYPE_CHECKING:
    import pandas as pd
    import SimpleITK as sitk

CLASSES = ("firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")


def read_case(manifest: pd.DataFrame, row: int = 0) -> tuple[sitk.Image, sitk.Image]:
    """Read the image and mask of one manifest row as :func:`radiogenomics.imaging.extract` reads them.

    RTSTRUCT ROIs are rasterised, PET converted to SUV (``suv="bw"``), rings built (``ring_mm``).

    Parameters
    ----------
    manifest
        An extraction manifest (e.g. from :func:`radiogenomics.imaging.index_dicom`).
    row
        Position of the row to read.

    Returns
    -------
    ``(image, mask)`` as SimpleITK images on the same grid; the mask holds the row's ``label``.

    Examples
    --------
    >>> import SimpleITK as sitk
    >>> import radiogenomics as rg
    >>> manifest, _ = rg.imaging.index_dicom(rg.datasets.sarcoma_dicom(), roi="GTV_Mass_PET")
    >>> image, mask = rg.imaging.read_case(manifest)
    >>> image.GetSize(), int(sitk.GetArrayFromImage(mask).sum())
    ((30, 27, 48), 555)
    """
    from ._io import read_case_image, read_case_mask

    cases = read_manifest(manifest)
    if not -len(cases) <= row < len(cases):
        msg = f"row {row} out of range: the manifest has {len(cases)} rows."
        raise OutOfRangeError(msg)
    case = cases.iloc[row].to_dict()
    image = read_case_image(case)
    return image, read_case_mask(case, image)


def _as_image(value: Any, what: str) -> sitk.Image:
    import SimpleITK as sitk

    if isinstance(value, sitk.Image):
        return value
    if isinstance(value, str | os.PathLike):
        from ._io import read_image

        return read_image(value)
    msg = f"{what} must be a SimpleITK image or a file path, got {type(value).__name__}."
    raise InputTypeError(msg)


def _feature_name(feature: str) -> tuple[str, str]:
    parts = feature.split("_")
    if parts[0] == "original":
        parts = parts[1:]
    if len(parts) != 2 or parts[0] not in CLASSES:
        msg = f"feature {feature!r}: give '<class>_<feature>' with class in {CLASSES}, e.g. 'glcm_Contrast'."
        raise ParameterError(msg)
    return parts[0], parts[1]


def feature_map(
    image: sitk.Image | str | os.PathLike,
    mask: sitk.Image | str | os.PathLike,
    feature: str,
    *,
    kernel_radius: int = 1,
    label: int = 1,
    params: dict[str, Any] | None = None,
) -> sitk.Image:
    """Compute a voxel-wise map of one radiomic feature inside the ROI (pyradiomics voxel-based extraction).

    For every ROI voxel, the feature is computed in the cube of ``kernel_radius`` voxels around it,
    using only the ROI voxels of that cube (pyradiomics ``maskedKernel``). The map shows where in
    the tumour a (signature) feature is high (van Griethuysen et al. 2017,
    doi:10.1158/0008-5472.CAN-17-0339, voxel-based extraction).

    Parameters
    ----------
    image, mask
        SimpleITK images on the same grid, or paths (as :func:`radiogenomics.imaging.read_case`
        returns them).
    feature
        ``"<class>_<feature>"``, e.g. ``"glcm_Contrast"`` or ``"firstorder_Entropy"`` (an
        ``original_`` prefix is accepted); shape features have no voxel map.
    kernel_radius
        Kernel radius in voxels (1: a 3x3x3 cube).
    label
        Mask value of the ROI.
    params
        pyradiomics ``setting`` entries (e.g. ``{"binWidth": 0.5}``); default pyradiomics'
        (bin width 25), which suits CT HU but not SUV or normalised MR: pass a bin width.

    Returns
    -------
    :class:`SimpleITK.Image` (float64) on the grid of ``image``: the feature value at each ROI
    voxel, NaN elsewhere.

    Raises
    ------
    ValueError
        When ``feature`` is not ``<class>_<feature>`` or pyradiomics does not know it.
    DataFormatError
        When the mask has no voxel with ``label``.

    Examples
    --------
    >>> import numpy as np, SimpleITK as sitk
    >>> import radiogenomics as rg
    >>> rng = np.random.default_rng(0)
    >>> values = rng.normal(100, 10, (6, 12, 12))
    >>> values[:, :, 6:] += rng.normal(0, 40, (6, 12, 6))  # the right half is more heterogeneous
    >>> roi = np.zeros(values.shape, np.uint8)
    >>> roi[1:5, 2:10, 2:10] = 1
    >>> fmap = rg.imaging.feature_map(
    ...     sitk.GetImageFromArray(values), sitk.GetImageFromArray(roi), "firstorder_Variance", params={"binWidth": 5}
    ... )
    >>> array = sitk.GetArrayFromImage(fmap)
    >>> bool(np.nanmean(array[..., 6:]) > 5 * np.nanmean(array[..., :6])), int(np.isfinite(array).sum())
    (True, 256)
    """
    import SimpleITK as sitk

    from ._case import make_extractor

    image = _as_image(image, "image")
    mask = _as_image(mask, "mask")
    feature_class, name = _feature_name(feature)
    if not np.any(sitk.GetArrayViewFromImage(mask) == label):
        msg = f"the mask has no voxel with label {label}; nothing to map."
        raise DataFormatError(msg)
    setting = {**(params or {}), "label": int(label)}
    try:
        extractor = make_extractor(
            {"imageType": {"Original": {}}, "featureClass": {feature_class: [name]}, "setting": setting}
        )
    except Exception as e:  # pykwalify's SchemaError and pyradiomics' ValueError
        msg = f"feature {feature!r} or params not accepted by pyradiomics: {e}"
        raise ParameterError(msg) from e
    # voxel-based settings are not part of pyradiomics' parameter-file schema: set them on the extractor
    extractor.settings.update({"kernelRadius": int(kernel_radius), "maskedKernel": True, "initValue": np.nan})
    output = extractor.execute(image, mask, label=int(label), voxelBased=True)
    key = f"original_{feature_class}_{name}"
    if key not in output:
        msg = f"pyradiomics returned no map for {key!r}; check the feature name (e.g. 'glcm_Contrast')."
        raise ParameterError(msg)
    cropped = sitk.Cast(output[key], sitk.sitkFloat64)
    full = sitk.Resample(cropped, image, sitk.Transform(), sitk.sitkNearestNeighbor, float("nan"), sitk.sitkFloat64)
    array = sitk.GetArrayFromImage(full)
    array[sitk.GetArrayViewFromImage(mask) != label] = np.nan
    out = sitk.GetImageFromArray(array)
    out.CopyInformation(image)
    return out
