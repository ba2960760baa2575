"""Sub-regions of a ROI as extra manifest rows: peritumoral rings and label sub-regions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import ParameterError
from ._manifest import read_manifest

if TYPE_CHECKING:
    import SimpleITK as sitk


def ring_mask(
    roi: sitk.Image, image: sitk.Image, width_mm: float, *, body_threshold: float | None = None
) -> sitk.Image:
    """Peritumoral ring: voxels outside ``roi`` within ``width_mm`` of it, clipped to the body.

    Distances are Euclidean in mm between voxel centres (Maurer distance map with the image
    spacing), so the ring has the same physical width along every axis whatever the voxel size.
    With ``body_threshold``, voxels whose image value is not above it (air, outside the patient)
    are removed.
    """
    import SimpleITK as sitk

    binary = sitk.Cast(roi != 0, sitk.sitkUInt8)
    distance = sitk.SignedMaurerDistanceMap(binary, insideIsPositive=False, squaredDistance=False, useImageSpacing=True)
    dist = sitk.GetArrayViewFromImage(distance)
    inside = sitk.GetArrayViewFromImage(binary) > 0
    ring = (~inside) & (dist <= width_mm)
    if body_threshold is not None:
        ring &= sitk.GetArrayViewFromImage(image) > body_threshold
    out = sitk.GetImageFromArray(ring.astype(np.uint8))
    out.CopyInformation(roi)
    return out


def subregions(
    manifest: pd.DataFrame,
    *,
    ring_mm: float | Sequence[float] = (),
    body_threshold: float | Mapping[str, float] | None = None,
    labels: Mapping[str, int] | None = None,
    keep: bool = True,
) -> pd.DataFrame:
    """Add sub-region rows to a manifest: peritumoral rings and label sub-regions, each its own ROI.

    A ring of width w mm around ROI ``r`` becomes ROI ``r_ring<w>mm`` (the ROI dilated by w mm
    minus the ROI, clipped to the body); label sub-regions of a label-map mask (e.g. necrosis = 1,
    enhancing = 2) become ROIs ``r_<name>``. :func:`radiogenomics.imaging.extract` then names
    their features ``{modality}_{r}_ring5mm_...`` and puts the sub-region name in ``var["roi"]``.

    Parameters
    ----------
    manifest
        An extraction manifest (DataFrame), e.g. from :func:`radiogenomics.imaging.index_dicom`.
    ring_mm
        Ring width(s) in mm (distance between voxel centres).
    body_threshold
        Image value above which a voxel is in the body (e.g. -500 HU for CT); a number for every
        row or a dict by ``modality``; rows of other modalities are not clipped. ``None``: the
        ring is clipped to the image only.
    labels
        Sub-region name to mask value, for masks that are label maps.
    keep
        Keep the original rows (whole ROI) in the result.

    Returns
    -------
    The manifest with the sub-region rows (columns ``ring_mm`` and ``body_threshold``, NaN for
    the whole-ROI rows).

    Examples
    --------
    >>> import pandas as pd
    >>> import radiogenomics as rg
    >>> manifest = pd.DataFrame({"patient_id": ["P1"], "image": ["ct.nii.gz"], "mask": ["seg.nii.gz"]})
    >>> out = rg.imaging.subregions(manifest.assign(modality="CT", roi="GTV"), ring_mm=[5, 10], body_threshold=-500)
    >>> out[["roi", "ring_mm", "body_threshold"]].to_numpy().tolist()
    [['GTV', nan, nan], ['GTV_ring5mm', 5.0, -500.0], ['GTV_ring10mm', 10.0, -500.0]]
    """
    cases = read_manifest(manifest)
    extra = [c for c in manifest.columns if c not in cases.columns]
    cases = pd.concat([cases, manifest[extra].reset_index(drop=True)], axis=1)
    widths = [float(ring_mm)] if np.isscalar(ring_mm) else [float(w) for w in ring_mm]
    if any(not np.isfinite(w) or w <= 0 for w in widths):
        msg = f"ring_mm must be positive widths in mm; got {ring_mm!r}."
        raise ParameterError(msg)
    for column in ("ring_mm", "body_threshold"):
        if column not in cases:
            cases[column] = np.nan
    whole = cases[cases["ring_mm"].isna()]
    rows = [cases] if keep else []
    for width in widths:
        ring = whole.assign(roi=[f"{r}_ring{width:g}mm" for r in whole["roi"]], ring_mm=width)
        if isinstance(body_threshold, Mapping):
            ring["body_threshold"] = [float(body_threshold.get(m, np.nan)) for m in ring["modality"]]
        elif body_threshold is not None:
            ring["body_threshold"] = float(body_threshold)
        rows.append(ring)
    for name, value in (labels or {}).items():
        rows.append(whole.assign(roi=[f"{r}_{name}" for r in whole["roi"]], label=int(value)))
    return pd.concat(rows, ignore_index=True)
