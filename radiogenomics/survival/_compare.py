"""Incremental value of a radiomic score over clinical factors: nested Cox models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import copy_mudata
from .._cv import check_nested_splits
from .._utils import bootstrap_indices, require_mudata
from ..errors import ConvergenceError, ParameterError
from ._cox import cox_inputs, fit_cox
from ._metrics import harrell_c

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["compare"]


def _lp(time, event, X, train, test):
    """Refit the Cox model (Efron ties, the package's Cox core) on ``train`` and predict ``test``."""
    return X[test] @ fit_cox(time[train], event[train], X[train])["coef"]


def _delta_c(time, event, Xb, Xf, train, test) -> tuple[float, float]:
    cb = harrell_c(time[test], event[test], _lp(time, event, Xb, train, test))
    cf = harrell_c(time[test], event[test], _lp(time, event, Xf, train, test))
    return cb, cf


def _bootstrap(time, event, Xb, Xf, n_boot, seed) -> np.ndarray:
    """Apparent C of both models refitted on each resample (model uncertainty included)."""
    draws = np.full((n_boot, 2), np.nan)
    for b, idx in enumerate(bootstrap_indices(len(time), n_boot, seed)):
        try:
            draws[b] = _delta_c(time, event, Xb, Xf, idx, idx)
        except ConvergenceError:
            continue
    return draws


def _cross_validated(time, event, Xb, Xf, cv, repeats, seed) -> pd.DataFrame:
    from sklearn.model_selection import RepeatedStratifiedKFold

    rows = []
    # every test fold needs events and censored patients, checked before the stratified splitter warns
    check_nested_splits(event.astype(int), None, cv=cv, inner_cv=1, where="compare", names=["censored", "event"])
    splitter = RepeatedStratifiedKFold(n_splits=cv, n_repeats=repeats, random_state=seed)
    for i, (train, test) in enumerate(splitter.split(Xb, event)):
        try:
            cb, cf = _delta_c(time, event, Xb, Xf, train, test)
        except ConvergenceError:
            cb = cf = np.nan
        rows.append({"repeat": i // cv, "fold": i % cv, "c_base": cb, "c_full": cf, "delta_c": cf - cb})
    return pd.DataFrame(rows)


def compare(
    mdata: MuData,
    base: Sequence[str],
    added: Sequence[str],
    *,
    time: str = "os_months",
    event: str = "os_event",
    n_boot: int = 200,
    cv: int | None = 5,
    repeats: int = 5,
    seed: int = 0,
    key_added: str = "compare",
    copy: bool = False,
) -> MuData | None:
    """Test the incremental value of ``added`` covariates (e.g. a radiomic score) over ``base`` ones.

    Two nested Cox models (Efron ties, :func:`radiogenomics.survival.cox`'s fitter) are fitted on
    the same patients, those with every covariate observed. The likelihood-ratio test compares
    them; the difference in Harrell's C-index gets a percentile bootstrap 95% interval in which
    both models are refitted on each resample. Both are *apparent* (in-sample) measures and are
    optimistic, more so for the bigger model: a score trained on the same patients (e.g. the
    in-sample ``risk_score`` of :func:`signature`) inflates them further; use its out-of-fold
    ``risk_score_cv`` or a validation cohort. The cross-validated difference (``cv`` folds
    repeated ``repeats`` times, both models refitted on the training folds and scored on the
    held-out fold) is the honest estimate of the gain in discrimination.

    Parameters
    ----------
    mdata
        Cohort container.
    base
        Covariates of the reference model (``obs`` columns or ``"<mod>:<feature>"`` keys).
    added
        Covariates added to ``base`` in the full model.
    time
        ``mdata.obs`` column with follow-up time.
    event
        ``mdata.obs`` boolean column, ``True`` if the event was observed.
    n_boot
        Bootstrap resamples for the interval of the C-index difference.
    cv
        Folds of the cross-validated C-index difference (``None`` to skip it).
    repeats
        Repeats of the cross-validation.
    seed
        Seed of the bootstrap and the folds.
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes ``mdata.uns[key_added]`` with:

    ``"models"``
        Rows ``base`` and ``full``: ``n_terms, loglik, aic, harrell_c, ci_lower, ci_upper, cv_harrell_c``.
    ``"test"``
        Likelihood-ratio ``statistic, df, p``.
    ``"delta_c"``
        ``estimate, ci_lower, ci_upper`` (apparent) and ``cv_mean, cv_sd`` (cross-validated).
    ``"cv_scores"``
        Per held-out fold: ``c_base, c_full, delta_c``.
    ``"params"``
        Arguments, ``n``, ``n_events``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=120, seed=0)
    >>> rg.survival.compare(
    ...     mdata, ["age", "idh_mutant"], ["radiomics:CT_tumour_original_shape_Flatness"], n_boot=20, cv=None
    ... )
    >>> mdata.uns["compare"]["test"].columns.tolist()
    ['statistic', 'df', 'p']
    """
    require_mudata(mdata, "survival.compare")
    mdata = copy_mudata(mdata) if copy else mdata
    base, added = list(base), list(added)
    if not added or set(base) & set(added):
        msg = f"added must hold covariates that are not in base (base={base}, added={added})."
        raise ParameterError(msg)
    design, terms, t, e, rows, _ = cox_inputs(mdata, base + added, time, event, None, where="compare")
    in_base = terms["covariate"].isin(base).to_numpy()
    X = design.to_numpy(dtype=float)[rows]
    X = X - X.mean(axis=0)
    t, e = t[rows], e[rows]
    Xb, Xf = X[:, in_base], X
    fits = {"base": fit_cox(t, e, Xb), "full": fit_cox(t, e, Xf)}
    apparent = {name: harrell_c(t, e, (Xb if name == "base" else Xf) @ f["coef"]) for name, f in fits.items()}
    draws = _bootstrap(t, e, Xb, Xf, n_boot, seed)
    lo, hi = np.nanpercentile(draws, [2.5, 97.5], axis=0)
    d_lo, d_hi = np.nanpercentile(draws[:, 1] - draws[:, 0], [2.5, 97.5])
    cv_scores = _cross_validated(t, e, Xb, Xf, cv, repeats, seed) if cv else pd.DataFrame()
    lr = 2 * (fits["full"]["loglik"] - fits["base"]["loglik"])
    df = int(Xf.shape[1] - Xb.shape[1])
    models = pd.DataFrame(
        {
            "n_terms": [Xb.shape[1], Xf.shape[1]],
            "loglik": [fits["base"]["loglik"], fits["full"]["loglik"]],
            "aic": [2 * Xb.shape[1] - 2 * fits["base"]["loglik"], 2 * Xf.shape[1] - 2 * fits["full"]["loglik"]],
            "harrell_c": [apparent["base"], apparent["full"]],
            "ci_lower": lo,
            "ci_upper": hi,
            "cv_harrell_c": [cv_scores["c_base"].mean(), cv_scores["c_full"].mean()] if cv else np.nan,
        },
        index=pd.Index(["base", "full"], name="model"),
    )
    mdata.uns[key_added] = {
        "models": models,
        "test": pd.DataFrame(
            {"statistic": [lr], "df": [df], "p": [float(stats.chi2.sf(lr, df))]},
            index=pd.Index(["likelihood_ratio"], name="test"),
        ),
        "delta_c": pd.DataFrame(
            {
                "estimate": [apparent["full"] - apparent["base"]],
                "ci_lower": [d_lo],
                "ci_upper": [d_hi],
                "cv_mean": [cv_scores["delta_c"].mean() if cv else np.nan],
                "cv_sd": [cv_scores["delta_c"].std() if cv else np.nan],
            }
        ),
        "cv_scores": cv_scores,
        "params": {
            "base": base,
            "added": added,
            "time": time,
            "event": event,
            "n_boot": n_boot,
            "cv": cv,
            "repeats": repeats,
            "seed": seed,
            "n": int(rows.sum()),
            "n_events": int(e.sum()),
            "note": "apparent C-index and LR test are in-sample (optimistic); cv_mean is cross-validated",
        },
    }
    return mdata if copy else None
