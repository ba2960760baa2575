"""Cox partial likelihood (Efron and Breslow ties) and the one Newton-Raphson maximiser.

The log partial likelihood, its score and its information are computed for all event times at
once from reverse cumulative sums over patients sorted by time (Therneau & Grambsch 2000,
*Modeling Survival Data*, ch. 3; R ``survival`` ``coxfit6.c``). Efron's approximation gives the
``l``-th of ``d`` tied deaths the risk-set sum minus ``l/d`` of the tied deaths' sum; Breslow
uses the full sum for every tied death. The maximiser is R ``coxph.fit``'s Newton-Raphson with
step halving, which keeps extreme covariate values (a patient at -12 SD) from overflowing.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import ConvergenceError

__all__ = ["breslow_efron_terms", "newton"]

Terms = Callable[[np.ndarray], tuple[float, np.ndarray, np.ndarray]]


def _risk_sums(order, keys, ev_times, w, X):
    """Sums of ``w``, ``w x`` and ``w x x'`` over rows whose ``keys`` are >= each event time."""
    w, X = w[order], X[order]
    s0 = np.concatenate([[0.0], np.cumsum(w)])
    s1 = np.concatenate([np.zeros((1, X.shape[1])), np.cumsum(w[:, None] * X, axis=0)])
    s2 = np.cumsum(w[:, None, None] * X[:, :, None] * X[:, None, :], axis=0)
    s2 = np.concatenate([np.zeros((1, X.shape[1], X.shape[1])), s2])
    count = np.searchsorted(-keys[order], -ev_times, side="right")  # rows with key >= time
    return s0[count], s1[count], s2[count]


def _stratum(time, event, X, eta, entry, *, efron: bool):
    p = X.shape[1]
    if not event.any():
        return 0.0, np.zeros(p), np.zeros((p, p))
    shift = eta.max()
    w = np.exp(eta - shift)
    dead = np.flatnonzero(event)
    ev_times, k = np.unique(time[dead], return_inverse=True)
    # At risk at t: stop >= t, and (counting process, R's (start, stop]) start < t.
    s0, s1, s2 = _risk_sums(np.argsort(-time, kind="stable"), time, ev_times, w, X)
    if entry is not None:
        e0, e1, e2 = _risk_sums(np.argsort(-entry, kind="stable"), entry, ev_times, w, X)
        s0, s1, s2 = s0 - e0, s1 - e1, s2 - e2
    d = np.bincount(k)
    d0 = np.bincount(k, w[dead])
    d1 = np.zeros((len(ev_times), p))
    np.add.at(d1, k, w[dead, None] * X[dead])
    d2 = np.zeros((len(ev_times), p, p))
    np.add.at(d2, k, w[dead, None, None] * X[dead, :, None] * X[dead, None, :])
    rep = np.repeat(np.arange(len(ev_times)), d)  # one row per death
    frac = (np.arange(len(rep)) - np.repeat(np.cumsum(d) - d, d)) / d[rep] if efron else np.zeros(len(rep))
    den = s0[rep] - frac * d0[rep]
    num1 = s1[rep] - frac[:, None] * d1[rep]
    num2 = s2[rep] - frac[:, None, None] * d2[rep]
    mean = num1 / den[:, None]
    loglik = eta[dead].sum() - np.sum(np.log(den) + shift)
    score = X[dead].sum(axis=0) - mean.sum(axis=0)
    info = (num2 / den[:, None, None]).sum(axis=0) - mean.T @ mean
    return float(loglik), score, info


def breslow_efron_terms(time, event, X, beta, strata=None, *, ties: str = "efron", entry=None):
    """Return ``(loglik, score, information)`` of the Cox partial likelihood at ``beta``.

    ``ties`` is ``"efron"`` (R's default) or ``"breslow"``; ``strata`` (integer codes) gives
    each stratum its own baseline hazard; ``entry`` holds start times of counting-process rows
    ``(start, stop]`` (a row is at risk at ``t`` when ``start < t <= stop``, as in R).
    """
    X = np.asarray(X, dtype=float)
    beta = np.asarray(beta, dtype=float)
    eta = X @ beta
    strata = np.zeros(len(time), dtype=int) if strata is None else np.asarray(strata)
    p = X.shape[1]
    total = [0.0, np.zeros(p), np.zeros((p, p))]
    for s in np.unique(strata):
        idx = strata == s
        start = None if entry is None else entry[idx]
        ll, u, info = _stratum(time[idx], event[idx], X[idx], eta[idx], start, efron=ties == "efron")
        total = [total[0] + ll, total[1] + u, total[2] + info]
    return total[0], total[1], total[2]


def newton(terms: Terms, p: int, *, start=None, max_iter: int = 50, tol: float = 1e-10) -> np.ndarray:
    """Maximise a log partial likelihood by Newton-Raphson with step halving (R ``coxph.fit``).

    ``terms(beta)`` returns ``(loglik, score, information)``. A step that lowers (or overflows)
    the log-likelihood is halved. Converged when the log-likelihood changes by less than ``tol``
    (relative, R's ``eps = 1e-9`` rule slightly stricter) and the score is below 1e-6.

    Raises
    ------
    ConvergenceError
        No convergence in ``max_iter`` steps, or a singular information matrix.
    """
    beta = np.zeros(p) if start is None else np.asarray(start, dtype=float).copy()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        ll, u, info = terms(beta)
        for _ in range(max_iter):
            try:
                step = np.linalg.solve(info, u)
            except np.linalg.LinAlgError as err:
                msg = "Cox model information matrix is singular: covariates are collinear; drop one of them."
                raise ConvergenceError(msg) from err
            for _half in range(40):
                new = beta + step
                ll_new, u_new, info_new = terms(new)
                if np.isfinite(ll_new) and ll_new >= ll - 1e-12 * abs(ll):
                    break
                step = step / 2
            converged = abs(ll_new - ll) <= tol * max(1.0, abs(ll_new))
            beta, ll, u, info = new, ll_new, u_new, info_new
            if converged and np.all(np.isfinite(u)) and np.max(np.abs(u), initial=0.0) < 1e-6:
                return beta
    msg = f"Cox partial likelihood did not converge in {max_iter} Newton steps (log-likelihood {ll:.6g})."
    raise ConvergenceError(msg)
