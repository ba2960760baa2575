"""Read and check an extraction manifest: one row per (patient, modality, roi) case."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataFormatError, InputTypeError, MissingColumnError
from ..io._text import read_table

REQUIRED = ("patient_id", "image", "mask")
DEFAULT_MODALITY = "image"
DEFAULT_ROI = "roi"
# Optional columns read by the image and mask readers (imaging._io.read_case_image / read_case_mask):
# timepoint (name, e.g. baseline), mask_roi (ROI name inside an RTSTRUCT), series_uid (series inside a
# folder holding several), suv ("bw": convert PET to SUV body weight), ring_mm (peritumoral ring width),
# body_threshold (image value above which a voxel is inside the body, for the ring).
TEXT_OPTIONS = ("timepoint", "mask_roi", "series_uid", "suv")
NUMBER_OPTIONS = ("ring_mm", "body_threshold")
OPTIONS = TEXT_OPTIONS + NUMBER_OPTIONS


def _clean_name(value: object, column: str, *, path: bool = False) -> str:
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value).strip()
    if not text or (pd.isna(value) if not isinstance(value, os.PathLike) else False):
        msg = f"manifest column {column!r} has an empty value; fill it in or drop the column."
        raise DataFormatError(msg)
    if not path and "/" in text:
        msg = f"manifest column {column!r} value {text!r} contains '/', which cannot be stored in h5mu; rename it."
        raise DataFormatError(msg)
    return text


def _label(value: Any, default: int) -> int:
    if pd.isna(value):
        return default
    try:
        label = float(value)
    except (TypeError, ValueError):
        label = float("nan")
    if not label.is_integer() or label < 1:
        msg = f"manifest column 'label' value {value!r} is not a positive integer mask value."
        raise DataFormatError(msg)
    return int(label)


def read_manifest(manifest: pd.DataFrame | str | os.PathLike, *, default_label: int = 1) -> pd.DataFrame:
    """Return a checked copy of ``manifest`` with columns patient_id, image, mask, modality, roi, label.

    Relative paths in a CSV manifest are resolved against the CSV's folder.
    """
    base = None
    if isinstance(manifest, str | os.PathLike):
        path = Path(manifest)
        table = read_table(path, "extraction manifest", dtype={"patient_id": str})
        base = path.resolve().parent
    elif isinstance(manifest, pd.DataFrame):
        table = manifest.copy()
    else:
        msg = f"manifest must be a pandas DataFrame or a CSV path, got {type(manifest).__name__}."
        raise InputTypeError(msg)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        msg = (
            f"manifest lacks column(s) {missing}; it needs {list(REQUIRED)} and optionally "
            f"modality, roi, label. Found: {list(table.columns)}."
        )
        raise MissingColumnError(msg)
    if table.empty:
        msg = "manifest has no rows; list one case per row (patient_id, image, mask)."
        raise DataFormatError(msg)
    out = pd.DataFrame(index=range(len(table)))
    out["patient_id"] = [_clean_name(v, "patient_id") for v in table["patient_id"]]
    for column in ("image", "mask"):
        paths = []
        for value in table[column]:
            p = Path(_clean_name(value, column, path=True)).expanduser()
            paths.append(str(base / p) if base is not None and not p.is_absolute() else str(p))
        out[column] = paths
    out["modality"] = [
        _clean_name(v, "modality") for v in table.get("modality", pd.Series([DEFAULT_MODALITY] * len(table)))
    ]
    out["roi"] = [_clean_name(v, "roi") for v in table.get("roi", pd.Series([DEFAULT_ROI] * len(table)))]
    labels = table["label"] if "label" in table.columns else pd.Series([None] * len(table))
    out["label"] = [_label(v, default_label) for v in labels]
    _read_options(table, out)
    keys = ["patient_id", "modality", "roi"] + (["timepoint"] if "timepoint" in out else [])
    dup = out.duplicated(keys, keep=False)
    if dup.any():
        rows = out.loc[dup, keys].drop_duplicates().head(5).to_dict("records")
        msg = (
            f"manifest lists the same ({', '.join(keys)}) more than once: {rows}; "
            "give each mask its own roi name (e.g. tumour, oedema), modality or timepoint."
        )
        raise DataFormatError(msg)
    return out


def _text_option(value: object) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value).strip()


def _read_options(table: pd.DataFrame, out: pd.DataFrame) -> None:
    """Copy the optional reader columns (OPTIONS) present in ``table`` into ``out``, checked."""
    for column in TEXT_OPTIONS:
        if column in table.columns:
            out[column] = [_text_option(v) for v in table[column]]
    if "timepoint" in out:
        empty = [str(p) for p, t in zip(out["patient_id"], out["timepoint"], strict=True) if not t]
        if empty:
            msg = f"manifest column 'timepoint' is empty for patient(s) {empty[:5]}; name every time point (e.g. baseline)."
            raise DataFormatError(msg)
        out["timepoint"] = [_clean_name(v, "timepoint") for v in out["timepoint"]]
    if "suv" in out:
        bad = sorted({v for v in out["suv"] if v not in ("", "bw")})
        if bad:
            msg = (
                f"manifest column 'suv' has {bad}; use 'bw' (SUV body weight from the DICOM header) or leave it empty."
            )
            raise DataFormatError(msg)
    for column in NUMBER_OPTIONS:
        if column in table.columns:
            values = pd.to_numeric(table[column], errors="coerce")
            bad = table[column][values.isna() & table[column].notna()]
            if len(bad) or (column == "ring_mm" and (values <= 0).any()):
                msg = (
                    f"manifest column {column!r} must hold numbers (ring_mm > 0, in mm); got {list(table[column])[:5]}."
                )
                raise DataFormatError(msg)
            out[column] = values.to_numpy(dtype=float)


def several_timepoints(cases: pd.DataFrame) -> bool:
    """Whether feature names carry the time point: the manifest names more than one."""
    return "timepoint" in cases and cases["timepoint"].nunique() > 1


def feature_prefix(case: dict | pd.Series, *, timepoints: bool) -> str:
    """``{modality}_{roi}_``, preceded by ``{timepoint}_`` when the manifest has several time points."""
    prefix = f"{case['modality']}_{case['roi']}_"
    return f"{case['timepoint']}_{prefix}" if timepoints else prefix
