"""Cox proportional-hazards regression as R's ``coxph``: coefficients, tests, concordance."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import copy_mudata
from .._keys import score_column
from .._utils import require_mudata
from ..errors import ConvergenceError, InsufficientDataError, ParameterError
from ._design import check_constant, design_matrix
from ._likelihood import breslow_efron_terms, newton
from ._metrics import harrell_c
from ._outcome import optional_column, survival_columns

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["cox", "cox_inputs", "fit_cox"]

Ties = Literal["efron", "breslow", "exact"]


def _fit_terms(time, event, X, ties, strata, entry=None):
    """Return the maximum and the ``(loglik, score, information)`` function of the chosen likelihood."""
    from ._exact import exact_loglike

    def terms(b):
        if ties == "exact":
            return exact_loglike(time, event, X, b, strata)
        return breslow_efron_terms(time, event, X, b, strata, ties=ties, entry=entry)

    start = None
    if ties == "exact":  # Efron's maximum is close to the exact one and much cheaper to reach
        start = newton(lambda b: breslow_efron_terms(time, event, X, b, strata), X.shape[1])
    beta = newton(terms, X.shape[1], start=start)
    return beta, terms


def _check_finite_fit(beta, info, X) -> None:
    """Refuse diverging fits (R warns "coefficient may be infinite"; we raise)."""
    scaled = np.abs(beta) * X.std(axis=0)
    try:
        np.linalg.cholesky(info)
    except np.linalg.LinAlgError:
        scaled = np.full_like(scaled, np.inf)
    if np.any(~np.isfinite(scaled) | (scaled > 15)):
        msg = (
            "Cox model did not converge: a covariate may separate events perfectly (monotone likelihood, "
            f"an infinite coefficient; |coef x SD| = {np.round(scaled, 1).tolist()}) or covariates may be "
            "collinear; check or drop them."
        )
        raise ConvergenceError(msg)


def fit_cox(time, event, X, *, ties: Ties = "efron", strata=None, entry=None) -> dict:
    """Fit a Cox model on arrays and return R ``coxph``'s numbers.

    The one Cox fit of the package (``cox``, ``compare``, ``ph_test``, ``nomogram``,
    ``factor_associations``, the calibration slope of ``evaluate``): the Efron or Breslow
    partial likelihood of :mod:`._likelihood` or the exact one of ``_exact``, maximised by
    Newton-Raphson with step halving as R's ``coxph.fit``. ``entry`` gives start times of
    counting-process rows, with R's ``(start, stop]`` convention (Efron and Breslow ties only).

    Returns a dict with ``coef``, ``var`` (covariance), ``loglik_null``, ``loglik``,
    ``lr``, ``wald``, ``score`` (test statistics) and ``center`` (R's centring values).
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    X = np.asarray(X, dtype=float)
    # R centres covariates except those with values in {-1, 0, 1} (coxph nocenter); this only
    # changes the reported linear predictor, not the fit.
    center = np.where(np.all(np.isin(X, (-1.0, 0.0, 1.0)), axis=0), 0.0, X.mean(axis=0))
    Xc = X - center
    if ties not in ("efron", "breslow", "exact"):
        msg = f"ties={ties!r} is not supported; use 'efron' (R's default), 'breslow' or 'exact'."
        raise ParameterError(msg)
    if entry is not None:
        entry = np.asarray(entry, dtype=float)
        if ties == "exact":
            msg = "ties='exact' does not support start-stop (counting-process) data; use 'efron' or 'breslow'."
            raise ParameterError(msg)
    try:
        beta, terms = _fit_terms(time, event, Xc, ties, strata, entry)
    except ConvergenceError as err:
        msg = (
            f"Cox model did not converge ({err}): a covariate may separate events perfectly (monotone "
            "likelihood, an infinite coefficient) or covariates may be collinear; check or drop them."
        )
        raise ConvergenceError(msg) from err
    ll, _, info = terms(beta)
    ll0, u0, info0 = terms(np.zeros_like(beta))
    _check_finite_fit(beta, info, X)
    var = np.linalg.inv(info)
    return {
        "coef": beta,
        "var": var,
        "loglik": float(ll),
        "loglik_null": float(ll0),
        "lr": float(2 * (ll - ll0)),
        "wald": float(beta @ np.linalg.solve(var, beta)),
        "score": float(u0 @ np.linalg.solve(info0, u0)),
        "center": center,
    }


def _summary(fit: dict, terms: list[str]) -> pd.DataFrame:
    coef = fit["coef"]
    se = np.sqrt(np.diag(fit["var"]))
    z = coef / se
    q = stats.norm.ppf(0.975)
    out = pd.DataFrame(
        {
            "coef": coef,
            "exp(coef)": np.exp(coef),
            "se(coef)": se,
            "z": z,
            "p": 2 * stats.norm.sf(np.abs(z)),
            "exp(coef) lower 95%": np.exp(coef - q * se),
            "exp(coef) upper 95%": np.exp(coef + q * se),
        },
        index=pd.Index(terms, name="covariate"),
    )
    return out


def _tests(fit: dict, df: int) -> pd.DataFrame:
    stat = {"likelihood_ratio": fit["lr"], "wald": fit["wald"], "score": fit["score"]}
    return pd.DataFrame(
        {"statistic": list(stat.values()), "df": df, "p": [float(stats.chi2.sf(v, df)) for v in stat.values()]},
        index=pd.Index(list(stat), name="test"),
    )


def cox_inputs(mdata: MuData, covariates, time, event, strata, *, where: str):
    """Resolve the design, survival arrays and strata; drop incomplete rows with a warning."""
    design, terms = design_matrix(mdata, covariates, where=where)
    t, ev, usable = survival_columns(mdata.obs, time, event, where=where)
    strata_values, usable = optional_column(mdata.obs, strata, usable, role="strata", where=where)
    complete = design.notna().all(axis=1).to_numpy()
    n_cov_missing = int((usable & ~complete).sum())
    if n_cov_missing:
        warnings.warn(
            f"{where}: {n_cov_missing} patients with missing covariate values are excluded.",
            UserWarning,
            stacklevel=3,
        )
    rows = usable & complete
    if not ev[rows].any():
        msg = f"{where}: no events among the {int(rows.sum())} complete patients; the model is not estimable."
        raise InsufficientDataError(msg)
    check_constant(design.loc[rows], where)
    codes = None if strata_values is None else pd.factorize(strata_values[rows])[0]
    return design, terms, t, ev, rows, codes


def cox(
    mdata: MuData,
    covariates: Sequence[str],
    *,
    time: str = "os_months",
    event: str = "os_event",
    ties: Ties = "efron",
    strata: str | None = None,
    key_added: str = "cox",
    copy: bool = False,
) -> MuData | None:
    """Fit a Cox proportional-hazards model on patient-level covariates, as R's ``coxph``.

    Covariates are global ``obs`` columns or ``"<mod>:<feature>"`` keys such as ``"rna:CD274"``
    or ``"mofa:1"``. Categorical covariates are dummy-coded against their first level (the
    first category of a pandas categorical, otherwise the first in sorted order); booleans are
    0/1. Patients with a missing time, event, stratum or covariate are excluded with a warning
    that names the count.

    Parameters
    ----------
    mdata
        Cohort container; survival columns live in ``mdata.obs``.
    covariates
        Keys resolved by :func:`radiogenomics._utils.resolve_keys`.
    time
        ``mdata.obs`` column with follow-up time (months).
    event
        ``mdata.obs`` boolean column, ``True`` if the event was observed.
    ties
        ``"efron"`` (R's default), ``"breslow"`` (both via statsmodels ``PHReg``) or ``"exact"``
        (exact partial likelihood, R's ``ties = "exact"``).
    strata
        Optional ``mdata.obs`` column; a separate baseline hazard per stratum.
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.uns[key_added]["summary"]`` : :class:`pandas.DataFrame`
        One row per term: ``coef``, ``exp(coef)``, ``se(coef)``, ``z``, ``p``,
        ``exp(coef) lower 95%``, ``exp(coef) upper 95%``.
    ``mdata.uns[key_added]["tests"]`` : :class:`pandas.DataFrame`
        ``likelihood_ratio``, ``wald`` and ``score`` rows with ``statistic``, ``df``, ``p``.
    ``mdata.uns[key_added]["concordance"]`` : float
        Harrell's C of the linear predictor (within strata), R's convention.
    ``mdata.uns[key_added]["covariance"]`` : :class:`pandas.DataFrame`
        Covariance matrix of the coefficients.
    ``mdata.uns[key_added]["terms"]`` : :class:`pandas.DataFrame`
        ``term, covariate, level, reference, kind, center`` (dummy coding and R's centring).
    ``mdata.uns[key_added]["params"]`` : dict
        Arguments, ``n``, ``n_events``, ``n_excluded``, ``loglik``, ``loglik_null``.
    ``mdata.obs[f"{key_added}_risk"]`` : float
        Linear predictor centred as R's ``predict(fit, type = "lp")``; higher means higher
        hazard; missing for excluded patients.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> rg.survival.cox(mdata, ["age", "idh_mutant"])
    >>> mdata.uns["cox"]["summary"].index.tolist()
    ['age', 'idh_mutant']
    >>> bool(mdata.uns["cox"]["summary"].loc["idh_mutant", "coef"] < 0)
    True
    """
    require_mudata(mdata, "survival.cox")
    mdata = copy_mudata(mdata) if copy else mdata
    design, terms, t, ev, rows, codes = cox_inputs(mdata, covariates, time, event, strata, where="cox")
    X = design.to_numpy(dtype=float)[rows]
    fit = fit_cox(t[rows], ev[rows], X, ties=ties, strata=codes)
    lp = (X - fit["center"]) @ fit["coef"]
    risk = np.full(mdata.n_obs, np.nan)
    risk[rows] = lp
    names = list(design.columns)
    terms = terms.assign(center=fit["center"])
    mdata.obs[score_column(key_added, "risk")] = risk
    mdata.uns[key_added] = {
        "summary": _summary(fit, names),
        "tests": _tests(fit, len(names)),
        "concordance": harrell_c(t[rows], ev[rows], lp, codes),
        "covariance": pd.DataFrame(fit["var"], index=names, columns=names),
        "terms": terms,
        "params": {
            "covariates": list(covariates) if not isinstance(covariates, str) else [covariates],
            "time": time,
            "event": event,
            "ties": ties,
            "strata": strata,
            "n": int(rows.sum()),
            "n_events": int(ev[rows].sum()),
            "n_excluded": int((~rows).sum()),
            "loglik": fit["loglik"],
            "loglik_null": fit["loglik_null"],
        },
    }
    return mdata if copy else None
