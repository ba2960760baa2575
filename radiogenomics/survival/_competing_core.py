"""Competing risks on arrays: Aalen-Johansen cumulative incidence, Gray's test, Fine-Gray model.

References: Kalbfleisch & Prentice (1980) and Aalen & Johansen (1978) for the cumulative
incidence estimator; Gray RJ (1988) Ann Stat 16:1141-1154 for its delta-method variance and the
k-sample test; Fine JP & Gray RJ (1999) JASA 94:496-509 for the subdistribution hazards model.
Numbers are checked against R's ``cmprsk`` (``cuminc``, ``crr``) in the tests.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import ConvergenceError

__all__ = ["cif_table", "fine_gray_fit", "gray_test"]


def _distinct(time: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct sorted times and, per observation, the index of its time."""
    times, index = np.unique(time, return_inverse=True)
    return times, index


def _tie_factor(d: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Gray's correction for tied failures: ``1 - (d - 1) / (n - 1)`` (1 when ``d <= 1``)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = 1.0 - (d - 1.0) / (n - 1.0)
    return np.where(d > 1, out, 1.0)


def cif_table(time, status, cause) -> pd.DataFrame:
    """Cumulative incidence of ``cause`` with Gray's (1988) delta-method variance.

    Parameters
    ----------
    time
        Follow-up times, shape ``(n,)``.
    status
        ``0`` for censored, otherwise the failure cause (any other integer), shape ``(n,)``.
    cause
        The cause whose incidence is estimated.

    Returns
    -------
    One row per distinct time with at least one failure from ``cause``: ``time``, ``n_risk``,
    ``n_event``, ``cif`` (right-continuous value after the time) and ``var``.
    """
    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    times, idx = _distinct(time)
    k = len(times)
    d1 = np.bincount(idx, weights=(status == cause), minlength=k)
    d2 = np.bincount(idx, weights=(status != 0) & (status != cause), minlength=k)
    leaving = np.bincount(idx, minlength=k).astype(float)
    n_risk = len(time) - np.concatenate([[0.0], np.cumsum(leaving)[:-1]])
    d = d1 + d2
    surv = np.cumprod(1.0 - d / n_risk)  # all-cause Kaplan-Meier, right-continuous
    surv_left = np.concatenate([[1.0], surv[:-1]])
    cif = np.cumsum(surv_left * d1 / n_risk)
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_s = np.where(surv > 0, 1.0 / surv, 0.0)
    # var F(t) = sum_j w_j (a_j - F(t) b_j)^2 over failure times j <= t (Gray 1988): for a
    # failure from the cause a = 1 + F_j/S_j, for another cause a = F_j/S_j; b = 1/S_j.
    w1 = surv_left**2 * _tie_factor(d1, n_risk) * d1 / n_risk**2
    w2 = np.where(surv > 0, surv_left**2 * _tie_factor(d2, n_risk) * d2 / n_risk**2, 0.0)
    a1, a2 = 1.0 + cif * inv_s, cif * inv_s
    v1 = np.cumsum(w1 * a1**2 + w2 * a2**2)
    v2 = np.cumsum(w1 * inv_s * a1 + w2 * inv_s * a2)
    v3 = np.cumsum((w1 + w2) * inv_s**2)
    var = v1 + cif**2 * v3 - 2 * cif * v2
    keep = d1 > 0
    return pd.DataFrame(
        {"time": times[keep], "n_risk": n_risk[keep], "n_event": d1[keep], "cif": cif[keep], "var": var[keep]}
    )


def _gray_stratum(time, status, group, n_groups, cause, rho):
    """Score vector and covariance of Gray's test within one stratum (groups coded 0..g-1)."""
    times, idx = _distinct(time)
    g = n_groups
    counts = np.zeros((len(times), g, 3))
    kind = np.where(status == cause, 1, np.where(status == 0, 0, 2))
    np.add.at(counts, (idx, group, kind), 1.0)
    n = np.bincount(group, minlength=g).astype(float)
    s_left, f_left = np.ones(g), np.zeros(g)
    fm = 0.0
    score = np.zeros(g - 1)
    cov = np.zeros((g - 1, g - 1))
    c = np.zeros((g, g))
    v2 = np.zeros((g - 1, g))
    v3 = np.zeros(g)
    for t in range(len(times)):
        d0, d1, d2 = counts[t, :, 0], counts[t, :, 1], counts[t, :, 2]
        nd1, nd2 = d1.sum(), d2.sum()
        if nd1 + nd2 > 0:
            at_risk = n > 0
            safe_n = np.where(at_risk, n, 1.0)
            safe_s = np.where(at_risk & (s_left > 0), s_left, 1.0)
            s = np.where(at_risk, s_left * (n - d1 - d2) / safe_n, s_left)
            f_grp = np.where(at_risk, f_left + s_left * d1 / safe_n, f_left)
            h = np.where(at_risk, n / safe_s, 0.0)
            tr = h.sum()
            tq = np.where(at_risk, n * (1 - f_left) / safe_s, 0.0).sum()
            f = fm + nd1 / tr
            fb = (1 - fm) ** rho
            a = -fb * np.outer(h, h) / tr
            np.fill_diagonal(a, fb * h * (1 - h / tr))
            c += a * nd1 / (tr * (1 - fm))
            score += np.where(at_risk, fb * (d1 - nd1 * n * (1 - f_left) / (safe_s * tq)), 0.0)[: g - 1]
            if nd1 > 0:
                with np.errstate(divide="ignore", invalid="ignore"):
                    t4 = np.where(s > 0, 1 - (1 - f) / s, 1.0)
                    t5 = 1 - (nd1 - 1) / (tr * s_left - 1) if nd1 > 1 else np.ones(g)
                    t3 = np.where(at_risk, t5 * s_left * nd1 / (tr * safe_n), 0.0)
                v3 += t4**2 * t3
                e = a[: g - 1] - t4 * c[: g - 1]
                v2 += e * t4 * t3
                cov += (e * t3) @ e.T
            if nd2 > 0:
                ok = (s > 0) & (d2 > 0)
                with np.errstate(divide="ignore", invalid="ignore"):
                    t4 = np.where(ok, (1 - f) / s, 0.0)
                    t3 = np.where(ok, _tie_factor(d2, n) * s_left**2 * d2 / safe_n**2, 0.0)
                v3 += t4**2 * t3
                e = t4 * c[: g - 1]
                v2 -= e * t4 * t3
                cov += (e * t3) @ e.T
            fm, f_left, s_left = f, f_grp, s
        n -= d0 + d1 + d2
    cg = c[: g - 1]
    cov += (cg * v3) @ cg.T + cg @ v2.T + v2 @ cg.T
    return score, cov


def gray_test(time, status, group, cause, *, strata=None, rho: float = 0.0) -> dict:
    """Gray's (1988) k-sample test that the cumulative incidence of ``cause`` is equal across groups.

    Parameters
    ----------
    time, status, group
        Arrays of shape ``(n,)``; ``status`` 0 = censored, otherwise the cause.
    cause
        Cause compared.
    strata
        Optional stratum labels: scores and variances are summed over strata.
    rho
        Power of the weight ``(1 - F(t-))^rho`` (0, the default, as ``cmprsk::cuminc``).

    Returns
    -------
    ``statistic``, ``df`` (groups - 1) and ``p`` (chi-square).
    """
    from scipy import stats

    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    labels, codes = np.unique(np.asarray(group), return_inverse=True)
    g = len(labels)
    strata = np.zeros(len(time), dtype=int) if strata is None else np.unique(np.asarray(strata), return_inverse=True)[1]
    score, cov = np.zeros(g - 1), np.zeros((g - 1, g - 1))
    for s in np.unique(strata):
        sel = strata == s
        order = np.argsort(time[sel], kind="stable")
        sc, cv = _gray_stratum(time[sel][order], status[sel][order], codes[sel][order], g, cause, rho)
        score += sc
        cov += cv
    stat = float(score @ np.linalg.solve(cov, score))
    return {"statistic": stat, "df": g - 1, "p": float(stats.chi2.sf(stat, g - 1))}


def _censoring_survival(time: np.ndarray, status: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Kaplan-Meier of the censoring distribution (censoring as the event) at each distinct time."""
    times, idx = _distinct(time)
    cens = np.bincount(idx, weights=(status == 0), minlength=len(times))
    leaving = np.bincount(idx, minlength=len(times)).astype(float)
    n_risk = len(time) - np.concatenate([[0.0], np.cumsum(leaving)[:-1]])
    return times, np.cumprod(1.0 - cens / n_risk)


def fine_gray_fit(time, status, X, *, cause=1, max_iter: int = 50, tol: float = 1e-10) -> dict:
    """Fit the Fine-Gray (1999) subdistribution hazards model by Newton-Raphson.

    Subjects who failed from a competing cause stay in the risk set with weight
    ``G(t) / G(T_j)``, ``G`` the Kaplan-Meier estimate of the censoring distribution (left limit
    at ``t``), as ``cmprsk::crr``; Breslow handling of ties. The variance is the robust sandwich of
    Fine & Gray (1999), including the term for the estimated censoring distribution.

    Returns a dict with ``coef``, ``var`` (covariance), ``loglik`` (log pseudo-likelihood) and
    ``loglik_null``.
    """
    time = np.asarray(time, dtype=float)
    status = np.asarray(status)
    X = np.asarray(X, dtype=float)
    p = X.shape[1]
    order = np.argsort(time, kind="stable")
    time, status, X = time[order], status[order], X[order]
    g_times, g_surv = _censoring_survival(time, status)
    # G at the left limit of each subject's own time (G(T_j-)) and at each failure time
    pos = np.searchsorted(g_times, time, side="left")
    g_left = np.concatenate([[1.0], g_surv])[pos]
    fail = np.flatnonzero(status == cause)
    other = (status != 0) & (status != cause)
    # weight of subject j in the risk set at failure time t_i: 1 if T_j >= t_i; G(t_i-)/G(T_j-) if
    # j failed from another cause before t_i; 0 otherwise
    g_at_fail = g_left[fail]
    at_risk = time[None, :] >= time[fail][:, None]
    comp = other[None, :] & (time[None, :] < time[fail][:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        w = np.where(at_risk, 1.0, np.where(comp, g_at_fail[:, None] / g_left[None, :], 0.0))

    def terms(beta):
        eta = X @ beta
        eta = eta - eta.max()
        r = w * np.exp(eta)[None, :]
        s0 = r.sum(axis=1)
        s1 = r @ X
        xbar = s1 / s0[:, None]
        ll = float(np.sum(eta[fail] - np.log(s0)))
        u = np.sum(X[fail] - xbar, axis=0)
        s2 = np.einsum("ij,jk,jl->ikl", r, X, X) / s0[:, None, None]
        info = np.sum(s2 - np.einsum("ik,il->ikl", xbar, xbar), axis=0)
        return ll, u, info, xbar

    beta = np.zeros(p)
    ll0 = terms(beta)[0]
    for _ in range(max_iter):
        ll, u, info, _ = terms(beta)
        step = np.linalg.solve(info, u)
        beta = beta + step
        if np.max(np.abs(step)) < tol:
            break
    else:
        msg = "Fine-Gray model did not converge; a covariate may separate the failures (infinite coefficient)."
        raise ConvergenceError(msg)
    ll, u, info, xbar = terms(beta)
    if not np.all(np.isfinite(beta)):
        msg = "Fine-Gray model did not converge (non-finite coefficients)."
        raise ConvergenceError(msg)
    bread = np.linalg.inv(info)
    var = bread @ _fine_gray_meat(time, status, X, beta, fail, w, xbar, cause) @ bread
    return {"coef": beta, "var": var, "loglik": ll, "loglik_null": ll0, "n_fail": len(fail)}


def _fine_gray_meat(time, status, X, beta, fail, w, xbar, cause):
    """Sum over subjects of (eta_i + psi_i)(eta_i + psi_i)' (Fine & Gray 1999, section 3)."""
    n, p = X.shape
    tf = time[fail]
    # eta_i: integral of (X_i - xbar(t)) w_i(t) dM_i(t), with dM_i = dN_i - w_i Y_i dLambda
    dlam = 1.0 / (np.exp(X @ beta)[None, :] * w).sum(axis=1)  # Breslow jumps of the baseline
    r = np.exp(X @ beta)
    eta = np.zeros((n, p))
    eta[fail] += X[fail] - xbar
    eta -= np.einsum("ij,ijk->jk", w * r[None, :] * dlam[:, None], X[None, :, :] - xbar[:, None, :])
    # psi_i: the censoring-estimation term. q(u) = -int sum_j (X_j - xbar(s)) w_j(s) dM_j(s) over
    # subjects j who failed from a competing cause before u <= s; for them dM_j(s) = -r_j dLambda(s),
    # so q(u) = sum over failure times s >= u of sum_j w_j(s) r_j (X_j - xbar(s)) dLambda(s);
    # psi_i = int q(u) / pi(u) dM^c_i(u), pi(u) = number with T >= u, M^c the censoring martingale.
    other = np.flatnonzero((status != 0) & (status != cause))
    uniq_cens = np.unique(time[status == 0])
    if len(other) == 0 or len(uniq_cens) == 0:
        return eta.T @ eta
    pi = (time[None, :] >= uniq_cens[:, None]).sum(axis=1).astype(float)
    contrib = (w[:, other] * r[other][None, :] * dlam[:, None])[:, :, None] * (X[other][None, :, :] - xbar[:, None, :])
    mask = (time[other][None, None, :] < uniq_cens[:, None, None]) & (tf[None, :, None] >= uniq_cens[:, None, None])
    q = np.einsum("uij,ijk->uk", mask, contrib)
    dnc = (time[:, None] == uniq_cens[None, :]) & (status[:, None] == 0)
    at_risk = time[:, None] >= uniq_cens[None, :]
    d_cens = dnc.sum(axis=0)
    psi = (dnc / pi[None, :]) @ q - (at_risk * (d_cens / pi**2)[None, :]) @ q
    total = eta + psi
    return total.T @ total
