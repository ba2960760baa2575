"""Design matrices for signatures: radiomic features plus optional clinical covariates."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._utils import modality_frame, resolve_keys
from ._data import survival_columns as _checked_columns

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["design_matrix", "survival_columns", "terms_matrix"]


def _feature_block(mdata: MuData, features: str | Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    if isinstance(features, str) and features in mdata.mod:
        frame = modality_frame(mdata, features)
        keys = [f"{features}:{name}" for name in frame.columns]
        return frame.astype(float), keys
    keys = [features] if isinstance(features, str) else list(features)
    frame = resolve_keys(mdata, keys)
    bad = [k for k in keys if not pd.api.types.is_numeric_dtype(frame[k]) or pd.api.types.is_bool_dtype(frame[k])]
    if bad:
        msg = f"Signature features must be numeric; {bad} are not. Pass categorical covariates through clinical=."
        raise TypeError(msg)
    return frame.astype(float), keys


def _clinical_block(mdata: MuData, clinical: Sequence[str]) -> tuple[pd.DataFrame, list[str], list[str]]:
    raw = resolve_keys(mdata, list(clinical))
    columns, keys, levels = {}, [], []
    for key in raw.columns:
        col = raw[key]
        if pd.api.types.is_bool_dtype(col) or str(col.dtype) == "boolean":
            columns[key] = col.astype("Float64").astype(float)
            keys.append(key)
            levels.append("")
        elif pd.api.types.is_numeric_dtype(col):
            columns[key] = col.astype(float)
            keys.append(key)
            levels.append("")
        else:
            cats = col.astype("category").cat.categories
            # Treatment coding against the first level; a missing value stays missing.
            for level in cats[1:]:
                columns[f"{key}_{level}"] = np.where(col.isna(), np.nan, (col == level).astype(float))
                keys.append(key)
                levels.append(str(level))
    frame = pd.DataFrame(columns, index=raw.index)
    n_missing = int(frame.isna().any(axis=1).sum())
    if n_missing:
        warnings.warn(
            f"{n_missing} patients miss a clinical covariate of {list(clinical)}; those values are imputed with "
            "the training median (fitted inside each training fold).",
            UserWarning,
            stacklevel=3,
        )
    return frame, keys, levels


def _finite(frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """Treat infinite values (e.g. ratios over an empty region) as missing, with a warning."""
    infinite = np.isinf(frame.to_numpy(dtype=float))
    if infinite.any():
        cols = list(frame.columns[infinite.any(axis=0)])
        warnings.warn(
            f"{where}: {int(infinite.sum())} infinite values in {len(cols)} features (e.g. {cols[:3]}) are treated "
            "as missing.",
            UserWarning,
            stacklevel=4,
        )
        frame = frame.mask(infinite)
    return frame


def design_matrix(mdata: MuData, features, clinical=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(X, terms)``: the patients x terms matrix and one row per term (``key, level, kind``)."""
    feat, keys = _feature_block(mdata, features)
    feat = _finite(feat, "signature")
    terms = pd.DataFrame({"key": keys, "level": "", "kind": "feature"}, index=feat.columns.astype(str))
    if clinical:
        clin, ckeys, levels = _clinical_block(mdata, clinical)
        clash = set(clin.columns) & set(feat.columns)
        if clash:
            msg = f"Clinical covariates {sorted(clash)} have the same names as features; rename them."
            raise ValueError(msg)
        feat = pd.concat([feat, clin], axis=1)
        terms = pd.concat(
            [terms, pd.DataFrame({"key": ckeys, "level": levels, "kind": "clinical"}, index=clin.columns)]
        )
    terms.index.name = "term"
    return feat, terms


def terms_matrix(mdata: MuData, terms: pd.DataFrame) -> pd.DataFrame:
    """Rebuild the design matrix of stored ``terms`` on a (new) cohort."""
    raw = resolve_keys(mdata, list(dict.fromkeys(terms["key"])))
    out = {}
    for term, row in terms.iterrows():
        col = raw[row["key"]]
        if row["level"] == "":
            out[term] = pd.to_numeric(col.astype("Float64") if str(col.dtype) == "boolean" else col, errors="coerce")
        else:
            out[term] = np.where(col.isna(), np.nan, (col.astype(str) == row["level"]).astype(float))
    return _finite(pd.DataFrame(out, index=mdata.obs_names).astype(float), "apply_signature")


def survival_columns(mdata: MuData, time: str, event: str, *, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(time, event, usable)``; warn with the patients that lack follow-up, fail without events.

    Validation (numeric times >= 0, boolean or 0/1 events, at least one event) is that of
    :func:`radiogenomics.survival.cox`; the warning here also names the patients.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", f"{where}: .* patients have a missing", UserWarning)
        t, e, usable = _checked_columns(mdata.obs, time, event, where=where)
    if not usable.all():
        missing = list(mdata.obs_names[~usable])
        warnings.warn(
            f"{where}: {len(missing)} patients have no {time!r}/{event!r} and are left out of fitting and "
            f"evaluation (they are still scored): {missing[:10]}{' ...' if len(missing) > 10 else ''}",
            UserWarning,
            stacklevel=3,
        )
    return t, e, usable
