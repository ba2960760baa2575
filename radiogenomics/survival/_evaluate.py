"""Validation of a risk score: discrimination, calibration, prediction error and net benefit."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import copy_mudata
from .._utils import bootstrap_indices, require_mudata, resolve_keys
from ..errors import InsufficientDataError
from ._coxnet import survival_y
from ._km import km_table
from ._metrics import baseline_hazard, default_times, harrell_c, ibs, survival_at, td_auc, uno_c
from ._outcome import survival_columns

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["evaluate"]


def median_follow_up(time: np.ndarray, event: np.ndarray) -> float:
    """Median follow-up by the reverse Kaplan-Meier method (Schemper & Smith 1996, doi:10.1016/0197-2456(96)00075-x).

    Censoring is the "event" and deaths are censored: the median of that curve is the median
    time patients would have been followed had they not died. The median observed time
    understates follow-up because deaths shorten it. Missing times or statuses are ignored;
    ``NaN`` when the curve never reaches 0.5.

    Examples
    --------
    >>> import numpy as np
    >>> median_follow_up(np.array([2.0, 4, 6, 8, 10]), np.array([True, False, True, False, False]))
    8.0
    """
    time = np.asarray(time, dtype=float)
    flags = pd.Series(pd.array(event, dtype="boolean"))
    ok = ~np.isnan(time) & ~flags.isna().to_numpy()
    time, censored = time[ok], ~flags[ok].to_numpy(dtype=bool)
    reverse = km_table(time, censored)
    below = np.flatnonzero(reverse["survival"].to_numpy() <= 0.5)
    return float(reverse["time"].iloc[below[0]]) if below.size else float("nan")


def km_at(time: np.ndarray, event: np.ndarray, t0: float) -> tuple[float, float, float]:
    """Kaplan-Meier survival at ``t0`` with its log-log 95% interval (sksurv)."""
    from sksurv.nonparametric import kaplan_meier_estimator

    grid, surv, ci = kaplan_meier_estimator(event.astype(bool), time, conf_type="log-log")
    pos = np.searchsorted(grid, t0, side="right") - 1
    if pos < 0:
        return 1.0, 1.0, 1.0
    return float(surv[pos]), float(ci[0][pos]), float(ci[1][pos])


CALIBRATION_COLUMNS = ["group", "n", "n_events", "predicted", "observed", "observed_lower", "observed_upper"]


def calibration_table(time, event, predicted: np.ndarray, t0: float, n_groups: int) -> pd.DataFrame:
    """Mean predicted versus Kaplan-Meier observed survival at ``t0`` in groups of predicted risk.

    Tied predictions can make fewer distinct quantile groups than asked: a warning then says how
    many were made and why; a constant prediction gives an empty table (calibration undefined).
    """
    if np.ptp(predicted) == 0:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS)
    groups = pd.qcut(-predicted, n_groups, labels=False, duplicates="drop")  # group 0 = lowest risk
    made = np.unique(groups).size
    if made < n_groups:
        values, counts = np.unique(predicted, return_counts=True)
        warnings.warn(
            f"evaluate: asked for {n_groups} calibration groups but made {made}: {int(counts.max())} of "
            f"{len(predicted)} patients share the same predicted survival ({values[counts.argmax()]:.4g}), so "
            "quantile cut-points coincide (e.g. risk scores of models that selected no feature); "
            "params['n_groups_made'] records it.",
            UserWarning,
            stacklevel=3,
        )
    rows = []
    for g in np.unique(groups):
        idx = groups == g
        obs, lower, upper = km_at(time[idx], event[idx], t0)
        rows.append(
            {
                "group": int(g) + 1,
                "n": int(idx.sum()),
                "n_events": int(event[idx].sum()),
                "predicted": float(predicted[idx].mean()),
                "observed": obs,
                "observed_lower": lower,
                "observed_upper": upper,
            }
        )
    return pd.DataFrame(rows)


def calibration_slope(time, event, risk) -> pd.DataFrame:
    """Cox regression of the outcome on the risk score: slope 1 = well calibrated spread of risk."""
    from ._cox import fit_cox

    if np.ptp(risk) == 0:  # no spread of risk: the slope is undefined
        nan = [np.nan]
        return pd.DataFrame({"slope": nan, "se": nan, "ci_lower": nan, "ci_upper": nan, "p_slope_is_1": nan})
    fit = fit_cox(time, event, np.asarray(risk, dtype=float)[:, None])
    slope, se = float(fit["coef"][0]), float(np.sqrt(fit["var"][0, 0]))
    z = stats.norm.ppf(0.975)
    return pd.DataFrame(
        {
            "slope": [slope],
            "se": [se],
            "ci_lower": [slope - z * se],
            "ci_upper": [slope + z * se],
            "p_slope_is_1": [float(2 * stats.norm.sf(abs(slope - 1) / se))],
        }
    )


def net_benefit(time, event, predicted_risk: np.ndarray, t0: float, thresholds: np.ndarray) -> pd.DataFrame:
    """Decision-curve net benefit at ``t0`` for survival outcomes (Vickers et al. 2008, doi:10.1186/1472-6947-8-53).

    Patients with predicted risk ``1 - S(t0)`` at or above a threshold are "treated"; their event
    rate by ``t0`` is the Kaplan-Meier estimate among them.
    """
    overall = 1 - km_at(time, event, t0)[0]
    rows = []
    for pt in thresholds:
        treated = predicted_risk >= pt
        share = treated.mean()
        rate = 1 - km_at(time[treated], event[treated], t0)[0] if treated.any() else 0.0
        odds = pt / (1 - pt)
        rows.append(
            {
                "threshold": float(pt),
                "net_benefit_model": share * rate - share * (1 - rate) * odds,
                "net_benefit_all": overall - (1 - overall) * odds,
                "net_benefit_none": 0.0,
                "n_treated": int(treated.sum()),
            }
        )
    return pd.DataFrame(rows)


def _bootstrap(y, risk, times, n_boot, seed):
    draws = np.full((n_boot, 2 + len(times)), np.nan)
    for b, idx in enumerate(bootstrap_indices(len(risk), n_boot, seed)):
        yb, rb = y[idx], risk[idx]
        if yb["event"].sum() < 2:
            continue
        draws[b, 0] = harrell_c(yb["time"], yb["event"], rb)
        draws[b, 1] = uno_c(yb, yb, rb)
        draws[b, 2:] = td_auc(yb, yb, rb, times)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns for unusable time points
        return np.nanpercentile(draws, 2.5, axis=0), np.nanpercentile(draws, 97.5, axis=0)


def _baseline(mdata, risk, baseline, lp, t, e):
    if isinstance(baseline, pd.DataFrame):
        return baseline, "given"
    if isinstance(baseline, str):
        return mdata.uns[baseline]["baseline"], f"uns[{baseline!r}]"
    for key, value in mdata.uns.items():
        if isinstance(value, dict) and "baseline" in value and value.get("params", {}).get("risk_column") == risk:
            return value["baseline"], f"uns[{key!r}]"
    return baseline_hazard(lp, t, e), "in-sample Breslow (calibration in the large is optimistic)"


def _apparent(mdata: MuData, risk: str) -> bool:
    """``True`` when ``risk`` is the final-model score of a signature fitted on this cohort (in-sample)."""
    for value in mdata.uns.values():
        params = value.get("params", {}) if isinstance(value, dict) else {}
        if params.get("risk_column") == risk and "cv_scores" in value and not params.get("applied", False):
            warnings.warn(
                f"evaluate: {risk!r} is the final model of a signature fitted on these patients, so its C-index, "
                f"AUC and calibration are apparent (in-sample, optimistic); evaluate {risk + '_cv'!r} or a "
                "validation cohort scored with apply_signature. params['apparent'] records it.",
                UserWarning,
                stacklevel=3,
            )
            return True
    return False


def evaluate(
    mdata: MuData,
    risk: str = "risk_score",
    *,
    time: str = "os_months",
    event: str = "os_event",
    times: Sequence[float] | None = None,
    calibration_time: float | None = None,
    baseline: str | pd.DataFrame | None = None,
    n_groups: int = 3,
    n_boot: int = 200,
    seed: int = 0,
    key_added: str = "evaluate",
    copy: bool = False,
) -> MuData | None:
    """Validate a risk score: C-indices, time-dependent AUC, Brier score, calibration and net benefit.

    Discrimination: Harrell's and Uno's C-index and the cumulative/dynamic AUC at ``times``
    (:mod:`sksurv.metrics`, IPCW weights from this cohort), with percentile bootstrap 95%
    intervals. Absolute predictions ``S(t | x) = exp(-H0(t) exp(risk))`` use the baseline hazard
    stored with the signature whose risk column is ``risk`` (:func:`signature` /
    :func:`apply_signature`), a given one, or, if none, a Breslow estimate on this cohort, whose
    calibration in the large is then optimistic. From them: Brier score at ``times`` and the
    integrated Brier score; calibration at ``calibration_time`` (mean predicted versus
    Kaplan-Meier observed survival in ``n_groups`` risk groups) and the calibration slope (Cox
    regression of the outcome on the risk score; 1 = ideal, < 1 = predictions too extreme);
    decision-curve net benefit at ``calibration_time``. A higher risk score means worse survival.

    Parameters
    ----------
    mdata
        Cohort container.
    risk
        ``obs`` column (or key) with the risk score, on the linear-predictor scale.
    time
        ``mdata.obs`` column with follow-up time.
    event
        ``mdata.obs`` boolean column, ``True`` if the event was observed.
    times
        Time points for AUC and Brier score; default the quartiles of the event times.
    calibration_time
        Time point of calibration and net benefit; default the middle of ``times``.
    baseline
        Key of a stored signature, a ``time, cumulative_hazard`` table, or ``None`` (see above).
    n_groups
        Number of risk groups of the calibration table (fewer when predictions are tied; warned).
    n_boot
        Bootstrap resamples for the intervals.
    seed
        Seed of the bootstrap.
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes ``mdata.uns[key_added]`` with:

    ``"concordance"``
        Rows ``harrell_c``, ``uno_c``: ``estimate, ci_lower, ci_upper``.
    ``"auc"``
        ``time, auc, ci_lower, ci_upper, brier``.
    ``"calibration"``
        ``group, n, n_events, predicted, observed, observed_lower, observed_upper`` at ``calibration_time``.
    ``"calibration_slope"``
        ``slope, se, ci_lower, ci_upper, p_slope_is_1``.
    ``"decision_curve"``
        ``threshold, net_benefit_model, net_benefit_all, net_benefit_none, n_treated``.
    ``"params"``
        Arguments, ``ibs``, ``n``, ``n_events``, the baseline used, ``n_groups_made`` and
        ``constant_risk`` (a constant score: C = 0.5, empty calibration table, NaN slope; warned)
        and ``apparent`` (the score is the final model of a signature fitted on these patients:
        in-sample metrics, warned).

    Raises
    ------
    InsufficientDataError
        The risk score is missing for every patient with follow-up.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=120, seed=0)
    >>> mdata.obs["f1"] = mdata.uns["truth"]["factors"]["F1"] * 0.8
    >>> rg.survival.evaluate(mdata, "f1", n_boot=20)
    >>> mdata.uns["evaluate"]["concordance"].columns.tolist()
    ['estimate', 'ci_lower', 'ci_upper']
    """
    require_mudata(mdata, "survival.evaluate")
    mdata = copy_mudata(mdata) if copy else mdata
    t, e, usable = survival_columns(mdata, time, event, where="evaluate", name_patients=True)
    score = resolve_keys(mdata, [risk])[risk].to_numpy(dtype=float)
    rows = usable & ~np.isnan(score)
    if not rows.any():
        msg = (
            f"evaluate: the risk score {risk!r} is missing for all {int(usable.sum())} patients with follow-up; "
            "score them first (rg.survival.signature or apply_signature writes obs['risk_score']), or check that "
            "the column was joined on the patient IDs of mdata.obs_names (a join on other IDs leaves it all missing)."
        )
        raise InsufficientDataError(msg)
    if (usable & np.isnan(score)).any():
        warnings.warn(
            f"evaluate: {int((usable & np.isnan(score)).sum())} patients have no {risk!r} and are left out.",
            UserWarning,
            stacklevel=2,
        )
    t, e, lp = t[rows], e[rows], score[rows]
    if len(lp) and np.ptp(lp) == 0:
        warnings.warn(
            f"evaluate: the risk score {risk!r} is constant ({lp[0]:.4g}) over the {len(lp)} patients (a model that "
            "selected no feature?): the C-indices and time-dependent AUCs are 0.5, the calibration table is empty "
            "and the calibration slope is NaN (undefined).",
            UserWarning,
            stacklevel=2,
        )
    y = survival_y(t, e)
    at = default_times(t, e) if times is None else np.asarray(times, dtype=float)
    t0 = float(at[len(at) // 2]) if calibration_time is None else float(calibration_time)
    base, source = _baseline(mdata, risk, baseline, lp, t, e)
    apparent = _apparent(mdata, risk)
    lower, upper = _bootstrap(y, lp, at, n_boot, seed)
    concordance = pd.DataFrame(
        {"estimate": [harrell_c(t, e, lp), uno_c(y, y, lp)], "ci_lower": lower[:2], "ci_upper": upper[:2]},
        index=pd.Index(["harrell_c", "uno_c"], name="metric"),
    )
    surv_t = survival_at(base, lp, at)
    brier = np.full(len(at), np.nan)
    from sksurv.metrics import brier_score

    for i, ti in enumerate(at):
        if t.min() <= ti < t.max():
            brier[i] = brier_score(y, y, surv_t[:, [i]], [ti])[1][0]
    auc = pd.DataFrame(
        {"time": at, "auc": td_auc(y, y, lp, at), "ci_lower": lower[2:], "ci_upper": upper[2:], "brier": brier}
    )
    grid = np.unique(np.quantile(t[e], np.linspace(0.1, 0.9, 20)))
    pred_t0 = survival_at(base, lp, [t0])[:, 0]
    calibration = calibration_table(t, e, pred_t0, t0, n_groups)
    mdata.uns[key_added] = {
        "concordance": concordance,
        "auc": auc,
        "calibration": calibration,
        "calibration_slope": calibration_slope(t, e, lp),
        "decision_curve": net_benefit(t, e, 1 - pred_t0, t0, np.round(np.arange(0.05, 0.96, 0.05), 2)),
        "params": {
            "risk": risk,
            "time": time,
            "event": event,
            "times": [float(x) for x in at],
            "calibration_time": t0,
            "baseline": source,
            "ibs": ibs(y, y, survival_at(base, lp, grid), grid),
            "n": int(rows.sum()),
            "n_events": int(e.sum()),
            "n_boot": n_boot,
            "seed": seed,
            "n_groups": n_groups,
            "n_groups_made": len(calibration),
            "constant_risk": bool(np.ptp(lp) == 0),
            "apparent": apparent,
        },
    }
    return mdata if copy else None
