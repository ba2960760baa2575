"""Core of the radiomic signature: the preprocessing pipeline and the cross-validated Coxnet path.

Pure functions on arrays; the container wrapper lives in ``_signature.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import InsufficientDataError

__all__ = [
    "CoxnetCVFit",
    "NearConstantFilter",
    "cox_log_partial_likelihood",
    "fit_coxnet_cv",
    "make_pipeline",
    "penalty_rule",
]


class NearConstantFilter(TransformerMixin, BaseEstimator):
    """Drop features that are constant or whose most frequent value covers more than ``max_fraction``.

    Fitted on training patients only (inside the pipeline), so the kept set never sees test data.

    Parameters
    ----------
    max_fraction
        Largest share of patients allowed to have the most frequent value of a feature.
    """

    def __init__(self, max_fraction: float = 0.95):
        self.max_fraction = max_fraction

    def fit(self, X, y=None):
        X = validate_data(self, X, dtype=np.float64)
        n = X.shape[0]
        if n == 0:
            self.support_ = np.zeros(X.shape[1], dtype=bool)
            return self
        # largest number of equal values per column, all columns at once: runs of a column-wise sort
        s = np.sort(X, axis=0)
        rows = np.arange(n)[:, None]
        new = np.ones(s.shape, dtype=bool)
        new[1:] = s[1:] != s[:-1]
        run_start = np.maximum.accumulate(np.where(new, rows, 0), axis=0)
        most = (rows - run_start + 1).max(axis=0)
        self.support_ = (s[0] != s[-1]) & (most <= self.max_fraction * n)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X[:, self.support_]

    def get_support(self) -> np.ndarray:
        """Return the boolean mask of kept features."""
        check_is_fitted(self)
        return self.support_


def make_pipeline(model, *, max_fraction: float = 0.95) -> Pipeline:
    """Return the signature pipeline: median imputation, near-constant filter, standard scaling, ``model``.

    ``keep_empty_features=True`` keeps all-missing columns (filled with 0) so that column
    positions stay aligned with feature names; the filter then removes them.
    """
    return Pipeline(
        [
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
            ("filter", NearConstantFilter(max_fraction=max_fraction)),
            ("scale", StandardScaler()),
            ("model", model),
        ]
    )


def survival_y(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Return the scikit-survival structured outcome array."""
    from sksurv.util import Surv

    return Surv.from_arrays(event=np.asarray(event, dtype=bool), time=np.asarray(time, dtype=float))


def cox_log_partial_likelihood(eta: np.ndarray, time: np.ndarray, event: np.ndarray) -> np.ndarray:
    """Breslow log partial likelihood of each column of linear predictors ``eta`` (n x k).

    Vectorised over a whole regularisation path: one value per column.
    """
    eta = np.atleast_2d(np.asarray(eta, dtype=float).T).T
    order = np.argsort(-time, kind="stable")
    t, e, eta = time[order], event[order].astype(bool), eta[order]
    shift = eta.max(axis=0)
    cumulative = np.cumsum(np.exp(eta - shift), axis=0)
    # In descending time order the risk set of patient i ends at the last patient tied with t_i.
    last = np.searchsorted(-t, -t, side="right") - 1
    log_risk = np.log(cumulative[last]) + shift
    return ((eta - log_risk) * e[:, None]).sum(axis=0)


def penalty_rule(cvm: np.ndarray, cvsd: np.ndarray) -> tuple[int, int]:
    """Return the path indices of ``cv.glmnet``'s ``lambda.min`` and ``lambda.1se`` (penalties in decreasing order)."""
    index_min = int(np.argmin(cvm))
    within = np.flatnonzero(cvm <= cvm[index_min] + cvsd[index_min])
    return index_min, int(within.min())  # the smallest index is the largest penalty


@dataclass
class CoxnetCVFit:
    """A Coxnet pipeline fitted on all given patients, with its penalty chosen by inner CV."""

    pipeline: Pipeline
    alphas: np.ndarray
    cvm: np.ndarray
    cvsd: np.ndarray
    n_nonzero: np.ndarray
    index_min: int
    index_1se: int
    index: int
    support: np.ndarray  # columns kept by the filter, in input order

    @property
    def alpha(self) -> float:
        """The chosen penalty."""
        return float(self.alphas[self.index])

    def coef(self, index: int | None = None) -> np.ndarray:
        """Coefficients of all input columns (0 for filtered columns) on the standardised scale."""
        full = np.zeros(self.support.size)
        full[self.support] = self.pipeline[-1].coef_[:, self.index if index is None else index]
        return full

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Impute, filter and scale ``X`` with the fitted preprocessing."""
        return self.pipeline[:-1].transform(X)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Linear predictor at the chosen penalty (higher = higher hazard)."""
        return self.transform(X) @ self.pipeline[-1].coef_[:, self.index]


def _fit_path(pipe: Pipeline, X, y, penalized: np.ndarray, alphas=None) -> np.ndarray:
    """Fit the preprocessing, then Coxnet over a whole penalty path; return the transformed X."""
    Xt = pipe[:-1].fit_transform(X)
    support = pipe.named_steps["filter"].support_
    pf = penalized[support].astype(float)
    if not pf.any():
        msg = "No penalised feature is left after removing constant and near-constant features."
        raise InsufficientDataError(msg)
    pipe[-1].set_params(alphas=alphas, penalty_factor=None if pf.all() else pf)
    pipe[-1].fit(Xt, y)
    return Xt


def _inner_deviance(X, time, event, folds, model_params, penalized, alphas, max_fraction):
    """Cross-validated partial-likelihood deviance for every alpha (cv.glmnet, ``grouped=TRUE``)."""
    from sksurv.linear_model import CoxnetSurvivalAnalysis

    cvraw = np.full((len(folds), alphas.size), np.nan)
    weights = np.zeros(len(folds))
    for k, (train, test) in enumerate(folds):
        pipe = make_pipeline(CoxnetSurvivalAnalysis(**model_params), max_fraction=max_fraction)
        _fit_path(pipe, X[train], survival_y(time[train], event[train]), penalized, alphas=alphas)
        coef = pipe[-1].coef_
        # One fit per fold for the whole path: score every alpha on the held-out patients (Verweij & van
        # Houwelingen 1993): deviance on all patients minus deviance on the training part.
        eta_all = pipe[:-1].transform(X) @ coef
        eta_train = eta_all[train]
        dev_all = -2 * cox_log_partial_likelihood(eta_all, time, event)
        dev_train = -2 * cox_log_partial_likelihood(eta_train, time[train], event[train])
        weights[k] = event[test].sum()
        cvraw[k, : coef.shape[1]] = (dev_all - dev_train)[: alphas.size] / max(weights[k], 1)
    ok = ~np.isnan(cvraw).any(axis=0)
    w = weights / weights.sum()
    cvm = np.where(ok, np.nansum(cvraw * w[:, None], axis=0), np.inf)
    var = np.nansum(w[:, None] * (cvraw - cvm) ** 2, axis=0) / max(len(folds) - 1, 1)
    return cvm, np.sqrt(np.where(ok, var, np.inf))


def fit_coxnet_cv(
    X: np.ndarray,
    time: np.ndarray,
    event: np.ndarray,
    *,
    penalized: np.ndarray | None = None,
    l1_ratio: float = 1.0,
    n_alphas: int = 50,
    alpha_min_ratio: float = 0.01,
    inner_cv: int = 5,
    rule: str = "1se",
    max_fraction: float = 0.95,
    seed: int = 0,
) -> CoxnetCVFit:
    """Fit the Coxnet pipeline on all patients and choose the penalty by inner cross-validation.

    As ``cv.glmnet``: the penalty path comes from a fit on all given patients; each inner fold
    is fitted once over that whole path and every penalty is scored on the held-out fold by the
    cross-validated partial-likelihood deviance. ``rule="min"`` takes the penalty of minimum
    deviance, ``rule="1se"`` the largest penalty within one standard error of it. The path ends
    at ``alpha_min_ratio`` times the largest penalty (glmnet's choice for p > n; glmnet's 1e-4
    for n > p makes the unpenalised end of the path slow to converge on correlated features).
    """
    from sksurv.linear_model import CoxnetSurvivalAnalysis

    X = np.asarray(X, dtype=float)
    penalized = np.ones(X.shape[1], dtype=bool) if penalized is None else np.asarray(penalized, dtype=bool)
    params = {"l1_ratio": l1_ratio, "n_alphas": n_alphas, "alpha_min_ratio": alpha_min_ratio, "max_iter": 100000}
    pipe = make_pipeline(CoxnetSurvivalAnalysis(**params), max_fraction=max_fraction)
    _fit_path(pipe, X, survival_y(time, event), penalized)
    alphas = pipe[-1].alphas_.copy()
    splitter = StratifiedKFold(n_splits=inner_cv, shuffle=True, random_state=seed)
    folds = list(splitter.split(X, event))
    cvm, cvsd = _inner_deviance(X, time, event, folds, params, penalized, alphas, max_fraction)
    if not np.isfinite(cvm).any():
        msg = "Inner cross-validation failed at every penalty (no events in some folds?); lower cv."
        raise InsufficientDataError(msg)
    index_min, index_1se = penalty_rule(cvm, cvsd)
    support = pipe.named_steps["filter"].support_.copy()
    n_nonzero = (pipe[-1].coef_ != 0).sum(axis=0)
    return CoxnetCVFit(
        pipeline=pipe,
        alphas=alphas,
        cvm=cvm,
        cvsd=cvsd,
        n_nonzero=n_nonzero,
        index_min=index_min,
        index_1se=index_1se,
        index=index_1se if rule == "1se" else index_min,
        support=support,
    )
