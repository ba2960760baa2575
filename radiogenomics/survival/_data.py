"""Input checks shared by the survival functions: survival columns, covariates, groups."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._utils import resolve_keys
from ..errors import DataFormatError, MissingColumnError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["check_event", "design_matrix", "survival_columns"]


def check_event(values: pd.Series, name: str) -> pd.Series:
    """Return ``values`` as a nullable boolean Series; refuse anything but booleans or 0/1.

    R's ``lung`` codes status as 1 = censored, 2 = dead: such coding is refused rather than
    guessed, because reading 1 as "event" would silently invert the outcome.
    """
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean")
    observed = values.dropna()
    if pd.api.types.is_numeric_dtype(observed.dtype) and set(np.unique(observed.to_numpy())) <= {0, 1}:
        return values.astype("boolean")
    shown = sorted(map(str, pd.unique(observed)))[:5]
    msg = (
        f"Event column {name!r} must be boolean (True = event observed) or 0/1; found values {shown}. "
        f"Convert it first, e.g. mdata.obs[{name!r}] = mdata.obs[{name!r}] == <event code>."
    )
    raise DataFormatError(msg)


def survival_columns(
    obs: pd.DataFrame, time: str, event: str, *, where: str, require_events: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(time, event, usable)`` with clear errors and a warning for missing values.

    Negative times raise; missing times or events are reported in a warning naming the count and
    excluded (``usable`` is ``False`` for them); no event at all raises when ``require_events``.
    """
    for col in (time, event):
        if col not in obs.columns:
            hint = [c for c in obs.columns if str(c).endswith(("_months", "_event"))]
            msg = f"Column {col!r} not found in mdata.obs; pass time=/event= with one of {hint}."
            raise MissingColumnError(msg)
    if not pd.api.types.is_numeric_dtype(obs[time].dtype):
        msg = f"Time column {time!r} must be numeric (months); found dtype {obs[time].dtype}."
        raise DataFormatError(msg)
    t = obs[time].to_numpy(dtype=float, na_value=np.nan)
    ev_series = check_event(obs[event], event)
    usable = ~np.isnan(t) & ev_series.notna().to_numpy()
    if (t[usable] < 0).any():
        bad = list(obs.index[usable & (t < 0)][:5])
        msg = f"Negative times in {time!r} for patients {bad}; survival times must be >= 0."
        raise ValueError(msg)
    n_missing = int((~usable).sum())
    if n_missing:
        warnings.warn(
            f"{where}: {n_missing} of {len(t)} patients have a missing {time!r} or {event!r} and are excluded.",
            UserWarning,
            stacklevel=3,
        )
    ev = ev_series.fillna(value=False).to_numpy(dtype=bool)
    if require_events and not ev[usable].any():
        msg = f"{where}: no events in {event!r} among {int(usable.sum())} patients; the model is not estimable."
        raise ValueError(msg)
    return t, ev, usable


def _is_categorical(values: pd.Series) -> bool:
    return (
        isinstance(values.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(values.dtype)
        or (pd.api.types.is_string_dtype(values.dtype) and not pd.api.types.is_numeric_dtype(values.dtype))
    )


def _levels(values: pd.Series) -> list:
    if isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna())
        return [c for c in values.cat.categories if c in present]
    return sorted(values.dropna().unique(), key=str)


def design_matrix(mdata: MuData, covariates: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Resolve covariates and dummy-code categorical ones (reference = first level).

    Returns the numeric design (patients x terms, missing values kept as NaN) and a term table
    with columns ``term, covariate, level, reference, kind``.
    """
    if isinstance(covariates, str):
        covariates = [covariates]
    if len(covariates) == 0:
        msg = "No covariates given; pass a list such as ['age', 'rna:CD274']."
        raise ValueError(msg)
    raw = resolve_keys(mdata, list(covariates))
    columns: dict[str, pd.Series] = {}
    rows = []
    for cov in raw.columns:
        values = raw[cov]
        if pd.api.types.is_bool_dtype(values.dtype):
            columns[cov] = values.astype("Float64").astype(float)
            rows.append((cov, cov, "True", "False", "boolean"))
        elif _is_categorical(values):
            levels = _levels(values)
            if len(levels) < 2:
                msg = f"Covariate {cov!r} has a single level {levels}; it carries no information. Drop it."
                raise ValueError(msg)
            for level in levels[1:]:
                term = f"{cov}[{level}]"
                col = (values == level).astype(float)
                col[values.isna()] = np.nan
                columns[term] = col
                rows.append((term, cov, str(level), str(levels[0]), "categorical"))
        else:
            columns[cov] = pd.to_numeric(values, errors="raise").astype(float)
            rows.append((cov, cov, "", "", "numeric"))
    design = pd.DataFrame(columns, index=raw.index)
    terms = pd.DataFrame(rows, columns=["term", "covariate", "level", "reference", "kind"])
    return design, terms


def check_constant(design: pd.DataFrame, where: str) -> None:
    """Raise if a term is constant among the patients used (its coefficient is not estimable)."""
    constant = [c for c in design.columns if design[c].nunique(dropna=True) < 2]
    if constant:
        msg = f"{where}: covariates {constant} are constant among the patients used; drop them."
        raise ValueError(msg)
