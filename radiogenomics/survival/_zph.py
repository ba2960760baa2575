"""Proportional-hazards test as R's ``cox.zph`` (survival >= 3.0)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import copy_mudata
from .._utils import require_mudata
from ..errors import DataFormatError, ParameterError
from ..get import result
from ._cox import cox_inputs, fit_cox

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["ph_test", "zph_table"]

Transform = Literal["km", "rank", "identity", "log"]


def _transform_times(time: np.ndarray, event: np.ndarray, transform: str) -> np.ndarray:
    if transform == "identity":
        return time.astype(float)
    if transform == "log":
        return np.log(time)
    if transform == "rank":
        return stats.rankdata(time)
    if transform == "km":
        # 1 - left-continuous Kaplan-Meier of all patients (strata ignored), as cox.zph does.
        uniq = np.unique(time)
        at_risk = len(time) - np.searchsorted(np.sort(time), uniq, side="left")
        deaths = np.array([np.sum(event & (time == u)) for u in uniq])
        surv = np.cumprod(1.0 - deaths / at_risk)
        idx = np.searchsorted(uniq, time, side="left")  # number of unique times strictly below
        return 1.0 - np.concatenate([[1.0], surv])[idx]
    msg = f"transform={transform!r} is not supported; use 'km' (R's default), 'rank', 'identity' or 'log'."
    raise ParameterError(msg)


def _stratum_moments(time, event, X, eta, g, *, efron: bool):
    """Score for the time interaction and the blocks of the joint information, one stratum."""
    p = X.shape[1]
    r = np.exp(eta - eta.max())
    u = np.zeros(p)
    info = np.zeros((3, p, p))  # beta-beta, beta-gamma, gamma-gamma
    for t in np.unique(time[event]):
        risk = time >= t
        dead = event & (time == t)
        w, xr, xd, wd = r[risk], X[risk], X[dead], r[dead]
        s0, s1, s2 = w.sum(), w @ xr, (xr * w[:, None]).T @ xr
        d0, d1, d2 = wd.sum(), wd @ xd, (xd * wd[:, None]).T @ xd
        nd = int(dead.sum())
        fracs = np.arange(nd) / nd if efron else np.zeros(nd)
        v_sum = np.zeros((p, p))
        xbar_sum = np.zeros(p)
        for f in fracs:
            a0, a1, a2 = s0 - f * d0, s1 - f * d1, s2 - f * d2
            xbar = a1 / a0
            xbar_sum += xbar
            v_sum += a2 / a0 - np.outer(xbar, xbar)
        gt = g[dead][0]
        u += gt * (xd.sum(axis=0) - xbar_sum)
        info += np.stack([v_sum, gt * v_sum, gt * gt * v_sum])
    return u, info


def zph_table(time, event, X, beta, *, terms, groups=None, strata=None, ties="efron", transform="km"):
    """Return R's ``cox.zph`` table (``chisq``, ``df``, ``p`` per covariate and ``GLOBAL``).

    The test is the score test for ``gamma = 0`` in the model with coefficients
    ``beta + gamma * g(t)``, evaluated at the fitted ``beta`` with the full joint information
    matrix (Grambsch & Therneau 1994, doi:10.1093/biomet/81.3.515, as computed by survival 3).
    ``groups`` maps terms to covariates so that dummy-coded factors get one multi-df test.
    """
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    X = np.asarray(X, dtype=float)
    p = X.shape[1]
    ttimes = _transform_times(time, event, transform)
    g = ttimes - ttimes[event].mean()
    eta = X @ np.asarray(beta, dtype=float)
    strata = np.zeros(len(time), dtype=int) if strata is None else np.asarray(strata)
    u = np.zeros(p)
    blocks = np.zeros((3, p, p))
    for s in np.unique(strata):
        idx = strata == s
        us, bs = _stratum_moments(time[idx], event[idx], X[idx], eta[idx], g[idx], efron=ties == "efron")
        u, blocks = u + us, blocks + bs
    imat = np.block([[blocks[0], blocks[1]], [blocks[1].T, blocks[2]]])
    groups = list(terms) if groups is None else list(groups)
    rows = []
    for name in dict.fromkeys(groups):
        jj = [i for i, gname in enumerate(groups) if gname == name]
        rows.append((name, *_score_test(imat, u, jj, p)))
    rows.append(("GLOBAL", *_score_test(imat, u, list(range(p)), p)))
    table = pd.DataFrame(rows, columns=["covariate", "chisq", "df", "p"]).set_index("covariate")
    return table


def _score_test(imat, u, jj, p):
    kk = list(range(p)) + [p + j for j in jj]
    uu = np.concatenate([np.zeros(p), u[jj]])
    chisq = float(uu @ np.linalg.solve(imat[np.ix_(kk, kk)], uu))
    return chisq, len(jj), float(stats.chi2.sf(chisq, len(jj)))


def ph_test(
    mdata: MuData,
    *,
    key: str = "cox",
    transform: Transform = "km",
    key_added: str | None = None,
    copy: bool = False,
) -> MuData | None:
    """Test proportional hazards of a stored Cox model, as R's ``cox.zph``.

    The model of :func:`radiogenomics.survival.cox` stored under ``key`` is refitted on the same
    patients (an error is raised if the data changed since), then each covariate gets the
    Grambsch-Therneau score test for a coefficient that varies with ``g(t)``, plus a global test.
    Dummy-coded categorical covariates get one test with one degree of freedom per level.

    Parameters
    ----------
    mdata
        Cohort container on which :func:`radiogenomics.survival.cox` was run.
    key
        Key of the stored Cox model.
    transform
        Time scale ``g(t)``: ``"km"`` (1 - Kaplan-Meier, R's default), ``"rank"``,
        ``"identity"`` or ``"log"``.
    key_added
        Key for the results; default ``f"{key}_ph_test"``.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.uns[key_added]["table"]`` : :class:`pandas.DataFrame`
        Index: covariates and ``GLOBAL``; columns ``chisq``, ``df``, ``p``.
    ``mdata.uns[key_added]["params"]`` : dict
        ``key`` and ``transform``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> rg.survival.cox(mdata, ["age", "idh_mutant"])
    >>> rg.survival.ph_test(mdata)
    >>> mdata.uns["cox_ph_test"]["table"].index.tolist()
    ['age', 'idh_mutant', 'GLOBAL']
    """
    require_mudata(mdata, "survival.ph_test")
    mdata = copy_mudata(mdata) if copy else mdata
    params = result(mdata, key, "params")
    summary = result(mdata, key, "summary")
    terms = result(mdata, key, "terms")
    design, _, t, ev, rows, codes = cox_inputs(
        mdata, params["covariates"], params["time"], params["event"], params["strata"], where="ph_test"
    )
    X = design.to_numpy(dtype=float)[rows]
    fit = fit_cox(t[rows], ev[rows], X, ties=params["ties"], strata=codes)
    if not np.allclose(fit["coef"], summary["coef"].to_numpy(), rtol=1e-6, atol=1e-9):
        msg = f"The data changed since rg.survival.cox stored {key!r}; run rg.survival.cox again before ph_test."
        raise DataFormatError(msg)
    table = zph_table(
        t[rows],
        ev[rows],
        X,
        fit["coef"],
        terms=list(design.columns),
        groups=terms["covariate"].tolist(),
        strata=codes,
        ties=params["ties"],
        transform=transform,
    )
    mdata.uns[key_added or f"{key}_ph_test"] = {"table": table, "params": {"key": key, "transform": transform}}
    return mdata if copy else None
