"""Pipelines of :func:`radiogenomics.integrate.predict` and the final model stored as tables."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.feature_selection import SelectKBest, f_classif, f_regression
from sklearn.impute import SimpleImputer
from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from ..errors import ParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping

MODELS = ("logistic_l1", "logistic_l2", "elasticnet", "random_forest")
_PENALTY_DEPRECATED = inspect.signature(LogisticRegression).parameters["penalty"].default == "deprecated"


class BatchScaler(TransformerMixin, BaseEstimator):
    """Centre and scale each feature within each batch, with statistics learnt on training rows.

    The first column of ``X`` holds the batch code and is removed. Batches unseen during
    ``fit`` (e.g. a new site of an external cohort) are standardised with their own statistics.
    """

    def fit(self, X, y=None):
        X = validate_data(self, X, ensure_all_finite="allow-nan")
        codes, values = X[:, 0], X[:, 1:]
        self.batches_ = np.unique(codes)
        self.center_ = np.vstack([np.nanmean(values[codes == b], axis=0) for b in self.batches_])
        self.scale_ = np.vstack([_safe_sd(values[codes == b]) for b in self.batches_])
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, ensure_all_finite="allow-nan")
        codes, values = X[:, 0], X[:, 1:].astype(float, copy=True)
        for b in np.unique(codes):
            rows = codes == b
            hit = np.flatnonzero(self.batches_ == b)
            if hit.size:
                center, scale = self.center_[hit[0]], self.scale_[hit[0]]
            else:
                center, scale = np.nanmean(values[rows], axis=0), _safe_sd(values[rows])
            values[rows] = (values[rows] - np.nan_to_num(center)) / scale
        return values

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # missing feature values are imputed later in the pipeline
        return tags


def _safe_sd(values: np.ndarray) -> np.ndarray:
    if values.shape[0] < 2 or np.isnan(values).all():
        return np.ones(values.shape[1])
    sd = np.nanstd(values, axis=0)
    return np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)


def _logistic(l1_ratio: float, solver: str = "saga", **kwargs) -> LogisticRegression:
    if _PENALTY_DEPRECATED:
        return LogisticRegression(l1_ratio=l1_ratio, solver=solver, **kwargs)
    penalty = {0.0: "l2", 1.0: "l1"}.get(l1_ratio, "elasticnet")
    extra = {"l1_ratio": l1_ratio} if penalty == "elasticnet" else {}
    return LogisticRegression(penalty=penalty, solver=solver, **extra, **kwargs)


def make_estimator(model: str, task: str, seed: int) -> tuple[BaseEstimator, dict]:
    """Return the estimator and its tuning grid (keys without the ``model__`` prefix)."""
    if model not in MODELS:
        msg = f"model={model!r} is not supported; use one of {MODELS}."
        raise ParameterError(msg)
    if task == "regression":
        regressors: dict[str, tuple[BaseEstimator, dict]] = {
            "logistic_l1": (Lasso(max_iter=20000), {"alpha": np.logspace(-3, 0, 7)}),
            "logistic_l2": (Ridge(), {"alpha": np.logspace(-2, 4, 7)}),
            "elasticnet": (ElasticNet(l1_ratio=0.5, max_iter=20000), {"alpha": np.logspace(-3, 0, 7)}),
            "random_forest": (
                RandomForestRegressor(n_estimators=200, random_state=seed),
                {"min_samples_leaf": [1, 5]},
            ),
        }
        return regressors[model]
    binary = task == "binary"
    if model == "logistic_l1":
        solver = {"solver": "liblinear"} if binary else {"solver": "saga", "tol": 1e-3}
        est = _logistic(1.0, max_iter=5000, random_state=seed, **solver)
        return est, {"C": np.logspace(-2, 2, 9)}
    if model == "logistic_l2":
        return _logistic(0.0, "liblinear" if binary else "lbfgs", max_iter=5000), {"C": np.logspace(-4, 2, 7)}
    if model == "elasticnet":
        est = _logistic(0.5, "saga", max_iter=5000, tol=1e-3, random_state=seed)
        return est, {"C": np.logspace(-2, 1, 4)}
    return RandomForestClassifier(n_estimators=200, random_state=seed), {"min_samples_leaf": [1, 5]}


def make_pipeline(model: str, task: str, seed: int, *, batch: bool, n_select: int | None) -> tuple[Pipeline, dict]:
    """Return the leakage-free pipeline (batch scaling, imputation, scaling, selection, model) and grid."""
    estimator, grid = make_estimator(model, task, seed)
    steps = [("batch", BatchScaler())] if batch else []
    steps += [("impute", SimpleImputer(strategy="median", keep_empty_features=True)), ("scale", StandardScaler())]
    if n_select:
        steps.append(("select", SelectKBest(f_regression if task == "regression" else f_classif, k=n_select)))
    steps.append(("model", estimator))
    return Pipeline(steps), {f"model__{k}": v for k, v in grid.items()}


def model_tables(pipe: Pipeline, features: list[str], classes: list[str], task: str) -> dict[str, pd.DataFrame]:
    """Describe a fitted pipeline with plain tables, enough to apply it elsewhere (linear models)."""
    table = pd.DataFrame(
        {"median": pipe["impute"].statistics_, "center": pipe["scale"].mean_, "scale": pipe["scale"].scale_},
        index=pd.Index(features, name="feature"),
    )
    table["selected"] = pipe["select"].get_support() if "select" in pipe.named_steps else True
    est = pipe["model"]
    selected = table.index[table["selected"]]
    out = {}
    if hasattr(est, "coef_"):
        coef = np.atleast_2d(est.coef_)
        names = ["coef"] if coef.shape[0] == 1 else [f"coef_{c}" for c in classes]
        for name, row in zip(names, coef, strict=True):
            table[name] = 0.0
            table.loc[selected, name] = row
        intercept = np.atleast_1d(est.intercept_)
        labels = [classes[-1] if task == "binary" else "value"] if len(intercept) == 1 else classes
        out["intercept"] = pd.DataFrame({"class": labels, "intercept": intercept.astype(float)})
    else:
        table["importance"] = 0.0
        table.loc[selected, "importance"] = est.feature_importances_
    out["model"] = table
    if "batch" in pipe.named_steps:
        scaler = pipe["batch"]
        batches = [str(b) for b in scaler.batches_]
        out["batch_center"] = pd.DataFrame(scaler.center_, index=batches, columns=features)
        out["batch_scale"] = pd.DataFrame(scaler.scale_, index=batches, columns=features)
    return out


def linear_predictor(values: np.ndarray, tables: Mapping, task: str) -> np.ndarray:
    """Apply stored tables (imputation, scaling, coefficients) to a patients x features array."""
    table = tables["model"]
    coef_cols = [c for c in table.columns if c == "coef" or c.startswith("coef_")]
    x = np.where(np.isnan(values), table["median"].to_numpy(), values)
    x = (x - table["center"].to_numpy()) / table["scale"].to_numpy()
    eta = x @ table[coef_cols].to_numpy() + tables["intercept"]["intercept"].to_numpy()
    if task == "binary":
        return 1 / (1 + np.exp(-eta[:, 0]))
    if task == "multiclass":
        eta = eta - eta.max(axis=1, keepdims=True)
        return np.exp(eta) / np.exp(eta).sum(axis=1, keepdims=True)
    return eta[:, 0]
