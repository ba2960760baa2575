"""Cox models with time-varying covariates (start-stop data) and time-varying effects (R's ``tt``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._compat import copy_mudata
from .._utils import require_mudata
from ..errors import DataFormatError, MissingColumnError
from ._cox import Ties, _summary, _tests, fit_cox
from ._design import check_constant, design_matrix
from ._outcome import check_event

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from mudata import MuData

__all__ = ["cox_time_varying"]

_TT = {"log": lambda x, t: x * np.log(t), "identity": lambda x, t: x * t}


def _intervals_from_obs(mdata: MuData, time: str, event: str) -> pd.DataFrame:
    if time not in mdata.obs.columns or event not in mdata.obs.columns:
        msg = f"cox_time_varying: columns {time!r}/{event!r} not found in mdata.obs; pass time= and event=."
        raise MissingColumnError(msg)
    ev = check_event(mdata.obs[event], event)
    frame = pd.DataFrame(
        {"patient_id": mdata.obs_names, "start": 0.0, "stop": mdata.obs[time].to_numpy(dtype=float), "event": ev}
    )
    return frame.dropna(subset=["stop", "event"]).reset_index(drop=True)


def _check_intervals(intervals: pd.DataFrame, id_column: str, start: str, stop: str, event: str) -> pd.DataFrame:
    missing = [c for c in (id_column, start, stop, event) if c not in intervals.columns]
    if missing:
        msg = (
            f"cox_time_varying: intervals lack columns {missing}; it needs one row per patient and "
            f"interval with {id_column!r}, {start!r}, {stop!r}, {event!r} (pass id_column=, start=, stop=, event=)."
        )
        raise MissingColumnError(msg)
    frame = intervals.rename(columns={id_column: "patient_id", start: "start", stop: "stop", event: "event"}).copy()
    frame["event"] = check_event(frame["event"], event)
    bad = frame.index[~(frame["stop"] > frame["start"])]
    if len(bad):
        msg = f"cox_time_varying: intervals need start < stop; rows {list(bad[:5])} violate it (0-based)."
        raise DataFormatError(msg)
    frame = frame.sort_values(["patient_id", "start"], kind="stable")
    overlap = frame.groupby("patient_id", sort=False)["start"].shift(-1) < frame["stop"]
    if overlap.any():
        msg = f"cox_time_varying: overlapping intervals for patients {list(frame.loc[overlap, 'patient_id'][:5])}."
        raise DataFormatError(msg)
    return frame.reset_index(drop=True)


def _split_at_event_times(frame: pd.DataFrame) -> pd.DataFrame:
    """Split each (start, stop] row at the event times inside it (R's ``survSplit`` at events)."""
    cuts = np.unique(frame.loc[frame["event"].to_numpy(dtype=bool), "stop"].to_numpy(dtype=float))
    pieces = []
    for row in frame.itertuples(index=False):
        inner = cuts[(cuts > row.start) & (cuts < row.stop)]
        bounds = np.concatenate([[row.start], inner, [row.stop]])
        n = len(bounds) - 1
        piece = pd.DataFrame([row._asdict()] * n)
        piece["start"], piece["stop"] = bounds[:-1], bounds[1:]
        piece["event"] = [False] * (n - 1) + [bool(row.event)]
        pieces.append(piece)
    return pd.concat(pieces, ignore_index=True)


def cox_time_varying(
    mdata: MuData,
    covariates: Sequence[str] = (),
    *,
    intervals: pd.DataFrame | None = None,
    tt: Mapping[str, str | Callable] | None = None,
    time: str = "os_months",
    event: str | None = None,
    start: str = "start",
    stop: str = "stop",
    id_column: str = "patient_id",
    ties: Ties = "efron",
    key_added: str = "cox_time_varying",
    copy: bool = False,
) -> MuData | None:
    """Cox model with time-varying covariates and time-varying effects, as R's ``coxph``.

    Two needs of a paper that a patient-level Cox model cannot meet: covariates measured again
    during follow-up (start-stop, "counting process" data: a transplant, a second scan) and
    covariates whose effect changes with time (those failing :func:`ph_test`), modelled as
    ``x + x * g(t)`` like R's ``coxph(... + tt(x), tt = function(x, t, ...) x * g(t))``.

    Parameters
    ----------
    mdata
        Cohort container (patient-level covariates and, without ``intervals``, survival columns).
    covariates
        Keys: columns of ``intervals`` (time-varying) or keys resolved on ``mdata`` as in
        :func:`cox` (``"age"``, ``"rna:CD274"``), copied onto each of the patient's rows.
    intervals
        Optional long table, one row per patient and interval ``(start, stop]`` with an event flag
        for the interval's end and time-varying covariate columns. Without it each patient has one
        row ``(0, time]`` from ``mdata.obs``.
    tt
        ``{covariate: g}`` adds the term ``tt(<covariate>)`` = ``x * g(t)``, ``g`` ``"log"``
        (``x log t``), ``"identity"`` (``x t``) or a callable ``(x, t) -> array``. Follow-up is
        split at every event time so the term is evaluated at each event time, as R does.
    time, event
        ``mdata.obs`` columns without ``intervals`` (event default ``"os_event"``); with it,
        ``event`` names its event column (default ``"event"``).
    start, stop, id_column
        Column names in ``intervals``.
    ties
        ``"efron"`` (R's default) or ``"breslow"``.
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy. Writes ``mdata.uns[key_added]``: ``"summary"`` and ``"tests"``
    (as :func:`cox`), ``"terms"``, ``"params"`` (``n_patients``, ``n_rows``, ``n_events``,
    ``loglik``, the ``tt`` functions by name).

    Raises
    ------
    MissingColumnError
        An interval column or covariate is absent.
    DataFormatError
        ``start >= stop``, overlapping intervals of a patient, or a bad event column.
    ConvergenceError
        Monotone likelihood or collinear terms.

    Notes
    -----
    Therneau T, Crowson C, Atkinson E. Using time dependent covariates and time dependent
    coefficients in the Cox model (survival package vignette). Checked against R ``coxph`` on the
    Stanford heart transplant data (start-stop) and the veteran data (``tt``) in the tests.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    >>> rg.survival.cox_time_varying(mdata, ["age"], tt={"age": "log"})
    >>> mdata.uns["cox_time_varying"]["summary"].index.tolist()
    ['age', 'tt(age)']
    """
    require_mudata(mdata, "survival.cox_time_varying")
    mdata = copy_mudata(mdata) if copy else mdata
    if intervals is None:
        frame = _intervals_from_obs(mdata, time, event or "os_event")
    else:
        frame = _check_intervals(intervals, id_column, start, stop, event or "event")
    unknown = sorted(set(frame["patient_id"].astype(str)) - set(mdata.obs_names))
    if unknown:
        msg = f"cox_time_varying: {len(unknown)} patients in intervals are not in the cohort (e.g. {unknown[:3]})."
        raise MissingColumnError(msg)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    tt = dict(tt or {})
    needed = list(dict.fromkeys(covariates + list(tt)))
    patient_level = [c for c in needed if c not in frame.columns]
    if patient_level:
        design, terms = design_matrix(mdata, patient_level)
        frame = frame.join(design, on="patient_id")
    else:
        terms = pd.DataFrame(columns=["term", "covariate", "level", "reference", "kind"])
    interval_terms = [c for c in needed if c in frame.columns and c not in patient_level]
    for c in interval_terms:
        if not pd.api.types.is_numeric_dtype(frame[c].dtype) and not pd.api.types.is_bool_dtype(frame[c].dtype):
            msg = f"cox_time_varying: interval covariate {c!r} must be numeric or boolean; dummy-code it first."
            raise DataFormatError(msg)
        frame[c] = frame[c].astype(float)
    if tt:
        frame = _split_at_event_times(frame)
    columns = [t for t in terms["term"] if terms.set_index("term").loc[t, "covariate"] in covariates]
    columns += [c for c in interval_terms if c in covariates]
    rows_terms = [r for r in terms.itertuples(index=False) if r.covariate in covariates]
    rows_terms += [(c, c, "", "", "numeric", False) for c in interval_terms if c in covariates]
    tt_names = {}
    for cov, g in tt.items():
        func = _TT.get(g) if isinstance(g, str) else g
        if func is None:
            msg = f"cox_time_varying: tt={{{cov!r}: {g!r}}} is not known; use 'log', 'identity' or a callable (x, t)."
            raise DataFormatError(msg)
        if cov not in frame.columns:
            msg = f"cox_time_varying: tt covariate {cov!r} must be numeric (one term), not dummy-coded."
            raise DataFormatError(msg)
        frame[f"tt({cov})"] = func(frame[cov].to_numpy(dtype=float), frame["stop"].to_numpy(dtype=float))
        columns.append(f"tt({cov})")
        rows_terms.append((f"tt({cov})", cov, "", "", "time_interaction", False))
        tt_names[cov] = g if isinstance(g, str) else getattr(g, "__name__", "callable")
    if not columns:
        msg = "cox_time_varying: no terms; pass covariates and/or tt."
        raise DataFormatError(msg)
    complete = frame[columns].notna().all(axis=1).to_numpy()
    used = frame.loc[complete]
    check_constant(used[columns], "cox_time_varying")
    ev = used["event"].to_numpy(dtype=bool)
    fit = fit_cox(
        used["stop"].to_numpy(dtype=float), ev, used[columns].to_numpy(dtype=float),
        ties=ties, entry=used["start"].to_numpy(dtype=float),
    )  # fmt: skip
    mdata.uns[key_added] = {
        "summary": _summary(fit, columns),
        "tests": _tests(fit, len(columns)),
        "terms": pd.DataFrame(rows_terms, columns=["term", "covariate", "level", "reference", "kind", "from_text"]),
        "params": {
            "covariates": covariates,
            "tt": tt_names,
            "ties": ties,
            "intervals": intervals is not None,
            "n_patients": int(used["patient_id"].nunique()),
            "n_rows": len(used),
            "n_rows_excluded": int((~complete).sum()),
            "n_events": int(ev.sum()),
            "loglik": fit["loglik"],
            "loglik_null": fit["loglik_null"],
        },
    }
    return mdata if copy else None
