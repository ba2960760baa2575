"""Inputs of :func:`radiogenomics.integrate.predict`: feature matrix, target cleaning, patient selection."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._utils import modality_frame, resolve_keys
from ..errors import DataFormatError
from ._mofa_checks import replace_infinite

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["MISSING_LABELS", "clean_target", "encode_target", "feature_matrix", "select_patients", "task_of"]

#: Labels read as a missing target (compared after stripping and lower-casing), as written by
#: spreadsheets, R (``NA``), pandas (``nan``) and TCGA / cBioPortal clinical files.
MISSING_LABELS = (
    "",
    "na",
    "n/a",
    "nan",
    "none",
    "null",
    "unknown",
    "missing",
    "not available",
    "not reported",
    "[not available]",
    "[not applicable]",
    "[unknown]",
    "[not evaluated]",
    "-",
    "?",
)


def feature_matrix(mdata: MuData, features: str | Sequence[str]) -> pd.DataFrame:
    """Patients x features from modality names and/or ``"<mod>:<feature>"`` / ``obs`` keys.

    One modality gives its feature names as columns; otherwise a modality's features are named
    ``"<mod>:<feature>"`` and a key keeps its own name, so the same list rebuilds the same columns.
    """
    items = [features] if isinstance(features, str) else list(features)
    if len(items) == 1 and items[0] in mdata.mod:
        frame = modality_frame(mdata, items[0])
    else:
        frames = []
        for item in items:
            if item in mdata.mod:
                frames.append(modality_frame(mdata, item).add_prefix(f"{item}:"))
            else:
                col = resolve_keys(mdata, [item])
                if not pd.api.types.is_numeric_dtype(col[item]) or pd.api.types.is_bool_dtype(col[item]):
                    msg = f"predict: feature {item!r} is not numeric (dtype {col[item].dtype}); encode it as numbers first."
                    raise DataFormatError(msg)
                frames.append(col.astype(float))
        frame = pd.concat(frames, axis=1)
    return replace_infinite(frame, f"features {items}")


def clean_target(y: pd.Series, where: str = "predict") -> tuple[pd.Series, dict[str, int]]:
    """Return ``y`` with missing-value spellings (:data:`MISSING_LABELS`) set to missing, and their counts."""
    if pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y):
        return y, {}
    text = y.astype("string").str.strip()
    hit = text.str.lower().isin(MISSING_LABELS).fillna(value=False).to_numpy(dtype=bool)
    if not hit.any():
        return y, {}
    counts = {str(k): int(v) for k, v in y[hit].astype(str).value_counts().items()}
    warnings.warn(
        f"{where}: {int(hit.sum())} target values read as missing ({counts}); recorded in params['missing_labels'].",
        UserWarning,
        stacklevel=3,
    )
    y = y.copy()
    if isinstance(y.dtype, pd.CategoricalDtype):
        y = y.cat.remove_categories([c for c in y.cat.categories if str(c).strip().lower() in MISSING_LABELS])
    else:
        y = y.astype(object).where(~hit, None)
    return y, counts


def task_of(y: pd.Series, task: str) -> str:
    """The task of target ``y``: two values binary, other numbers regression, other labels multi-class."""
    levels = y.dropna().unique()
    if task == "binary" and len(levels) > 2:
        found = {str(k): int(v) for k, v in y.value_counts().items()}
        msg = (
            f"predict: task='binary' but the target has {len(levels)} classes {found}; recode it to two classes, "
            "mark the other values as missing, or use task='multiclass'."
        )
        raise DataFormatError(msg)
    if task != "auto":
        return task
    if len(levels) == 2 or pd.api.types.is_bool_dtype(y):
        return "binary"
    if pd.api.types.is_numeric_dtype(y):
        return "regression"
    return "multiclass"


def encode_target(y: pd.Series, task: str) -> tuple[np.ndarray, list[str]]:
    """Class codes ``0..k-1`` (or floats for regression) and the class names."""
    if task == "regression":
        return y.to_numpy(dtype=float), []
    if isinstance(y.dtype, pd.CategoricalDtype):
        classes = [c for c in y.cat.categories if c in set(y)]
    else:
        classes = sorted(y.unique(), key=lambda v: (str(type(v)), v))
    codes = np.array([classes.index(v) for v in y])
    if len(classes) < 2:
        msg = f"predict: the target has a single class {classes}; nothing to predict."
        raise DataFormatError(msg)
    return codes, [str(c) for c in classes]


def select_patients(mdata: MuData, y: pd.Series, x: pd.DataFrame) -> tuple[pd.Series, np.ndarray, pd.DataFrame]:
    """Keep patients with a target and at least one feature; list the others with the reason."""
    no_target = y.isna().to_numpy()
    no_features = x.isna().all(axis=1).to_numpy()
    reasons = np.where(no_target, "missing target", np.where(no_features, "no features", ""))
    excluded = pd.DataFrame({"patient_id": mdata.obs_names[reasons != ""], "reason": reasons[reasons != ""]})
    if len(excluded):
        counts = excluded["reason"].value_counts().to_dict()
        warnings.warn(
            f"predict: excluded {len(excluded)} of {mdata.n_obs} patients ({counts}); listed in uns[key_added]['excluded'].",
            UserWarning,
            stacklevel=3,
        )
    keep = reasons == ""
    return y[keep], keep, excluded
