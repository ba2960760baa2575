"""Validation metrics for risk scores: thin, guarded calls of :mod:`sksurv.metrics`.

Convention everywhere: a higher risk score means worse survival (shorter time to event).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._coxnet import survival_y

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = [
    "baseline_hazard",
    "default_times",
    "fold_metrics",
    "harrell_c",
    "ipcw_cap",
    "survival_at",
]


def harrell_c(time, event, risk, strata=None) -> float:
    """Harrell's C-index of a risk score (higher = worse survival), as R's ``concordance``.

    A pair is comparable when the shorter time is an event (a censored time equal to an event
    time counts as longer); ties in ``risk`` count one half; with ``strata`` pairs are only
    formed within a stratum. NaN when no pair is comparable. The one concordance of the package
    (``cox``, ``compare``, ``signature``, ``evaluate``), through
    :func:`sksurv.metrics.concordance_index_censored`.
    """
    from sksurv.metrics import concordance_index_censored

    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    risk = np.asarray(risk, dtype=float)
    strata = np.zeros(len(time), dtype=int) if strata is None else np.asarray(strata)
    conc = disc = tied = 0
    for s in pd.unique(strata):
        idx = strata == s
        if event[idx].sum() == 0 or idx.sum() < 2:
            continue
        _, c, d, t, _ = concordance_index_censored(event[idx], time[idx], risk[idx])
        conc, disc, tied = conc + c, disc + d, tied + t
    if conc + disc + tied == 0:
        return float("nan")
    return float((conc + 0.5 * tied) / (conc + disc + tied))


def ipcw_cap(y_train: np.ndarray) -> float:
    """Largest time at which the censoring distribution of ``y_train`` is still positive."""
    from sksurv.nonparametric import kaplan_meier_estimator

    t, g = kaplan_meier_estimator(~y_train["event"], y_train["time"])
    return float(t[g > 0].max()) if (g > 0).any() else float(t.min())


def _capped(y: np.ndarray, cap: float) -> np.ndarray:
    """Censor patients followed beyond ``cap`` at ``cap`` (IPCW weights are unknown past it)."""
    time = np.minimum(y["time"], cap)
    event = y["event"] & (y["time"] <= cap)
    return survival_y(time, event)


def uno_c(y_train: np.ndarray, y_test: np.ndarray, risk: np.ndarray, tau: float | None = None) -> float:
    """Uno's IPCW C-index up to ``tau`` (default: the largest time with a positive censoring survival)."""
    from sksurv.metrics import concordance_index_ipcw

    cap = ipcw_cap(y_train)
    tau = cap if tau is None else min(tau, cap)
    y_test = _capped(y_test, cap)
    if not (y_test["event"] & (y_test["time"] < tau)).any():
        return float("nan")
    return float(concordance_index_ipcw(y_train, y_test, risk, tau=tau)[0])


def valid_times(times: np.ndarray, y_train: np.ndarray, y_test: np.ndarray) -> np.ndarray:
    """Keep time points inside the test follow-up and where IPCW weights exist."""
    times = np.asarray(times, dtype=float)
    cap = min(ipcw_cap(y_train), y_test["time"].max())
    return times[(times >= y_test["time"].min()) & (times < cap)]


def td_auc(y_train: np.ndarray, y_test: np.ndarray, risk: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Cumulative/dynamic AUC at each of ``times`` (NaN where it cannot be estimated)."""
    from sksurv.metrics import cumulative_dynamic_auc

    out = np.full(len(times), np.nan)
    ok = np.isin(times, valid_times(times, y_train, y_test))
    for i in np.flatnonzero(ok):
        t = times[i]
        cases = (y_test["time"] <= t) & y_test["event"]
        if cases.any() and (y_test["time"] > t).any():
            capped = _capped(y_test, ipcw_cap(y_train))
            out[i] = cumulative_dynamic_auc(y_train, capped, risk, np.array([t]))[0][0]
    return out


def baseline_hazard(lp: np.ndarray, time: np.ndarray, event: np.ndarray) -> pd.DataFrame:
    """Breslow baseline cumulative hazard for a linear predictor (``sksurv`` BreslowEstimator)."""
    from sksurv.linear_model.coxph import BreslowEstimator

    est = BreslowEstimator().fit(np.asarray(lp, dtype=float), np.asarray(event, dtype=bool), np.asarray(time, float))
    return pd.DataFrame({"time": est.cum_baseline_hazard_.x, "cumulative_hazard": est.cum_baseline_hazard_.y})


def survival_at(baseline: pd.DataFrame, lp: ArrayLike, times: ArrayLike) -> np.ndarray:
    """Predicted survival ``S(t | lp) = exp(-H0(t) exp(lp))`` (patients x times), H0 a right-continuous step."""
    grid = baseline["time"].to_numpy(dtype=float)
    cum = baseline["cumulative_hazard"].to_numpy(dtype=float)
    pos = np.searchsorted(grid, np.asarray(times, dtype=float), side="right") - 1
    h0 = np.where(pos >= 0, cum[np.clip(pos, 0, None)], 0.0)
    return np.exp(-np.outer(np.exp(np.asarray(lp, dtype=float)), h0))


def default_times(time: np.ndarray, event: np.ndarray, quantiles=(0.25, 0.5, 0.75)) -> np.ndarray:
    """Time points at quantiles of the observed event times (for time-dependent AUC)."""
    if event.sum() == 0:
        return np.array([])
    return np.unique(np.round(np.quantile(time[event.astype(bool)], quantiles), 2))


def ibs(y_train: np.ndarray, y_test: np.ndarray, surv: np.ndarray, grid: np.ndarray) -> float:
    """Integrated Brier score over the part of ``grid`` that is valid for this split."""
    from sksurv.metrics import integrated_brier_score

    ok = np.isin(grid, valid_times(grid, y_train, y_test))
    if ok.sum() < 2:
        return float("nan")
    capped = _capped(y_test, ipcw_cap(y_train))
    return float(integrated_brier_score(y_train, capped, surv[:, ok], grid[ok]))


def fold_metrics(
    y_train: np.ndarray,
    y_test: np.ndarray,
    risk: np.ndarray,
    surv: np.ndarray | None,
    times: np.ndarray,
    grid: np.ndarray,
) -> dict[str, float]:
    """Harrell and Uno C, time-dependent AUC at ``times`` and the IBS over ``grid`` for one test set."""
    out = {
        "harrell_c": harrell_c(y_test["time"], y_test["event"], risk),
        "uno_c": uno_c(y_train, y_test, risk),
        "ibs": ibs(y_train, y_test, surv, grid) if surv is not None else float("nan"),
    }
    for t, auc in zip(times, td_auc(y_train, y_test, risk, times), strict=True):
        out[f"auc_{t:g}"] = float(auc)
    return out
