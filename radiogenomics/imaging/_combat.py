"""ComBat empirical-Bayes location/scale harmonisation (Johnson et al. 2007), as in R's sva::ComBat.

Pure numerics on arrays: :func:`combat_fit` estimates the standardisation (grand mean, pooled
variance, covariate coefficients) and the shrunken per-batch location/scale parameters;
:func:`combat_apply` adjusts any patients with those parameters, so validation patients are
adjusted without refitting. The steps follow ``sva::ComBat`` (sva 3.46) line by line; the only
deliberate difference is that the non-parametric prior is integrated on the log scale, which
avoids the underflow to 0 of R's likelihood products (identical results otherwise).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import ConvergenceError, DataFormatError, InsufficientDataError, ParameterError

__all__ = ["combat_apply", "combat_design", "combat_fit"]


def combat_design(covariates: pd.DataFrame | None, *, levels: dict | None = None) -> tuple[pd.DataFrame, dict]:
    """Encode covariates as a numeric design (treatment coding for categorical columns).

    Returns the design (one column per continuous covariate, one per non-reference level of
    each categorical covariate, named ``"<covariate>[<level>]"``) and the levels used, so new
    patients are encoded the same way.
    """
    if covariates is None or covariates.shape[1] == 0:
        return pd.DataFrame(index=None if covariates is None else covariates.index), {}
    levels = dict(levels or {})
    parts = {}
    for col in covariates.columns:
        values = covariates[col]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        if numeric and col not in levels:
            parts[col] = values.astype(np.float64).to_numpy()
            continue
        if col not in levels:
            cats = values.astype("category").cat.categories
            levels[col] = [str(c) for c in cats]
        as_str = values.astype(str)
        unseen = sorted(set(as_str) - set(levels[col]))
        if unseen:
            msg = f"Covariate {col!r} has levels {unseen} that were not present when the harmonisation was fitted ({levels[col]})."
            raise ParameterError(msg)
        for lev in levels[col][1:]:
            parts[f"{col}[{lev}]"] = (as_str == lev).to_numpy(dtype=np.float64)
    return pd.DataFrame(parts, index=covariates.index), levels


def _it_sol(sdat, g_hat, d_hat, g_bar, t2, a, b, conv=1e-4, max_iter=10_000):
    """Parametric EB: iterate posterior mean/variance to convergence (sva's ``it.sol``), all features at once."""
    n = sdat.shape[0]
    g_old, d_old = g_hat, d_hat
    for _ in range(max_iter):
        g_new = (t2 * n * g_hat + d_old * g_bar) / (t2 * n + d_old)
        sum2 = ((sdat - g_new) ** 2).sum(axis=0)
        d_new = (0.5 * sum2 + b) / (n / 2.0 + a - 1.0)
        # sva divides by the signed old value; keep its stopping rule exactly.
        change = max(np.max(np.abs(g_new - g_old) / g_old), np.max(np.abs(d_new - d_old) / d_old))
        g_old, d_old = g_new, d_new
        if not change > conv:
            return g_new, d_new
    msg = f"ComBat parametric empirical Bayes did not converge in {max_iter} iterations."
    raise ConvergenceError(msg)


def _int_eprior(sdat, g_hat, d_hat):
    """Non-parametric EB (sva's ``int.eprior``): leave-one-feature-out weighted averages, vectorised."""
    n = sdat.shape[0]
    s1 = sdat.sum(axis=0)
    s2 = (sdat**2).sum(axis=0)
    # sum2[i, j] = sum_s (x[s, i] - g[j])^2 for feature i and prior point j
    sum2 = s2[:, None] - 2.0 * s1[:, None] * g_hat[None, :] + n * g_hat[None, :] ** 2
    loglh = -(n / 2.0) * np.log(2 * np.pi * d_hat)[None, :] - sum2 / (2.0 * d_hat[None, :])
    np.fill_diagonal(loglh, -np.inf)
    loglh -= loglh.max(axis=1, keepdims=True)
    w = np.exp(loglh)
    w /= w.sum(axis=1, keepdims=True)
    return w @ g_hat, w @ d_hat


def _priors(gamma_hat, delta_hat, *, mean_only: bool = False):
    """Hyper-parameters of the priors (sva's ``aprior``/``bprior``); the scale priors are unused when mean-only."""
    g_bar, t2 = gamma_hat.mean(axis=1), gamma_hat.var(axis=1, ddof=1)
    if mean_only:  # delta_hat is 1 everywhere: its variance is 0 and the inverse-gamma prior undefined
        return g_bar, t2, None, None
    m, s2 = delta_hat.mean(axis=1), delta_hat.var(axis=1, ddof=1)
    return g_bar, t2, (2 * s2 + m**2) / s2, (m * s2 + m**3) / s2


def combat_fit(
    X: np.ndarray,
    batch: np.ndarray,
    design: np.ndarray | None = None,
    *,
    parametric: bool = True,
    mean_only: bool = False,
) -> dict:
    """Fit ComBat on a patients x features array.

    Parameters
    ----------
    X
        Patients x features, no missing values.
    batch
        Batch label per patient.
    design
        Patients x covariates design of biological covariates to protect (no intercept).
    parametric
        Parametric (normal / inverse-gamma priors) or non-parametric empirical Bayes.
    mean_only
        Adjust only the location (set automatically when a batch has a single patient, as sva does:
        a single patient has no within-batch variance).

    Raises
    ------
    DataFormatError
        Fewer than two batches.

    Returns
    -------
    dict with ``batches``, ``n_per_batch``, ``grand_mean``, ``var_pooled``, ``beta`` (covariates x
    features), ``gamma_hat``, ``delta_hat``, ``gamma_star``, ``delta_star`` (batches x features),
    ``mean_only`` and ``unadjusted`` (features constant within a batch, left unchanged as sva does).
    """
    X = np.asarray(X, dtype=np.float64)
    batches, codes = np.unique(np.asarray(batch).astype(str), return_inverse=True)
    if len(batches) < 2:
        msg = f"ComBat needs at least two batches; all {X.shape[0]} patients are in batch {list(batches)}: there is no batch effect to remove."
        raise DataFormatError(msg)
    # as sva: features constant within a batch of several patients are left unadjusted
    constant = np.zeros(X.shape[1], dtype=bool)
    for i in range(len(batches)):
        if (codes == i).sum() > 1:
            constant |= X[codes == i].var(axis=0) == 0
    if constant.all():
        msg = "Every feature is constant within at least one batch; nothing to harmonise."
        raise InsufficientDataError(msg)
    if constant.any():
        fit = combat_fit(X[:, ~constant], batch, design, parametric=parametric, mean_only=mean_only)
        return _with_identity(fit, constant)
    n_array = X.shape[0]
    n_batch = len(batches)
    batchmod = np.eye(n_batch)[codes]
    n_batches = batchmod.sum(axis=0)
    if (n_batches == 1).any():
        mean_only = True
    cov = np.zeros((n_array, 0)) if design is None else np.asarray(design, dtype=np.float64).reshape(n_array, -1)
    full = np.hstack([batchmod, cov])
    if np.linalg.matrix_rank(full) < full.shape[1]:
        msg = "The covariates are confounded with the batch (or with each other): remove them and rerun harmonize."
        raise InsufficientDataError(msg)
    b_hat = np.linalg.solve(full.T @ full, full.T @ X)
    grand_mean = (n_batches / n_array) @ b_hat[:n_batch]
    var_pooled = ((X - full @ b_hat) ** 2).mean(axis=0)
    stand_mean = grand_mean + cov @ b_hat[n_batch:]
    s_data = (X - stand_mean) / np.sqrt(var_pooled)
    gamma_hat = np.linalg.solve(batchmod.T @ batchmod, batchmod.T @ s_data)
    if mean_only:
        delta_hat = np.ones((n_batch, X.shape[1]))
    else:
        delta_hat = np.vstack([s_data[codes == i].var(axis=0, ddof=1) for i in range(n_batch)])
    g_bar, t2, a, b = _priors(gamma_hat, delta_hat, mean_only=mean_only)
    gamma_star, delta_star = np.empty_like(gamma_hat), np.empty_like(delta_hat)
    for i in range(n_batch):
        sdat = s_data[codes == i]
        if parametric and mean_only:
            gamma_star[i] = (t2[i] * gamma_hat[i] + g_bar[i]) / (t2[i] + 1.0)
            delta_star[i] = 1.0
        elif parametric:
            gamma_star[i], delta_star[i] = _it_sol(sdat, gamma_hat[i], delta_hat[i], g_bar[i], t2[i], a[i], b[i])
        else:
            gamma_star[i], delta_star[i] = _int_eprior(sdat, gamma_hat[i], delta_hat[i])
    return {
        "batches": batches,
        "n_per_batch": n_batches.astype(int),
        "grand_mean": grand_mean,
        "var_pooled": var_pooled,
        "beta": b_hat[n_batch:],
        "gamma_hat": gamma_hat,
        "delta_hat": delta_hat,
        "gamma_star": gamma_star,
        "delta_star": delta_star,
        "mean_only": mean_only,
        "unadjusted": np.zeros(X.shape[1], dtype=bool),
    }


def _with_identity(fit: dict, constant: np.ndarray) -> dict:
    """Insert identity parameters (output = input) for the features left unadjusted."""
    out = dict(fit)
    fill = {
        "grand_mean": 0.0,
        "var_pooled": 1.0,
        "beta": 0.0,
        "gamma_hat": 0.0,
        "delta_hat": 1.0,
        "gamma_star": 0.0,
        "delta_star": 1.0,
    }
    for key, value in fill.items():
        arr = np.asarray(fit[key])
        full = np.full((*arr.shape[:-1], constant.size), value)
        full[..., ~constant] = arr
        out[key] = full
    out["unadjusted"] = constant
    return out


def combat_apply(X: np.ndarray, batch: np.ndarray, design: np.ndarray | None, fit: dict) -> np.ndarray:
    """Adjust patients with fitted ComBat parameters (no refitting)."""
    X = np.asarray(X, dtype=np.float64)
    batches = [str(b) for b in fit["batches"]]
    labels = np.asarray(batch).astype(str)
    unseen = sorted(set(labels) - set(batches))
    if unseen:
        msg = f"Batches {unseen} were not in the fitted harmonisation ({batches}); ComBat cannot adjust an unseen batch. Refit with those patients' batch included."
        raise ParameterError(msg)
    codes = (
        np.searchsorted(np.asarray(batches), labels)
        if batches == sorted(batches)
        else np.array([batches.index(b) for b in labels])
    )
    beta = np.asarray(fit["beta"], dtype=np.float64)
    cov = (
        np.zeros((X.shape[0], beta.shape[0]))
        if design is None
        else np.asarray(design, dtype=np.float64).reshape(X.shape[0], -1)
    )
    stand_mean = np.asarray(fit["grand_mean"]) + cov @ beta
    sd = np.sqrt(np.asarray(fit["var_pooled"], dtype=np.float64))
    s_data = (X - stand_mean) / sd
    g, d = np.asarray(fit["gamma_star"])[codes], np.asarray(fit["delta_star"])[codes]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return (s_data - g) / np.sqrt(d) * sd + stand_mean
