"""Exact partial likelihood for tied event times (R ``coxph(ties = "exact")``).

At an event time with ``d`` deaths among the risk set ``R``, the exact (discrete logistic)
partial likelihood term is ``exp(sum_D eta) / e_d(exp(eta_R))``, where ``e_d`` is the
elementary symmetric polynomial of degree ``d`` over the risk set (Kalbfleisch & Prentice 1973;
Gail, Lubin & Rubinstein 1981, doi:10.1093/biomet/68.3.703). ``e_d`` and its first and second
derivatives are built with the Gail-Lubin-Rubinstein recursion, which adds one patient at a time
and only sums positive terms, so it is numerically stable.
"""

from __future__ import annotations

import numpy as np

from ._likelihood import newton

__all__ = ["exact_loglike", "fit_exact"]


def _stratum_terms(time: np.ndarray, event: np.ndarray, X: np.ndarray, beta: np.ndarray):
    """Return (loglik, score, information) of one stratum."""
    p = X.shape[1]
    ev_times, d = np.unique(time[event], return_counts=True)
    if ev_times.size == 0:
        return 0.0, np.zeros(p), np.zeros((p, p))
    eta = X @ beta
    shift = eta.max()
    r = np.exp(eta - shift)
    dmax = int(d.max())
    n_t = ev_times.size
    e = np.zeros((n_t, dmax + 1))
    de = np.zeros((n_t, dmax + 1, p))
    d2e = np.zeros((n_t, dmax + 1, p, p))
    e[:, 0] = 1.0
    # Patients in decreasing time: patient i joins the risk sets of all event times <= time[i].
    order = np.argsort(-time, kind="stable")
    n_sets = np.searchsorted(ev_times, time, side="right")
    for i in order:
        m = n_sets[i]
        if m == 0:
            continue
        x = X[i]
        ri = r[i]
        e_prev, de_prev, d2e_prev = e[:m, :-1], de[:m, :-1], d2e[:m, :-1]
        xx = np.outer(x, x)
        d2e[:m, 1:] += ri * (
            xx * e_prev[..., None, None]
            + x[None, None, :, None] * de_prev[..., None, :]
            + de_prev[..., :, None] * x[None, None, None, :]
            + d2e_prev
        )
        de[:m, 1:] += ri * (x * e_prev[..., None] + de_prev)
        e[:m, 1:] += ri * e_prev
    rows = np.arange(n_t)
    ed, ded, d2ed = e[rows, d], de[rows, d], d2e[rows, d]
    g = ded / ed[:, None]
    h = d2ed / ed[:, None, None] - g[:, :, None] * g[:, None, :]
    dead = event & np.isin(time, ev_times)
    loglik = eta[dead].sum() - np.sum(np.log(ed) + d * shift)
    score = X[dead].sum(axis=0) - g.sum(axis=0)
    return float(loglik), score, h.sum(axis=0)


def exact_loglike(time, event, X, beta, strata=None):
    """Return ``(loglik, score, information)`` of the exact partial likelihood at ``beta``."""
    beta = np.asarray(beta, dtype=float)
    if strata is None:
        strata = np.zeros(len(time), dtype=int)
    total = [0.0, np.zeros(X.shape[1]), np.zeros((X.shape[1], X.shape[1]))]
    for s in np.unique(strata):
        idx = strata == s
        ll, u, info = _stratum_terms(time[idx], event[idx], X[idx], beta)
        total = [total[0] + ll, total[1] + u, total[2] + info]
    return total[0], total[1], total[2]


def fit_exact(time, event, X, *, strata=None, start=None, max_iter=50):
    """Maximise the exact partial likelihood (the package's Newton-Raphson, :func:`._likelihood.newton`).

    Returns ``(beta, loglik, information)``.
    """
    beta = newton(lambda b: exact_loglike(time, event, X, b, strata), X.shape[1], start=start, max_iter=max_iter)
    ll, _, info = exact_loglike(time, event, X, beta, strata)
    return beta, ll, info
