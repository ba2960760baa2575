"""Kaplan-Meier estimates and log-rank tests, as R's ``survfit`` and ``survdiff``."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import copy_mudata
from .._utils import require_mudata
from ..errors import InsufficientDataError, MissingColumnError, ParameterError
from ._outcome import optional_column, survival_columns

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["kaplan_meier", "km_table", "logrank", "logrank_test", "median_survival", "restricted_mean"]

ConfType = Literal["log", "log-log", "plain"]
_TOL = np.sqrt(np.finfo(float).eps)


def _confint(surv, se_log, z, conf_type):
    """Pointwise intervals; ``se_log`` is the Greenwood standard error of log S."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if conf_type == "log":
            lower = np.exp(np.log(surv) - z * se_log)
            upper = np.minimum(np.exp(np.log(surv) + z * se_log), 1.0)
        elif conf_type == "log-log":
            ll = np.log(-np.log(surv))
            half = z * se_log / np.abs(np.log(surv))
            lower, upper = np.exp(-np.exp(ll + half)), np.exp(-np.exp(ll - half))
            lower[(surv == 1) | (surv == 0)] = np.nan
            upper[(surv == 1) | (surv == 0)] = np.nan
        elif conf_type == "plain":
            se = surv * se_log
            lower, upper = np.clip(surv - z * se, 0, 1), np.clip(surv + z * se, 0, 1)
        else:
            msg = f"conf_type={conf_type!r} is not supported; use 'log' (R's default), 'log-log' or 'plain'."
            raise ParameterError(msg)
    lower = np.where(surv == 0, np.nan, lower) if conf_type == "log" else lower
    upper = np.where(surv == 0, np.nan, upper) if conf_type == "log" else upper
    return lower, upper


def km_table(time, event, *, conf_type: ConfType = "log", conf_level: float = 0.95) -> pd.DataFrame:
    """Kaplan-Meier table at every distinct time (events and censorings), as R's ``survfit``.

    Columns: ``time, at_risk, events, censored, survival, std_err`` (standard error of S,
    Greenwood), ``ci_lower, ci_upper``.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    uniq, inverse = np.unique(time, return_inverse=True)
    events = np.bincount(inverse, weights=event.astype(float), minlength=uniq.size)
    total = np.bincount(inverse, minlength=uniq.size).astype(float)
    at_risk = total[::-1].cumsum()[::-1]
    surv = np.cumprod(1.0 - events / at_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(events > 0, events / (at_risk * (at_risk - events)), 0.0)
    se_log = np.sqrt(np.cumsum(terms))
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    lower, upper = _confint(surv, se_log, z, conf_type)
    return pd.DataFrame(
        {
            "time": uniq,
            "at_risk": at_risk.astype(int),
            "events": events.astype(int),
            "censored": (total - events).astype(int),
            "survival": surv,
            "std_err": np.where(surv > 0, surv * np.where(np.isfinite(se_log), se_log, 0.0), np.nan),
            "ci_lower": lower,
            "ci_upper": upper,
        }
    )


def _first_below(times: np.ndarray, curve: np.ndarray) -> float:
    """First time the curve reaches 0.5; midpoint rule when it sits exactly at 0.5 (R)."""
    hit = np.flatnonzero(curve <= 0.5 + _TOL)
    if hit.size == 0:
        return float("nan")
    k = hit[0]
    if abs(curve[k] - 0.5) < _TOL and k + 1 < times.size:
        later = np.flatnonzero(curve[k + 1 :] < 0.5 - _TOL)
        if later.size:
            return float((times[k] + times[k + 1 + later[0]]) / 2)
        return float("nan")
    return float(times[k])


def median_survival(table: pd.DataFrame) -> tuple[float, float, float]:
    """Median survival and its interval from a :func:`km_table` (R's ``print.survfit`` rule)."""
    events = table[table["events"] > 0]
    t = events["time"].to_numpy()
    return (
        _first_below(t, events["survival"].to_numpy()),
        _first_below(t, np.nan_to_num(events["ci_lower"].to_numpy(), nan=0.0)),
        _first_below(t, np.nan_to_num(events["ci_upper"].to_numpy(), nan=1.0)),
    )


def restricted_mean(table: pd.DataFrame, tau: float) -> tuple[float, float]:
    """Restricted mean survival time up to ``tau`` and its standard error (R's ``rmean``)."""
    t = np.concatenate([[0.0], table["time"].to_numpy()])
    s = np.concatenate([[1.0], table["survival"].to_numpy()])
    keep = t <= tau
    t, s = t[keep], s[keep]
    area_after = np.cumsum((np.diff(np.append(t, tau)) * s)[::-1])[::-1]
    ev = table["events"].to_numpy()[keep[1:]]
    nr = table["at_risk"].to_numpy()[keep[1:]]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where((ev > 0) & (nr > ev), area_after[1:] ** 2 * ev / (nr * (nr - ev)), 0.0)
    return float(area_after[0]), float(np.sqrt(terms.sum()))


def logrank_test(time, event, group, *, strata=None, scores=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Log-rank test for k groups, optionally stratified, with an optional trend test.

    Returns ``(groups, tests)``: per group ``n, observed, expected``; tests ``logrank`` (k - 1
    df, as R's ``survdiff``) and, when ``scores`` is given (one per group, in sorted order of the
    group labels), ``trend`` (1 df, ``(w'(O - E))^2 / w'Vw``).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    codes, levels = pd.factorize(pd.Series(group), sort=True)
    k = len(levels)
    strata = np.zeros(len(time), dtype=int) if strata is None else pd.factorize(pd.Series(strata))[0]
    obs, exp_, var = np.zeros(k), np.zeros(k), np.zeros((k, k))
    onehot = np.eye(k)[codes]
    for s in np.unique(strata):
        idx = strata == s
        t, e, oh = time[idx], event[idx], onehot[idx]
        for u in np.unique(t[e]):
            risk = t >= u
            dead = e & (t == u)
            n_j = oh[risk].sum(axis=0)
            n, d = n_j.sum(), dead.sum()
            obs += oh[dead].sum(axis=0)
            exp_ += d * n_j / n
            if n > 1:
                var += d * (n - d) / (n - 1) / n * (np.diag(n_j) - np.outer(n_j, n_j) / n)
    diff = obs - exp_
    chisq = float(diff[1:] @ np.linalg.solve(var[1:, 1:], diff[1:]))
    rows = [("logrank", chisq, k - 1, float(stats.chi2.sf(chisq, k - 1)))]
    if scores is not None:
        w = np.asarray(scores, dtype=float)
        trend = float((w @ diff) ** 2 / (w @ var @ w))
        rows.append(("trend", trend, 1, float(stats.chi2.sf(trend, 1))))
    groups = pd.DataFrame(
        {"n": np.bincount(codes, minlength=k), "observed": obs, "expected": exp_},
        index=pd.Index([str(v) for v in levels], name="group"),
    )
    tests = pd.DataFrame(rows, columns=["test", "chisq", "df", "p"]).set_index("test")
    return groups, tests


def _groups(obs: pd.DataFrame, groupby: str, usable: np.ndarray, where: str) -> tuple[pd.Series, np.ndarray]:
    if groupby not in obs.columns:
        msg = f"{where}: groupby column {groupby!r} not found in mdata.obs."
        raise MissingColumnError(msg)
    values = obs[groupby]
    missing = int((usable & values.isna().to_numpy()).sum())
    if missing:
        warnings.warn(
            f"{where}: {missing} patients with a missing {groupby!r} are excluded.", UserWarning, stacklevel=3
        )
    usable = usable & values.notna().to_numpy()
    if isinstance(values.dtype, pd.CategoricalDtype):
        order = [c for c in values.cat.categories if c in set(values[usable])]
    else:
        order = sorted(pd.unique(values[usable]), key=lambda v: (not isinstance(v, int | float), v))
    values = pd.Series(pd.Categorical(values.where(usable), categories=order), index=obs.index)
    return values, usable


def _label(value) -> str:
    """Group label as stored: integral floats print without ``.0`` (``ph.ecog`` 1.0 -> ``"1"``)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _default_scores(levels) -> np.ndarray:
    try:
        return np.asarray([float(v) for v in levels])
    except (TypeError, ValueError):
        return np.arange(1, len(levels) + 1, dtype=float)


def logrank(
    mdata: MuData,
    groupby: str,
    *,
    time: str = "os_months",
    event: str = "os_event",
    strata: str | None = None,
    trend: bool = False,
    scores: Sequence[float] | None = None,
    key_added: str = "logrank",
    copy: bool = False,
) -> MuData | None:
    """Compare survival between the groups of an ``obs`` column with the log-rank test.

    As R's ``survdiff`` (``rho = 0``): k groups give a chi-square with k - 1 degrees of freedom;
    ``strata`` sums observed, expected and variance over strata (``+ strata(s)`` in R). With
    ``trend=True`` a 1-df test for a trend over ordered groups is added.

    Parameters
    ----------
    mdata
        Cohort container.
    groupby
        ``mdata.obs`` column with the groups (ordered by its categories, else sorted).
    time
        ``mdata.obs`` column with follow-up time.
    event
        ``mdata.obs`` boolean column, ``True`` if the event was observed.
    strata
        Optional ``mdata.obs`` column for a stratified test.
    trend
        Add the test for trend.
    scores
        Group scores of the trend test; default the numeric group labels, else 1..k.
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.uns[key_added]["groups"]`` : :class:`pandas.DataFrame`
        Per group ``n``, ``observed``, ``expected`` events.
    ``mdata.uns[key_added]["test"]`` : :class:`pandas.DataFrame`
        Rows ``logrank`` (and ``trend``) with ``chisq``, ``df``, ``p``.
    ``mdata.uns[key_added]["params"]`` : dict
        The arguments.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> rg.survival.logrank(mdata, "idh_mutant")
    >>> mdata.uns["logrank"]["test"].loc["logrank", "df"]
    np.int64(1)
    """
    require_mudata(mdata, "survival.logrank")
    mdata = copy_mudata(mdata) if copy else mdata
    t, ev, usable = survival_columns(mdata.obs, time, event, where="logrank")
    values, usable = _groups(mdata.obs, groupby, usable, "logrank")
    strat, usable = optional_column(mdata.obs, strata, usable, role="strata", where="logrank")
    strat = None if strat is None else strat.to_numpy()[usable]
    levels = list(values.cat.categories)
    if len(levels) < 2:
        msg = f"logrank: {groupby!r} has a single group {levels}; a comparison needs at least two."
        raise InsufficientDataError(msg)
    if trend:
        trend_scores = _default_scores(levels) if scores is None else np.asarray(scores, dtype=float)
        if len(trend_scores) != len(levels):
            msg = f"logrank: {len(trend_scores)} scores for {len(levels)} groups {levels}."
            raise InsufficientDataError(msg)
    codes = values.cat.codes.to_numpy()[usable]
    groups, tests = logrank_test(t[usable], ev[usable], codes, strata=strat, scores=trend_scores if trend else None)
    groups.index = pd.Index([_label(levels[int(c)]) for c in groups.index], name="group")
    mdata.uns[key_added] = {
        "groups": groups.loc[[_label(v) for v in levels if _label(v) in groups.index]],
        "test": tests,
        "params": {"groupby": groupby, "time": time, "event": event, "strata": strata, "trend": trend},
    }
    return mdata if copy else None


def kaplan_meier(
    mdata: MuData,
    *,
    time: str = "os_months",
    event: str = "os_event",
    groupby: str | None = None,
    conf_type: ConfType = "log",
    conf_level: float = 0.95,
    rmean_tau: float | None = None,
    key_added: str = "kaplan_meier",
    copy: bool = False,
) -> MuData | None:
    """Estimate survival curves with intervals, median survival and numbers at risk.

    Matches R's ``survfit``: Greenwood variance, ``conf.type = "log"`` intervals by default
    (``"log-log"`` and ``"plain"`` on request), medians and their intervals read off the
    survival and interval curves. With ``groupby``, one curve per group and a log-rank test.

    Parameters
    ----------
    mdata
        Cohort container.
    time
        ``mdata.obs`` column with follow-up time.
    event
        ``mdata.obs`` boolean column, ``True`` if the event was observed.
    groupby
        Optional ``mdata.obs`` column; one curve per group.
    conf_type
        ``"log"`` (R's default), ``"log-log"`` or ``"plain"``.
    conf_level
        Confidence level of the intervals.
    rmean_tau
        Upper limit of the restricted mean survival time; default the largest follow-up time
        of all patients (R's ``rmean = "common"``).
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.uns[key_added]["table"]`` : :class:`pandas.DataFrame`
        Long table ``group, time, survival, ci_lower, ci_upper, at_risk, events, censored,
        std_err``, one row per group and distinct time.
    ``mdata.uns[key_added]["median"]`` : :class:`pandas.DataFrame`
        Per group ``n``, ``events``, ``median``, ``ci_lower``, ``ci_upper`` (NaN if not reached),
        ``rmean`` and ``rmean_se`` (restricted mean survival time up to ``rmean_tau``).
    ``mdata.uns[key_added]["logrank"]`` : :class:`pandas.DataFrame`
        With ``groupby`` and two or more groups: ``chisq``, ``df``, ``p``.
    ``mdata.uns[key_added]["params"]`` : dict
        The arguments.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> rg.survival.kaplan_meier(mdata, groupby="idh_mutant")
    >>> mdata.uns["kaplan_meier"]["median"].index.tolist()
    ['False', 'True']
    """
    require_mudata(mdata, "survival.kaplan_meier")
    mdata = copy_mudata(mdata) if copy else mdata
    t, ev, usable = survival_columns(mdata.obs, time, event, where="kaplan_meier", require_events=False)
    if groupby is None:
        labels = np.full(len(usable), None, dtype=object)
        labels[usable] = "all"
        values = pd.Series(pd.Categorical(labels, categories=["all"]), index=mdata.obs.index)
    else:
        values, usable = _groups(mdata.obs, groupby, usable, "kaplan_meier")
    tables, medians = [], []
    tau = float(np.max(t[usable])) if rmean_tau is None else float(rmean_tau)
    for level in values.cat.categories:
        idx = usable & (values == level).to_numpy()
        if not ev[idx].any():
            warnings.warn(
                f"kaplan_meier: group {level!r} has no events; its curve stays at 1.", UserWarning, stacklevel=2
            )
        table = km_table(t[idx], ev[idx], conf_type=conf_type, conf_level=conf_level)
        tables.append(table.assign(group=_label(level)))
        med = median_survival(table)
        medians.append((_label(level), int(idx.sum()), int(ev[idx].sum()), *med, *restricted_mean(table, tau)))
    out = {
        "table": pd.concat(tables, ignore_index=True)[["group", *tables[0].columns[:-1]]],
        "median": pd.DataFrame(
            medians, columns=["group", "n", "events", "median", "ci_lower", "ci_upper", "rmean", "rmean_se"]
        ).set_index("group"),
        "params": {
            "time": time,
            "event": event,
            "groupby": groupby,
            "conf_type": conf_type,
            "conf_level": conf_level,
            "rmean_tau": tau,
        },
    }
    if groupby is not None and len(values.cat.categories) < 2:
        warnings.warn(f"kaplan_meier: {groupby!r} has a single group; no log-rank test.", UserWarning, stacklevel=2)
    elif groupby is not None:
        codes = values.cat.codes.to_numpy()[usable]
        out["logrank"] = logrank_test(t[usable], ev[usable], codes)[1].loc[["logrank"]]
    mdata.uns[key_added] = out
    return mdata if copy else None
