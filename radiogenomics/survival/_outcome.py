"""The one check of survival outcomes: a time column (months, >= 0) and an event column (boolean or 0/1)."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataFormatError, InsufficientDataError, MissingColumnError

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["check_event", "optional_column", "survival_columns"]


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
    data: MuData | pd.DataFrame,
    time: str,
    event: str,
    *,
    where: str,
    require_events: bool = True,
    name_patients: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(time, event, usable)`` arrays of the survival columns of ``data.obs`` (or a frame).

    Every survival function reads its outcome through this check: the time column must be
    numeric and >= 0, the event column boolean or 0/1 (:func:`check_event`). Patients with a
    missing time or event are reported in one warning naming the count (and, with
    ``name_patients``, the first ten patients) and are marked ``usable = False``.

    Raises
    ------
    MissingColumnError
        A column is not in ``obs``.
    DataFormatError
        A non-numeric time, or an event column other than boolean/0-1 (e.g. R's 1/2 coding).
    ValueError
        Negative times, or no event among usable patients when ``require_events``.
    """
    obs = data if isinstance(data, pd.DataFrame) else data.obs
    for col in (time, event):
        if col not in obs.columns:
            hint = [c for c in obs.columns if str(c).endswith(("_months", "_event"))]
            msg = f"{where}: column {col!r} not found in mdata.obs; pass time=/event= with one of {hint}."
            raise MissingColumnError(msg)
    if not pd.api.types.is_numeric_dtype(obs[time].dtype) or pd.api.types.is_bool_dtype(obs[time].dtype):
        msg = f"{where}: time column {time!r} must be numeric (months); found dtype {obs[time].dtype}."
        raise DataFormatError(msg)
    t = obs[time].to_numpy(dtype=float, na_value=np.nan)
    ev_series = check_event(obs[event], event)
    usable = ~np.isnan(t) & ev_series.notna().to_numpy()
    if (t[usable] < 0).any():
        bad = list(obs.index[usable & (t < 0)][:5])
        msg = f"Negative times in {time!r} for patients {bad} ({where}); survival times must be >= 0."
        raise DataFormatError(msg)
    n_missing = int((~usable).sum())
    if n_missing:
        missing = list(obs.index[~usable])
        named = f": {missing[:10]}{' ...' if n_missing > 10 else ''}" if name_patients else ""
        warnings.warn(
            f"{where}: {n_missing} of {len(t)} patients have a missing {time!r} or {event!r} and are excluded "
            f"from fitting and evaluation{named}.",
            UserWarning,
            stacklevel=3,
        )
    ev = ev_series.fillna(value=False).to_numpy(dtype=bool)
    if require_events and not ev[usable].any():
        msg = f"{where}: no events in {event!r} among {int(usable.sum())} patients; the model is not estimable."
        raise InsufficientDataError(msg)
    return t, ev, usable


def optional_column(
    obs: pd.DataFrame, name: str | None, usable: np.ndarray, *, role: str, where: str
) -> tuple[pd.Series | None, np.ndarray]:
    """Return ``(obs[name], usable & obs[name].notna())``, or ``(None, usable)`` when ``name`` is None.

    For the optional grouping columns of survival functions (``strata``, ``groupby``): patients
    missing that column are not usable.

    Raises
    ------
    MissingColumnError
        ``name`` is not a column of ``obs``; the message names ``where`` and the ``role``.
    """
    if name is None:
        return None, usable
    if name not in obs.columns:
        msg = f"{where}: {role} column {name!r} not found in mdata.obs; pass {role}= with an obs column or None."
        raise MissingColumnError(msg)
    values = obs[name]
    return values, usable & values.notna().to_numpy()
