"""Nested cross-validation and permutation null of :func:`radiogenomics.integrate.predict`.

Pure functions on arrays. The inner loop is a grid search written out: the steps of the
pipeline before the model (batch scaling, imputation, scaling, selection) do not depend on the
tuned parameter, so they are fitted once per inner split and reused for every grid value; the
chosen parameter is the first with the best mean inner score, as in
:class:`~sklearn.model_selection.GridSearchCV`, except that means equal up to float rounding
(1e-12; e.g. two penalties with the same AUCs in other folds) count as ties, so the choice does
not depend on summation order. Binary inner scores use the decision function, as scikit-learn's
``roc_auc`` scorer.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import KFold, ParameterGrid, RepeatedKFold, RepeatedStratifiedKFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from .._cv import check_nested_splits, run_tasks
from ._predict_metrics import metric_rows

if TYPE_CHECKING:
    from sklearn.pipeline import Pipeline

FAST = {"assume_finite": True, "skip_parameter_validation": True}

__all__ = ["checked_splits", "cross_validate", "fit_tuned", "outer_splits", "permutation_null"]


def outer_splits(task: str, y: np.ndarray, *, cv: int, repeats: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Outer ``(train, test)`` splits: ``cv`` folds x ``repeats``, stratified on classes."""
    if task == "regression":
        return list(RepeatedKFold(n_splits=cv, n_repeats=repeats, random_state=seed).split(y))
    return list(RepeatedStratifiedKFold(n_splits=cv, n_repeats=repeats, random_state=seed).split(y, y))


def inner_splits(task: str, y: np.ndarray, *, inner_cv: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Inner tuning splits of training labels ``y`` (stratified for classes)."""
    kind = KFold if task == "regression" else StratifiedKFold
    return list(kind(n_splits=inner_cv, shuffle=True, random_state=seed).split(y, y))


def checked_splits(task, y, *, cv, repeats, seed, inner_cv, classes) -> list[tuple[np.ndarray, np.ndarray]]:
    """Outer splits, refused before any fit when they cannot hold every class (see :func:`check_nested_splits`)."""
    if task == "regression":
        return outer_splits(task, y, cv=cv, repeats=repeats, seed=seed)
    check_nested_splits(y, None, cv=cv, inner_cv=inner_cv, where="predict", names=classes)
    splits = outer_splits(task, y, cv=cv, repeats=repeats, seed=seed)
    check_nested_splits(y, splits, cv=cv, inner_cv=inner_cv, where="predict", names=classes)
    return splits


def _response(estimator, x: np.ndarray, task: str) -> np.ndarray:
    if task == "regression":
        return estimator.predict(x)
    proba = estimator.predict_proba(x)
    return proba[:, 1] if task == "binary" else proba


def _tune(pipe: Pipeline, grid: dict, x, y, task: str, folds) -> tuple[dict, int]:
    """Return the best grid point by mean inner score and the number of convergence warnings."""
    points = list(ParameterGrid(grid))
    scores = np.full((len(folds), len(points)), np.nan)
    n_conv = 0
    for k, (train, test) in enumerate(folds):
        prep = clone(pipe[:-1]).fit(x[train], y[train])
        x_train, x_test = prep.transform(x[train]), prep.transform(x[test])
        for j, point in enumerate(points):
            params = {name.removeprefix("model__"): value for name, value in point.items()}
            # the preprocessed arrays are finite and the parameters come from a validated grid
            with warnings.catch_warnings(record=True) as caught, config_context(**FAST):
                warnings.simplefilter("always", ConvergenceWarning)
                model = clone(pipe[-1]).set_params(**params).fit(x_train, y[train])
                # as scikit-learn's roc_auc scorer: the decision function (probabilities can saturate and tie)
                binary_margin = task == "binary" and hasattr(model, "decision_function")
                response = model.decision_function(x_test) if binary_margin else _response(model, x_test, task)
            n_conv += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
            scores[k, j] = next(iter(metric_rows(task, y[test], response[None]).values()))[0]
    # ties within float noise (AUCs of different grid points that are equal) go to the first grid point
    mean = np.round(scores.mean(axis=0), 12)
    best = int(np.flatnonzero(mean == np.nanmax(mean))[0]) if np.isfinite(mean).any() else 0
    return points[best], n_conv


def fit_tuned(pipe: Pipeline, grid: dict, x, y, task: str, folds) -> tuple[Any, str, int]:
    """Tune on ``folds`` of ``(x, y)``, refit the whole pipeline on ``(x, y)``.

    Returns the fitted pipeline, its tuned parameters as text and the convergence warnings counted.
    """
    # small problems: one BLAS thread per fit is much faster than contended threads
    with threadpool_limits(limits=1), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Features .* are constant", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"invalid value encountered in divide", category=RuntimeWarning)
        best, n_conv = _tune(pipe, grid, x, y, task, folds)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            fitted = clone(pipe).set_params(**best).fit(x, y)
    n_conv += sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    text = ", ".join(f"{k.removeprefix('model__')}={v:.4g}" for k, v in best.items())
    return fitted, text, n_conv


def _outer_fold(train, test, folds, *, pipe, grid, x, y, task):
    fitted, best, n_conv = fit_tuned(pipe, grid, x[train], y[train], task, folds)
    coef = getattr(fitted["model"], "coef_", None)
    nonzero = int(np.any(np.atleast_2d(coef) != 0, axis=0).sum()) if coef is not None else -1
    return _response(fitted, x[test], task), best, nonzero, n_conv


def _fold_tasks(task, y, splits, inner_cv, seed):
    return [(train, test, inner_splits(task, y[train], inner_cv=inner_cv, seed=seed)) for train, test in splits]


def cross_validate(pipe, grid, x, y, task, splits, *, cv, inner_cv, seed, n_classes, n_jobs=1, client=None):
    """Out-of-fold predictions (repeats x patients [x classes]) and one row per outer fold."""
    tasks = _fold_tasks(task, y, splits, inner_cv, seed)
    shared = {"pipe": pipe, "grid": grid, "x": x, "y": y, "task": task}
    results = run_tasks(_outer_fold, tasks, shared=shared, n_jobs=n_jobs, client=client)
    repeats = len(splits) // cv
    oof = np.full((repeats, len(y), n_classes) if task == "multiclass" else (repeats, len(y)), np.nan)
    rows = []
    for i, ((train, test), (pred, best, nonzero, n_conv)) in enumerate(zip(splits, results, strict=True)):
        oof[i // cv, test] = pred
        scores = {k: float(v[0]) for k, v in metric_rows(task, y[test], pred[None]).items()}
        rows.append(
            {"repeat": i // cv + 1, "fold": i % cv + 1, "n_train": len(train), "n_test": len(test)}
            | scores
            | {"best_params": best, "n_nonzero": nonzero, "n_convergence_warnings": n_conv}
        )
    return oof, pd.DataFrame(rows)


def _one_permutation(order, *, tasks, pipe, grid, x, y, task, n_classes):
    xp = x[order]
    shape = (len(y), n_classes) if task == "multiclass" else (len(y),)
    oof = np.full(shape, np.nan)
    for train, test, folds in tasks:
        oof[test] = _outer_fold(train, test, folds, pipe=pipe, grid=grid, x=xp, y=y, task=task)[0]
    return next(iter(metric_rows(task, y, oof[None]).values()))[0]


def permutation_null(pipe, grid, x, y, task, *, cv, inner_cv, seed, n_classes, n_permutations, n_jobs=1, client=None):
    """Metric of the nested procedure (one repeat) refitted on ``n_permutations`` permuted pairings.

    The rows of ``x`` are permuted and ``y`` kept: the same null distribution as permuting the
    labels, but every outer and inner split (stratified on ``y``) is computed once and reused.
    """
    splits = outer_splits(task, y, cv=cv, repeats=1, seed=seed + 1)
    rng = np.random.default_rng(seed)
    orders = [(rng.permutation(len(y)),) for _ in range(n_permutations)]
    shared = {"tasks": _fold_tasks(task, y, splits, inner_cv, seed), "pipe": pipe, "grid": grid, "x": x, "y": y}
    shared |= {"task": task, "n_classes": n_classes}
    return np.asarray(run_tasks(_one_permutation, orders, shared=shared, n_jobs=n_jobs, client=client), dtype=float)
