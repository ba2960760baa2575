"""Read and check an extraction manifest: one row per (patient, modality, roi) case."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..errors import DataFormatError, MissingColumnError

REQUIRED = ("patient_id", "image", "mask")
DEFAULT_MODALITY = "image"
DEFAULT_ROI = "roi"


def _clean_name(value: object, column: str, *, path: bool = False) -> str:
    text = os.fspath(value) if isinstance(value, os.PathLike) else str(value).strip()
    if not text or (pd.isna(value) if not isinstance(value, os.PathLike) else False):
        msg = f"manifest column {column!r} has an empty value; fill it in or drop the column."
        raise DataFormatError(msg)
    if not path and "/" in text:
        msg = f"manifest column {column!r} value {text!r} contains '/', which cannot be stored in h5mu; rename it."
        raise DataFormatError(msg)
    return text


def _label(value: object, default: int) -> int:
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
        if not path.is_file():
            msg = f"manifest file {path} not found."
            raise FileNotFoundError(msg)
        table = pd.read_csv(path, dtype={"patient_id": str})
        base = path.resolve().parent
    elif isinstance(manifest, pd.DataFrame):
        table = manifest.copy()
    else:
        msg = f"manifest must be a pandas DataFrame or a CSV path, got {type(manifest).__name__}."
        raise TypeError(msg)
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
    dup = out.duplicated(["patient_id", "modality", "roi"], keep=False)
    if dup.any():
        rows = out.loc[dup, ["patient_id", "modality", "roi"]].drop_duplicates().head(5).to_dict("records")
        msg = (
            f"manifest lists the same (patient_id, modality, roi) more than once: {rows}; "
            "give each mask its own roi name (e.g. tumour, oedema) or modality."
        )
        raise DataFormatError(msg)
    return out
