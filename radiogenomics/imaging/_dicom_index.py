"""Index a DICOM folder tree into an extraction manifest: series, segmentations linked to images, ROIs matched."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataFormatError
from ..io._text import check_path
from ._rtstruct import RTSTRUCT_SOP_CLASS, match_roi, referenced_instances, referenced_series, rtstruct_rois

SEG_SOP_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"
IMAGE_MODALITIES = {"CT", "MR", "PT", "NM", "US", "CR", "DX", "MG"}
MANIFEST_COLUMNS = [
    "patient_id",
    "timepoint",
    "modality",
    "roi",
    "image",
    "mask",
    "mask_roi",
    "label",
    "series_uid",
    "suv",
    "mask_format",
    "mask_series_uid",
    "link",
    "series_description",
    "study_date",
    "frame_of_reference_uid",
]
INDEX_COLUMNS = [
    "patient_id",
    "study_date",
    "timepoint",
    "modality",
    "kind",
    "series_description",
    "series_uid",
    "folder",
    "n_files",
    "status",
    "reason",
    "linked_to",
]


def _skipped_file(path: Path, reason: str) -> dict[str, Any]:
    """Row of the skipped table for one file that could not be indexed."""
    return {"folder": str(path.parent), "n_files": 1, "status": "skipped", "reason": reason}


def _crawl(root: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Read every file's header once; return DICOM file records and skipped-file rows."""
    import pydicom

    files, skipped = [], []
    for folder, _, names in sorted(os.walk(root)):
        for name in sorted(names):
            path = Path(folder) / name
            try:
                ds = pydicom.dcmread(path, stop_before_pixels=True)
            except (OSError, pydicom.errors.InvalidDicomError, ValueError):
                skipped.append(_skipped_file(path, f"not a DICOM file: {name}"))
                continue
            if not ds.get("SeriesInstanceUID"):
                skipped.append(_skipped_file(path, f"DICOM file without SeriesInstanceUID: {name}"))
                continue
            files.append({"path": path, "ds": ds})
    return files, skipped


def _kind(ds: Any) -> str:
    sop = str(ds.get("SOPClassUID", ""))
    if sop == RTSTRUCT_SOP_CLASS or ds.get("Modality") == "RTSTRUCT":
        return "rtstruct"
    if sop == SEG_SOP_CLASS or ds.get("Modality") == "SEG":
        return "seg"
    return "image" if ds.get("Modality") in IMAGE_MODALITIES else "other"


def _series(files: list[dict[str, Any]]) -> pd.DataFrame:
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in files:
        groups.setdefault(str(record["ds"].SeriesInstanceUID), []).append(record)
    rows = []
    for uid, records in groups.items():
        ds = records[0]["ds"]
        folders = sorted({str(r["path"].parent) for r in records})
        image_type = [str(v).upper() for v in (ds.get("ImageType") or [])]
        rows.append(
            {
                "patient_id": str(ds.get("PatientID", "")).strip(),
                "study_uid": str(ds.get("StudyInstanceUID", "")),
                "study_date": str(ds.get("StudyDate", "")),
                "modality": str(ds.get("Modality", "")),
                "kind": _kind(ds),
                "series_description": str(ds.get("SeriesDescription", "")),
                "series_uid": uid,
                "folder": folders[0] if len(folders) == 1 else os.path.commonpath(folders),
                "n_files": len(records),
                "n_folders": len(folders),
                "frame_of_reference_uid": str(ds.get("FrameOfReferenceUID", "")),
                "localizer": "LOCALIZER" in image_type,
                "files": [r["path"] for r in records],
                "headers": [r["ds"] for r in records],
                "sop_uids": {str(r["ds"].get("SOPInstanceUID", "")) for r in records},
            }
        )
    table = pd.DataFrame(rows)
    table["status"], table["reason"], table["linked_to"] = "", "", ""
    return table


def _timepoints(series: pd.DataFrame) -> pd.Series:
    """t0, t1, ... per patient in order of study date (then study UID)."""
    out = pd.Series("", index=series.index)
    for _, group in series.groupby("patient_id"):
        studies = group[["study_date", "study_uid"]].drop_duplicates().sort_values(["study_date", "study_uid"])
        names = {uid: f"t{k}" for k, uid in enumerate(dict.fromkeys(studies["study_uid"]))}
        out[group.index] = group["study_uid"].map(names)
    return out


def _seg_references(ds: Any, kind: str) -> tuple[list[str], set[str]]:
    if kind == "rtstruct":
        return referenced_series(ds), referenced_instances(ds)
    series, instances = [], set()
    for item in ds.get("ReferencedSeriesSequence", []):
        series.append(str(item.SeriesInstanceUID))
        instances |= {str(i.ReferencedSOPInstanceUID) for i in item.get("ReferencedInstanceSequence", [])}
    return series, instances


def _common_depth(a: Path, b: Path) -> int:
    return len(Path(os.path.commonpath([a, b])).parts)


def _link(seg: pd.Series, images: pd.DataFrame) -> tuple[int | None, str]:
    """Index of the image series a segmentation refers to, and how it was found (or why not)."""
    ds = seg["headers"][0]
    series_refs, instance_refs = _seg_references(ds, seg["kind"])
    hit = images.index[images["series_uid"].isin(series_refs)]
    if len(hit) == 1:
        return hit[0], "referenced series"
    if instance_refs:
        hit = images.index[[bool(instance_refs & s) for s in images["sop_uids"]]]
        if len(hit) == 1:
            return hit[0], "referenced instances"
    frame = seg["frame_of_reference_uid"] or next(iter(rtstruct_rois(ds)["frame_of_reference_uid"]), "")
    same = images[(images["frame_of_reference_uid"] == frame) & (images["patient_id"] == seg["patient_id"])]
    if len(same) == 1:
        return same.index[0], "frame of reference"
    if len(same) > 1:
        depth = same["folder"].map(lambda f: _common_depth(Path(f), Path(seg["folder"])))
        best = same.index[depth == depth.max()]
        if len(best) == 1:
            return best[0], "frame of reference + nearest folder"
        return None, f"ambiguous: {len(best)} image series share its frame of reference and folder"
    return None, "referenced image series not found (series, instances or frame of reference)"


def _roi_keys(roi: str | Sequence[str] | Mapping[str, Sequence[str]] | None) -> dict[str, list[str]] | None:
    if roi is None:
        return None
    if isinstance(roi, str):
        return {roi: [roi]}
    if isinstance(roi, Mapping):
        return {str(k): [v] if isinstance(v, str) else [str(p) for p in v] for k, v in roi.items()}
    return {str(r): [str(r)] for r in roi}


def _seg_rois(seg: pd.Series) -> list[tuple[str, str, int]]:
    """(ROI name, mask_roi, label) of a segmentation: RTSTRUCT ROI names, or SEG segment labels and numbers."""
    ds = seg["headers"][0]
    if seg["kind"] == "rtstruct":
        rois = rtstruct_rois(ds)
        return [(n, n, 1) for n, c in zip(rois["roi_name"], rois["n_contours"], strict=True) if c > 0]
    return [
        (str(s.get("SegmentLabel", s.SegmentNumber)), "", int(s.SegmentNumber)) for s in ds.get("SegmentSequence", [])
    ]


def _match(names: list[tuple[str, str, int]], keys: dict[str, list[str]] | None) -> tuple[list[tuple], list[str]]:
    if keys is None:
        return [(n.replace("/", "_"), n, m, label) for n, m, label in names], []
    rows, problems = [], []
    for key, patterns in keys.items():
        hits = [(n, m, label) for n, m, label in names if match_roi(n, patterns)]
        if len(hits) > 1:
            problems.append(f"ROI {key!r} matches several ROIs {[h[0] for h in hits]}")
        elif hits:
            rows.append((key, *hits[0]))
    return rows, problems


def _modality_name(row: pd.Series, series: Mapping[str, str] | None) -> str | None:
    if series is None:
        return row["modality"]
    import re

    text = f"{row['modality']} {row['series_description']}"
    for name, pattern in series.items():
        if re.search(pattern, text, flags=re.IGNORECASE):
            return name
    return None


def _pet_suv(image: pd.Series) -> tuple[str, str]:
    """``suv`` manifest value for a PET series ("bw" to convert, "" if already SUV) or a refusal reason."""
    from ._suv import suv_bw_factor

    try:
        record = suv_bw_factor(
            image["headers"], source=f"PET series {image['series_description'] or image['series_uid']}"
        )
    except DataFormatError as e:
        return "", f"SUV not computable: {e}"
    return ("" if record["pet_units"] == "GML" else "bw"), ""


def _link_segmentations(series: pd.DataFrame, images: pd.DataFrame, keys: dict | None) -> list[dict[str, Any]]:
    rows = []
    for i, seg in series[series["kind"].isin(["rtstruct", "seg"])].iterrows():
        if seg["n_files"] > 1:
            series.loc[i, ["status", "reason"]] = "skipped", f"{seg['n_files']} files in one {seg['kind']} series"
            continue
        # link against every image series, so a segmentation is never moved onto another series
        # of the same frame of reference when its own series was set aside
        target, how = _link(seg, series[series["kind"] == "image"])
        if target is None:
            series.loc[i, ["status", "reason"]] = "skipped", how
            continue
        if target not in images.index:
            reason = f"its image series {series.loc[target, 'series_description']!r} is skipped"
            series.loc[i, ["status", "reason", "linked_to"]] = "skipped", reason, series.loc[target, "series_uid"]
            continue
        image = images.loc[target]
        names = _seg_rois(seg)
        matched, problems = _match(names, keys)
        if not matched:
            shown = [n for n, _, _ in names]
            series.loc[i, ["status", "reason"]] = "skipped", "; ".join(problems) or f"no ROI matches; ROIs: {shown}"
            continue
        series.loc[i, ["status", "reason", "linked_to"]] = "used", "; ".join([how, *problems]), image["series_uid"]
        for key, name, mask_roi, label in matched:
            rows.append(
                {
                    "patient_id": image["patient_id"],
                    "timepoint": image["timepoint"],
                    "modality": image["name"],
                    "roi": key,
                    "image": image["folder"],
                    "mask": str(seg["files"][0]),
                    "mask_roi": mask_roi,
                    "label": label,
                    "series_uid": image["series_uid"],
                    "suv": image["suv"],
                    "mask_format": "RTSTRUCT" if seg["kind"] == "rtstruct" else "SEG",
                    "mask_series_uid": seg["series_uid"],
                    "link": how,
                    "series_description": image["series_description"],
                    "study_date": image["study_date"],
                    "frame_of_reference_uid": image["frame_of_reference_uid"],
                    "_image": target,
                    "_roi_name": name,
                }
            )
    return rows


def _image_status(series: pd.DataFrame, series_filter: Mapping[str, str] | None, *, suv: bool) -> pd.DataFrame:
    """Name the image series, set aside localisers, split series and PET without SUV; return the usable ones."""
    images = series["kind"] == "image"
    series.loc[series["kind"] == "other", ["status", "reason"]] = "skipped", "not an image or a segmentation"
    series["name"] = [
        _modality_name(r, series_filter) if k else None for k, (_, r) in zip(images, series.iterrows(), strict=True)
    ]
    series["suv"] = ""
    for i, row in series[images].iterrows():
        reason = ""
        if row["localizer"]:
            reason = "localiser (ImageType LOCALIZER)"
        elif row["n_folders"] > 1:
            reason = f"series split over {row['n_folders']} folders; put it in one folder"
        elif row["name"] is None:
            reason = "no modality name of series= matches it"
        elif row["modality"] == "PT" and suv:
            series.loc[i, "suv"], reason = _pet_suv(row)
        if reason:
            series.loc[i, ["status", "reason"]] = "skipped", reason
    return series[images & (series["status"] == "")]


def index_dicom(
    path: str | os.PathLike,
    *,
    roi: str | Sequence[str] | Mapping[str, Sequence[str]] | None = None,
    series: Mapping[str, str] | None = None,
    suv: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Index a DICOM folder tree into an extraction manifest, linking segmentations to their images.

    Every file's header is read once (no pixel data). Files are grouped into series. Each
    segmentation (RTSTRUCT or DICOM-SEG) is linked to the image series it was drawn on: by its
    referenced SeriesInstanceUID, else by the SOPInstanceUIDs its contours point to, else by
    FrameOfReferenceUID (when several image series share it, the one in the nearest folder; a
    tie is reported as ambiguous). Its ROIs (RTSTRUCT ROI names, SEG segment labels) are matched
    against ``roi``. Each patient x time point x modality x ROI gives one manifest row for
    :func:`radiogenomics.imaging.extract`; RTSTRUCT masks are rasterised at extraction.

    Parameters
    ----------
    path
        Root folder of the DICOM tree (e.g. a TCIA download), searched recursively.
    roi
        Which ROIs to keep and what to call them: ``None`` (every ROI, under its own name), a
        name or regular expression, a list of them, or a dict from the name to use to its
        synonyms, e.g. ``{"tumour": ["GTV", "GTV_Mass.*", "tumor"]}``. A pattern matches a ROI
        name when equal to it ignoring case or when it fully matches it as a regular expression.
        A key matching several ROIs of one segmentation is ambiguous and skipped.
    series
        Modality names from series: a dict from name to a regular expression searched in
        ``"<Modality> <SeriesDescription>"`` (first match wins), e.g. ``{"T1": "MR.*t1",
        "PET": "^PT"}``; default the DICOM Modality (CT, MR, PT).
    suv
        For PET series stored in Bq/ml, set ``suv="bw"`` in the manifest (SUV body weight at
        extraction); a PET series whose header cannot give SUV is skipped with the reason.
        Series with Units GML are already SUV.

    Returns
    -------
    ``(manifest, index)``, two :class:`pandas.DataFrame`.

    ``manifest``
        One row per patient x time point x modality x ROI: ``patient_id``, ``timepoint``
        (``t0``, ``t1``... by study date within a patient), ``modality``, ``roi``, ``image``
        (series folder), ``mask`` (segmentation file), ``mask_roi`` (RTSTRUCT ROI name),
        ``label`` (1, or the SEG segment number), ``series_uid``, ``suv``, ``mask_format``,
        ``mask_series_uid``, ``link`` (how the segmentation was linked),
        ``series_description``, ``study_date``, ``frame_of_reference_uid``.
    ``index``
        One row per series (and per file that is not DICOM) with ``patient_id``,
        ``study_date``, ``timepoint``, ``modality``, ``kind`` (image, rtstruct, seg, other),
        ``series_description``, ``series_uid``, ``folder``, ``n_files``, ``status`` (used or
        skipped), ``reason`` and ``linked_to`` (image series of a segmentation); its
        ``n_files`` add up to the files found.

    Raises
    ------
    MissingFileError
        When nothing exists at ``path``.
    DataFormatError
        When ``path`` is a file, not a folder, or no DICOM file is found.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> manifest, index = rg.imaging.index_dicom(rg.datasets.sarcoma_dicom(), roi={"GTV": ["GTV_Mass.*"]})
    >>> manifest[["patient_id", "modality", "roi", "mask_roi"]].to_numpy().tolist()
    [['STS_002', 'CT', 'GTV', 'GTV_Mass_CT'], ['STS_002', 'MR', 'GTV', 'GTV_Mass_MR_T1'], ['STS_002', 'PT', 'GTV', 'GTV_Mass_PET']]
    >>> index["status"].value_counts().to_dict()
    {'used': 6, 'skipped': 2}
    """
    root = check_path(path, "DICOM archive", kind="folder")
    files, skipped = _crawl(root)
    if not files:
        msg = f"{root}: no DICOM file found ({len(skipped)} other files)."
        raise DataFormatError(msg)
    table = _series(files)
    table["timepoint"] = _timepoints(table)
    images = _image_status(table, series, suv=suv)
    rows = _link_segmentations(table, images, _roi_keys(roi))
    manifest = pd.DataFrame(rows, columns=[*MANIFEST_COLUMNS, "_image", "_roi_name"])
    keys = ["patient_id", "timepoint", "modality", "roi"]
    dup = manifest.duplicated(keys, keep=False)
    for _, group in manifest[dup].groupby(keys):
        for i in set(group["_image"]):
            table.loc[i, "reason"] = f"ambiguous: {len(group)} segmentations give ROI {group['roi'].iloc[0]!r}"
    manifest = manifest[~dup]
    used = set(manifest["_image"])
    for i in images.index:
        if i in used:
            table.loc[i, "status"] = "used"
        else:
            table.loc[i, "status"] = "skipped"
            table.loc[i, "reason"] = table.loc[i, "reason"] or "no segmentation with a matching ROI refers to it"
    index = pd.concat([table, pd.DataFrame(skipped)], ignore_index=True).reindex(columns=INDEX_COLUMNS)
    index["modality"] = index["modality"].fillna("")
    manifest = manifest.drop(columns=["_image", "_roi_name"]).sort_values(keys).reset_index(drop=True)
    manifest["label"] = manifest["label"].astype(int)
    return manifest, index.fillna({"n_files": 1}).astype({"n_files": int}).fillna("")
