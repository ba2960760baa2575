"""Bootstrap optimism correction (Harrell) and smooth calibration curves for Cox-type models, on arrays.

References: Harrell FE, Lee KL, Mark DB (1996) Stat Med 15:361-387 and ``rms::validate`` (optimism
bootstrap); Crowson CS, Atkinson EJ, Therneau TM (2016) SMMR 25:1692-1706 (calibration-in-the-large
as log observed/expected events); Austin PC, Harrell FE, van Klaveren D (2020) Stat Med 39:2714-2742
(smooth calibration at time t from a Cox model on a restricted cubic spline of cloglog(risk); ICI,
E50, E90).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._utils import bootstrap_indices
from ..errors import ConvergenceError
from ._cox import fit_cox
from ._metrics import baseline_hazard, harrell_c, survival_at

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["calibration_curve", "optimism", "rcs_basis", "rcs_knots"]


def rcs_knots(x: np.ndarray, n_knots: int = 3) -> np.ndarray:
    """Knots of ``rms::rcs`` (Harrell's default quantiles; outer knots at the 5th extreme values when n < 100)."""
    probs = {3: (0.1, 0.5, 0.9), 4: (0.05, 0.35, 0.65, 0.95), 5: (0.05, 0.275, 0.5, 0.725, 0.95)}[n_knots]
    x = np.sort(np.asarray(x, dtype=float))
    knots = np.quantile(x, probs)
    if len(x) < 100:
        knots[0], knots[-1] = x[4], x[-5]
    return knots


def rcs_basis(x: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """Restricted cubic spline basis as ``rms::rcs`` (linear term first; ``norm = 2`` scaling)."""
    x = np.asarray(x, dtype=float)
    k = np.asarray(knots, dtype=float)
    last, prev = k[-1], k[-2]

    def cube(v):
        return np.maximum(v, 0.0) ** 3

    cols = [x]
    for kj in k[:-2]:
        term = (
            cube(x - kj) - cube(x - prev) * (last - kj) / (last - prev) + cube(x - last) * (prev - kj) / (last - prev)
        )
        cols.append(term / (last - k[0]) ** 2)
    return np.column_stack(cols)


def predicted_risk(lp_fit, time_fit, event_fit, lp_new, t0: float) -> np.ndarray:
    """``1 - S(t0 | x)`` from the Breslow baseline of the fitted linear predictor."""
    base = baseline_hazard(lp_fit, time_fit, event_fit)
    return 1.0 - survival_at(base, lp_new, [t0])[:, 0]


def _cloglog(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-10, 1 - 1e-10)
    return np.log(-np.log(1 - p))


def calibration_curve(time, event, pred, t0: float, grid: np.ndarray, n_knots: int = 3) -> dict:
    """Smooth calibration at ``t0`` (Austin et al. 2020): observed risk at ``grid`` and per patient.

    A Cox model (Breslow ties) of the outcome on a restricted cubic spline of cloglog(predicted
    risk) gives the observed risk; returns ``observed_grid``, ``observed`` (per patient) and the
    integrated calibration index ``ici`` (mean |observed - predicted|), ``e50`` and ``e90``.
    """
    x = _cloglog(np.asarray(pred, dtype=float))
    knots = rcs_knots(x, n_knots)
    basis = rcs_basis(x, knots)
    fit = fit_cox(time, event, basis, ties="breslow")
    lp = basis @ fit["coef"]
    observed = predicted_risk(lp, time, event, lp, t0)
    observed_grid = predicted_risk(lp, time, event, rcs_basis(_cloglog(grid), knots) @ fit["coef"], t0)
    err = np.abs(observed - pred)
    return {
        "observed_grid": observed_grid,
        "observed": observed,
        "ici": float(err.mean()),
        "e50": float(np.median(err)),
        "e90": float(np.quantile(err, 0.9)),
        "knots": knots,
    }


def indices(time, event, lp, lp_fit, time_fit, event_fit, *, slope_is_one: bool = False) -> dict:
    """C-index, calibration slope (Cox refit of the outcome on ``lp``, as ``rms``) and intercept.

    The intercept is calibration-in-the-large, ``log(observed / expected events)`` with the
    expected cumulative hazard from the fitting data's Breslow baseline (Crowson et al. 2016).
    ``slope_is_one`` skips the refit where it is 1 by definition (an unpenalised Cox model
    evaluated on the patients it was fitted on).
    """
    slope = 1.0
    if not slope_is_one:
        try:
            slope = float(fit_cox(time, event, lp[:, None])["coef"][0])
        except ConvergenceError:
            slope = np.nan
    base = baseline_hazard(lp_fit, time_fit, event_fit)
    grid, cum = base["time"].to_numpy(), base["cumulative_hazard"].to_numpy()
    pos = np.searchsorted(grid, time, side="right") - 1
    h0 = np.where(pos >= 0, cum[np.clip(pos, 0, None)], 0.0)
    expected = float(np.sum(h0 * np.exp(lp)))
    c = harrell_c(time, event, lp)
    return {
        "c_index": c,
        "dxy": 2 * (c - 0.5),
        "slope": slope,
        "intercept": float(np.log(event.sum() / expected)) if expected > 0 else np.nan,
    }


def _mean(values: list) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def optimism(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    fitter: Callable,
    *,
    n_boot: int,
    seed: int,
    t0: float | None,
    grid: np.ndarray | None,
    unpenalized: bool = False,
    progress: bool = False,
) -> dict:
    """Harrell's optimism bootstrap of :func:`indices` and of the calibration curve at ``t0``.

    ``fitter(X, time, event)`` returns a function mapping a design to a linear predictor. Each
    bootstrap sample refits the whole model; its indices on the sample ("training") minus those
    of the same model on the original patients ("test") estimate the optimism. Samples whose fit
    fails are skipped and counted. ``unpenalized`` marks a plain Cox fit (training slope = 1).
    """
    from tqdm.auto import tqdm

    n = len(time)
    predict = fitter(X, time, event)
    lp = predict(X)
    apparent = indices(time, event, lp, lp, time, event, slope_is_one=unpenalized)
    curve = None
    if t0 is not None and grid is not None:
        pred = predicted_risk(lp, time, event, lp, t0)
        curve = calibration_curve(time, event, pred, t0, grid)
    train_rows, test_rows, curve_opt, failed = [], [], [], 0
    for idx in tqdm(bootstrap_indices(n, n_boot, seed), desc="bootstrap", disable=not progress):
        if event[idx].sum() < 2:
            failed += 1
            continue
        try:
            pb = fitter(X[idx], time[idx], event[idx])
            lp_b, lp_o = pb(X[idx]), pb(X)
            tr = indices(time[idx], event[idx], lp_b, lp_b, time[idx], event[idx], slope_is_one=unpenalized)
            te = indices(time, event, lp_o, lp_b, time[idx], event[idx])
            if t0 is not None and grid is not None:
                cb = calibration_curve(
                    time[idx], event[idx], predicted_risk(lp_b, time[idx], event[idx], lp_b, t0), t0, grid
                )
                co = calibration_curve(time, event, predicted_risk(lp_b, time[idx], event[idx], lp_o, t0), t0, grid)
                curve_opt.append(cb["observed_grid"] - co["observed_grid"])
        except (ConvergenceError, np.linalg.LinAlgError, ValueError):
            failed += 1
            continue
        train_rows.append(tr)
        test_rows.append(te)
    return {
        "apparent": apparent,
        "training": {k: _mean([r[k] for r in train_rows]) for k in apparent},
        "test": {k: _mean([r[k] for r in test_rows]) for k in apparent},
        "n_used": len(train_rows),
        "n_failed": failed,
        "curve": curve,
        "curve_optimism": np.nanmean(curve_opt, axis=0) if curve_opt else None,
    }
