"""Imaging-to-molecular prediction with nested cross-validation."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import roc_curve
from sklearn.model_selection import GridSearchCV, KFold, RepeatedKFold, RepeatedStratifiedKFold, StratifiedKFold
from threadpoolctl import threadpool_limits

from .._utils import modality_frame, resolve_keys
from ._mofa_checks import replace_infinite
from ._predict_core import bootstrap_metrics, make_pipeline, metric_rows, model_tables

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mudata import MuData

__all__ = ["predict"]

logger = logging.getLogger(__name__)

N_BOOT = 1000
SCORING = {"binary": "roc_auc", "multiclass": "roc_auc_ovr", "regression": "r2"}


def feature_matrix(mdata: MuData, features: str | Sequence[str]) -> pd.DataFrame:
    """Patients x features of one or several modalities (``mod:feature`` names when several)."""
    mods = [features] if isinstance(features, str) else list(features)
    frames = [modality_frame(mdata, m) for m in mods]
    if len(frames) > 1:
        frames = [f.add_prefix(f"{m}:") for m, f in zip(mods, frames, strict=True)]
    return replace_infinite(pd.concat(frames, axis=1), f"features {mods}")


def _task_of(y: pd.Series, task: str) -> str:
    if task != "auto":
        return task
    levels = y.dropna().unique()
    if len(levels) == 2 or pd.api.types.is_bool_dtype(y):
        return "binary"
    if pd.api.types.is_numeric_dtype(y):
        return "regression"
    return "multiclass"


def _encode(y: pd.Series, task: str) -> tuple[np.ndarray, list[str]]:
    if task == "regression":
        return y.to_numpy(dtype=float), []
    if isinstance(y.dtype, pd.CategoricalDtype):
        classes = [c for c in y.cat.categories if c in set(y)]
    else:
        classes = sorted(y.unique(), key=lambda v: (str(type(v)), v))
    codes = np.array([classes.index(v) for v in y])
    if len(classes) < 2:
        msg = f"The target has a single class {classes}; nothing to predict."
        raise ValueError(msg)
    return codes, [str(c) for c in classes]


def _select_patients(mdata, target, x, task):
    y = resolve_keys(mdata, [target])[target]
    no_target = y.isna().to_numpy()
    no_features = x.isna().all(axis=1).to_numpy()
    reasons = np.where(no_target, "missing target", np.where(no_features, "no features", ""))
    excluded = pd.DataFrame({"patient_id": mdata.obs_names[reasons != ""], "reason": reasons[reasons != ""]})
    if len(excluded):
        counts = excluded["reason"].value_counts().to_dict()
        warnings.warn(
            f"predict: excluded {len(excluded)} of {mdata.n_obs} patients ({counts}); listed in uns[key_added]['excluded'].",
            UserWarning,
            stacklevel=3,
        )
    keep = reasons == ""
    return y[keep], keep, excluded


def _fit_fold(pipe, grid, x, y, train, test, task, inner, scoring):
    search = GridSearchCV(pipe, grid, cv=inner, scoring=scoring, error_score="raise")
    # small problems: one BLAS thread per fit is much faster than contended threads
    with threadpool_limits(limits=1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        warnings.filterwarnings("ignore", message=r"Features .* are constant", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"invalid value encountered in divide", category=RuntimeWarning)
        search.fit(x[train], y[train])
    n_conv = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    best = search.best_estimator_
    if task == "regression":
        pred = best.predict(x[test])
    else:
        proba = best.predict_proba(x[test])
        pred = proba[:, 1] if task == "binary" else proba
    coef = getattr(best["model"], "coef_", None)
    nonzero = int(np.any(np.atleast_2d(coef) != 0, axis=0).sum()) if coef is not None else -1
    best_params = ", ".join(f"{k.removeprefix('model__')}={v:.4g}" for k, v in search.best_params_.items())
    return pred, best_params, nonzero, n_conv, search


def _outer_cv(task, cv, repeats, seed):
    if task == "regression":
        return RepeatedKFold(n_splits=cv, n_repeats=repeats, random_state=seed)
    return RepeatedStratifiedKFold(n_splits=cv, n_repeats=repeats, random_state=seed)


def _inner_cv(task, inner_cv, seed):
    kind = KFold if task == "regression" else StratifiedKFold
    return kind(n_splits=inner_cv, shuffle=True, random_state=seed)


def _cross_validate(pipe, grid, x, y, task, *, cv, repeats, seed, inner_cv, n_jobs, n_classes):
    splits = list(_outer_cv(task, cv, repeats, seed).split(x, y))
    inner, scoring = _inner_cv(task, inner_cv, seed), SCORING[task]
    results = Parallel(n_jobs=n_jobs)(
        delayed(_fit_fold)(clone(pipe), grid, x, y, tr, te, task, inner, scoring) for tr, te in splits
    )
    shape = (repeats, len(y), n_classes) if task == "multiclass" else (repeats, len(y))
    oof = np.full(shape, np.nan)
    rows = []
    for i, ((train, test), (pred, best, nonzero, n_conv, _)) in enumerate(zip(splits, results, strict=True)):
        r = i // cv
        oof[r, test] = pred
        scores = {k: float(v) for k, v in metric_rows(task, y[test], pred[None]).items() for v in v}
        rows.append(
            {"repeat": r + 1, "fold": i % cv + 1, "n_train": len(train), "n_test": len(test)}
            | scores
            | {"best_params": best, "n_nonzero": nonzero, "n_convergence_warnings": n_conv}
        )
    return oof, pd.DataFrame(rows)


def _roc_table(task, y, oof, classes):
    if task == "regression":
        return pd.DataFrame(columns=["repeat", "class", "fpr", "tpr", "threshold"])
    frames = []
    curves = [(r + 1, oof[r]) for r in range(oof.shape[0])] + [(0, oof.mean(axis=0))]
    targets = [(classes[-1], y == 1, None)] if task == "binary" else [(c, y == k, k) for k, c in enumerate(classes)]
    for repeat, score in curves:
        for label, truth, k in targets:
            fpr, tpr, thr = roc_curve(truth, score if k is None else score[:, k])
            frames.append(pd.DataFrame({"repeat": repeat, "class": label, "fpr": fpr, "tpr": tpr, "threshold": thr}))
    return pd.concat(frames, ignore_index=True)


def _permutation_null(pipe, grid, x, y, task, *, cv, seed, inner_cv, n_jobs, n_classes, n_permutations):
    rng = np.random.default_rng(seed)
    null = []
    for i in range(n_permutations):
        yp = rng.permutation(y)
        oof, _ = _cross_validate(
            pipe,
            grid,
            x,
            yp,
            task,
            cv=cv,
            repeats=1,
            seed=seed + i + 1,
            inner_cv=inner_cv,
            n_jobs=n_jobs,
            n_classes=n_classes,
        )
        null.append(next(iter(metric_rows(task, yp, oof).values()))[0])
    return np.asarray(null, dtype=float)


def _summary(task, y, oof, folds, *, seed, null):
    observed = metric_rows(task, y, oof)
    boot = bootstrap_metrics(task, y, oof, n_boot=N_BOOT, seed=seed)
    rows = []
    for i, (name, per_repeat) in enumerate(observed.items()):
        value = float(np.nanmean(per_repeat))
        p = np.nan
        if i == 0 and null is not None and len(null):
            p = float((1 + np.sum(null >= value)) / (1 + len(null)))
        rows.append(
            {
                "metric": name,
                "value": value,
                "ci_low": float(np.nanpercentile(boot[name], 2.5)),
                "ci_high": float(np.nanpercentile(boot[name], 97.5)),
                "repeat_sd": float(np.nanstd(per_repeat, ddof=1)) if len(per_repeat) > 1 else np.nan,
                "fold_mean": float(folds[name].mean()),
                "fold_sd": float(folds[name].std()),
                "p_permutation": p,
            }
        )
    return pd.DataFrame(rows)


def _user_grid(grid: Mapping[str, Sequence], default: dict) -> dict:
    out = {f"model__{k.removeprefix('model__')}": list(v) for k, v in grid.items()}
    unknown = sorted(set(out) - set(default))
    if unknown:
        msg = f"grid keys {[k.removeprefix('model__') for k in unknown]} are not tuned by this model; use {[k.removeprefix('model__') for k in default]}."
        raise ValueError(msg)
    return out


def predict(
    mdata: MuData,
    target: str,
    *,
    features: str | Sequence[str] = "radiomics",
    model: Literal["logistic_l1", "logistic_l2", "elasticnet", "random_forest"] = "logistic_l1",
    task: Literal["auto", "binary", "multiclass", "regression"] = "auto",
    cv: int = 5,
    repeats: int = 5,
    seed: int = 0,
    inner_cv: int = 3,
    n_permutations: int = 0,
    batch_key: str | None = None,
    n_select: int | None = None,
    grid: Mapping[str, Sequence] | None = None,
    n_jobs: int = 1,
    key_added: str = "predict",
    copy: bool = False,
) -> MuData | None:
    """Predict a molecular or clinical status from features with nested cross-validation.

    Every data-dependent step (per-batch centring and scaling when ``batch_key`` is given,
    median imputation, standardisation, optional univariate selection of ``n_select``
    features, the model) is a step of one :class:`sklearn.pipeline.Pipeline`, fitted on the
    training folds only. The inner loop (:class:`~sklearn.model_selection.GridSearchCV`,
    ``inner_cv`` folds) tunes the penalty (``C`` or ``alpha``) or the forest's leaf size; the
    outer loop (``cv`` folds x ``repeats``, stratified for classes) scores the tuned pipeline on
    held-out patients. Binary targets report the AUC, multi-class targets (e.g. PAM50) the macro
    one-vs-rest AUC, continuous targets R-squared and Spearman's rho. ``value`` is the mean over
    repeats of the metric of the pooled out-of-fold predictions; the 95% interval is a
    percentile bootstrap over patients (1,000 resamples of the out-of-fold predictions, seeded).
    With ``n_permutations > 0`` the whole nested procedure (one repeat) is refitted on permuted
    labels and ``p_permutation = (1 + #null >= observed) / (1 + n_permutations)``. For
    continuous targets, ``"logistic_l1"``, ``"logistic_l2"`` and ``"elasticnet"`` mean the
    Lasso, ridge and elastic-net regressions. A final model is tuned and fitted on all patients
    and stored as tables, so :func:`radiogenomics.integrate.apply_model` can score another cohort.

    Parameters
    ----------
    mdata
        Cohort container.
    target
        ``mdata.obs`` column or ``"<mod>:<feature>"`` key (e.g. ``"mut:IDH1"``); patients with a
        missing target, or without any feature, are excluded, counted and listed.
    features
        Modality (or list of modalities) used as predictors.
    model
        ``"logistic_l1"``, ``"logistic_l2"``, ``"elasticnet"`` or ``"random_forest"``.
    task
        ``"binary"``, ``"multiclass"`` or ``"regression"``; from the target when ``"auto"``
        (two values: binary; other numbers: regression; other labels: multi-class).
    cv
        Outer folds.
    repeats
        Repeats of the outer cross-validation with different splits.
    seed
        Seed of the splits, the models, the bootstrap and the permutations.
    inner_cv
        Inner folds for tuning.
    n_permutations
        Label permutations for the p-value (``0``: not computed).
    batch_key
        ``mdata.obs`` column of acquisition batches (e.g. site) for per-batch scaling in the folds.
    n_select
        Keep the ``n_select`` best features by univariate F-test inside each training fold.
    grid
        Tuning grid of the model, e.g. ``{"C": [0.01, 0.1, 1]}`` (``alpha`` for regressions,
        ``min_samples_leaf`` for forests); when ``None``, 7-9 log-spaced penalties per model.
    n_jobs
        Outer folds fitted in parallel (joblib).
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes ``mdata.uns[key_added]`` with:

    ``"metrics"`` : :class:`pandas.DataFrame`
        One row per metric: ``value, ci_low, ci_high, repeat_sd, fold_mean, fold_sd, p_permutation``.
    ``"folds"`` : :class:`pandas.DataFrame`
        One row per outer fold: sizes, metric, tuned ``best_params``, ``n_nonzero`` coefficients.
    ``"roc"`` : :class:`pandas.DataFrame`
        ROC curves ``repeat, class, fpr, tpr, threshold`` per repeat (``repeat`` 0: scores averaged over repeats).
    ``"predictions"`` : :class:`pandas.DataFrame`
        Per patient: ``y_true``, out-of-fold score averaged over repeats (``score`` or ``score_<class>``).
    ``"excluded"`` : :class:`pandas.DataFrame`
        ``patient_id, reason`` of excluded patients.
    ``"permutation"`` : :class:`pandas.DataFrame`
        Null metric per permutation.
    ``"model"``, ``"intercept"`` (, ``"batch_center"``, ``"batch_scale"``) : :class:`pandas.DataFrame`
        The final model as tables: per feature ``median``, ``center``, ``scale``, ``selected``, ``coef``
        (``coef_<class>``) or ``importance``.
    ``"params"`` : :class:`dict`
        Arguments, task, classes, patient counts, tuned hyper-parameters of the final model.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    >>> rg.integrate.predict(mdata, "idh_mutant", model="logistic_l2", cv=3, repeats=2)
    >>> m = mdata.uns["predict"]["metrics"].iloc[0]
    >>> m["metric"], bool(m["ci_low"] < m["value"] < m["ci_high"])
    ('auc', True)
    """
    mdata = mdata.copy() if copy else mdata
    x_frame = feature_matrix(mdata, features)
    y_raw, keep, excluded = _select_patients(mdata, target, x_frame, task)
    task = _task_of(y_raw, task)
    y, classes = _encode(y_raw, task)
    x = x_frame.to_numpy(dtype=float)[keep]
    if batch_key is not None:
        codes = pd.Categorical(resolve_keys(mdata, [batch_key])[batch_key].astype(str)).codes[keep]
        x = np.column_stack([codes.astype(float), x])
    if task != "regression":
        smallest = np.bincount(y).min()
        if smallest < cv:
            msg = f"predict: the smallest class has {smallest} patients, fewer than cv={cv} folds; lower cv or merge classes."
            raise ValueError(msg)
    n_select = min(n_select, x_frame.shape[1]) if n_select else None
    pipe, default_grid = make_pipeline(model, task, seed, batch=batch_key is not None, n_select=n_select)
    grid = default_grid if grid is None else _user_grid(grid, default_grid)
    common = {"cv": cv, "seed": seed, "inner_cv": inner_cv, "n_jobs": n_jobs, "n_classes": len(classes)}
    oof, folds = _cross_validate(pipe, grid, x, y, task, repeats=repeats, **common)
    null = (
        _permutation_null(pipe, grid, x, y, task, n_permutations=n_permutations, **common) if n_permutations else None
    )
    # final model: tuned with the inner loop on every patient
    score, best, _, _, search = _fit_fold(
        clone(pipe),
        grid,
        x,
        y,
        np.arange(len(y)),
        np.arange(len(y)),
        task,
        _inner_cv(task, inner_cv, seed),
        SCORING[task],
    )
    tables = model_tables(search.best_estimator_, list(x_frame.columns), classes, task)
    mean_oof = oof.mean(axis=0)
    predictions = pd.DataFrame({"y_true": y_raw.astype(str) if classes else y}, index=y_raw.index)
    if task == "multiclass":
        for k, c in enumerate(classes):
            predictions[f"score_{c}"] = mean_oof[:, k]
    else:
        predictions["score"] = mean_oof
        predictions["final_model_score"] = score
    predictions.index.name = "patient_id"
    mdata.uns[key_added] = {
        "metrics": _summary(task, y, oof, folds, seed=seed, null=null),
        "folds": folds,
        "roc": _roc_table(task, y, oof, classes),
        "predictions": predictions,
        "excluded": excluded,
        "permutation": pd.DataFrame({"permutation": np.arange(1, len(null) + 1), "value": null})
        if null is not None
        else pd.DataFrame({"permutation": [], "value": []}),
        **tables,
        "params": {
            "target": target,
            "features": [features] if isinstance(features, str) else list(features),
            "model": model,
            "task": task,
            "classes": classes,
            "cv": cv,
            "repeats": repeats,
            "seed": seed,
            "inner_cv": inner_cv,
            "n_permutations": n_permutations,
            "batch_key": batch_key,
            "n_select": n_select,
            "grid": "; ".join(f"{k.removeprefix('model__')}={[float(v) for v in vals]}" for k, vals in grid.items()),
            "n_patients": len(y),
            "n_excluded": len(excluded),
            "final_best_params": best,
            "ci": "percentile bootstrap over patients, 1000 resamples",
        },
    }
    logger.info("predict %s: %d patients, %s", target, len(y), mdata.uns[key_added]["metrics"].iloc[0].to_dict())
    return mdata if copy else None
