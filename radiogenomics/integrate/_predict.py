"""Imaging-to-molecular prediction with nested cross-validation: prepare, cross-validate, summarise, store."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sklearn.metrics import roc_curve

from .._compat import copy_mudata
from .._utils import require_mudata, resolve_keys
from ..errors import ParameterError
from ._predict_cv import checked_splits, cross_validate, fit_tuned, inner_splits, permutation_null
from ._predict_metrics import bootstrap_metrics, metric_rows
from ._predict_model import make_pipeline, model_tables
from ._predict_prepare import MISSING_LABELS, clean_target, encode_target, feature_matrix, select_patients, task_of

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mudata import MuData

__all__ = ["predict"]

logger = logging.getLogger(__name__)

N_BOOT = 1000


def _user_grid(grid: Mapping[str, Sequence], default: dict) -> dict:
    out = {f"model__{k.removeprefix('model__')}": list(v) for k, v in grid.items()}
    unknown = sorted(set(out) - set(default))
    if unknown:
        msg = f"grid keys {[k.removeprefix('model__') for k in unknown]} are not tuned by this model; use {[k.removeprefix('model__') for k in default]}."
        raise ParameterError(msg)
    return out


def _prepare(mdata, target, features, task, batch_key):
    """Feature matrix, cleaned and encoded target, kept patients."""
    x_frame = feature_matrix(mdata, features)
    y_raw, missing_labels = clean_target(resolve_keys(mdata, [target])[target])
    y_raw, keep, excluded = select_patients(mdata, y_raw, x_frame)
    task = task_of(y_raw, task)
    y, classes = encode_target(y_raw, task)
    x = x_frame.to_numpy(dtype=float)[keep]
    if batch_key is not None:
        codes = pd.Categorical(resolve_keys(mdata, [batch_key])[batch_key].astype(str)).codes[keep]
        x = np.column_stack([codes.astype(float), x])
    return {
        "x": x,
        "y": y,
        "y_raw": y_raw,
        "task": task,
        "classes": classes,
        "columns": list(x_frame.columns),
        "excluded": excluded,
        "missing_labels": missing_labels,
    }


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


def _metrics(task, y, oof, folds, *, seed, null):
    observed = metric_rows(task, y, oof)
    pooled = metric_rows(task, y, oof.mean(axis=0)[None])
    boot = bootstrap_metrics(task, y, oof, n_boot=N_BOOT, seed=seed)
    n_undefined = int(np.isnan(next(iter(boot.values()))).sum())
    if n_undefined:
        warnings.warn(
            f"predict: {n_undefined} of {N_BOOT} bootstrap resamples drew a single class (or a constant target), "
            "so their metric is undefined; the confidence interval uses the other "
            f"{N_BOOT - n_undefined}. With so few patients per class the interval is unreliable.",
            UserWarning,
            stacklevel=3,
        )
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
                "ci_lower": _percentile(boot[name], 2.5),
                "ci_upper": _percentile(boot[name], 97.5),
                "repeat_sd": float(np.nanstd(per_repeat, ddof=1)) if len(per_repeat) > 1 else np.nan,
                "fold_mean": float(folds[name].mean()),
                "fold_sd": float(folds[name].std()),
                "averaged_scores": float(pooled[name][0]),
                "p": p,
            }
        )
    return pd.DataFrame(rows)


def _percentile(values: np.ndarray, q: float) -> float:
    """Percentile of the finite values (NaN when there are none)."""
    finite = values[np.isfinite(values)]
    return float(np.percentile(finite, q)) if len(finite) else np.nan


def _empty_folds(folds: pd.DataFrame, task: str) -> int:
    """Count outer folds whose model kept no feature (every test patient then gets the same score)."""
    n_empty = int((folds["n_nonzero"] == 0).sum())
    if n_empty:
        warnings.warn(
            f"predict: {n_empty} of {len(folds)} outer folds selected no feature, so each of their test patients "
            f"gets the same {'value' if task == 'regression' else 'probability'} (tied scores); listed in "
            "uns[key_added]['folds'] (n_nonzero == 0). A smaller penalty grid or more patients may help.",
            UserWarning,
            stacklevel=3,
        )
    return n_empty


def _predictions(prep, oof, final_score):
    y_raw, classes, task = prep["y_raw"], prep["classes"], prep["task"]
    mean_oof = oof.mean(axis=0)
    predictions = pd.DataFrame({"y_true": y_raw.astype(str) if classes else prep["y"]}, index=y_raw.index)
    if task == "multiclass":
        for k, c in enumerate(classes):
            predictions[f"score_{c}"] = mean_oof[:, k]
    else:
        predictions["score"] = mean_oof
        predictions["final_model_score"] = final_score
    predictions.index.name = "patient_id"
    return predictions


def _summarise(prep: dict, oof, folds, null, final, *, seed: int) -> dict:
    """Result tables: metrics, folds, ROC curves, predictions, exclusions, permutation null and the final model."""
    task, y, classes = prep["task"], prep["y"], prep["classes"]
    final_score = final.predict(prep["x"]) if task == "regression" else final.predict_proba(prep["x"])
    final_score = final_score[:, 1] if task == "binary" else final_score
    n_null = 0 if null is None else len(null)
    return {
        "metrics": _metrics(task, y, oof, folds, seed=seed, null=null),
        "folds": folds,
        "roc": _roc_table(task, y, oof, classes),
        "predictions": _predictions(prep, oof, final_score),
        "excluded": prep["excluded"],
        "permutation": pd.DataFrame({"permutation": np.arange(1, 1 + n_null), "value": [] if null is None else null}),
        **model_tables(final, prep["columns"], classes, task),
    }


def _store(mdata: MuData, key_added: str, tables: dict, params: dict) -> None:
    """Write the tables and parameters to ``mdata.uns[key_added]`` (plain DataFrames and a dict)."""
    mdata.uns[key_added] = {**tables, "params": params}


def _store_shap(result: dict, final, prep: dict, task: str) -> None:
    from .._explain import predict_shap, shap_table

    table, base = predict_shap(final, prep["x"], prep["columns"], task)
    patients = [str(p) for p in prep["y_raw"].index]
    features = [c for c in table.columns if c != "class_index"]
    if task == "multiclass":  # all patients once per class, with a class column
        classes = [str(c) for c in prep["classes"]]
        shap = shap_table(table[features].to_numpy(), patients * len(classes), features)
        shap.insert(0, "class", [classes[k] for k in table["class_index"]])
        result["shap"] = shap
    else:
        result["shap"] = shap_table(table.to_numpy(), patients, features)
    x = prep["x"][:, 1:] if "batch" in final.named_steps else prep["x"]
    data = pd.DataFrame(x, columns=prep["columns"])[features]
    result["shap_data"] = shap_table(data.to_numpy(), patients, features)
    linear = "importance" not in result["model"]
    scale = "value" if task == "regression" else ("log-odds" if linear else "probability")
    scale = "class logit" if task == "multiclass" and linear else scale
    result["params"].update(shap_base_value=base, shap_scale=scale, explain=True)


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
    client: Any = None,
    explain: bool = False,
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
    pairing of features and labels (the rows of the feature matrix are permuted, so the outer
    and inner splits are computed once) and
    ``p = (1 + #null >= observed) / (1 + n_permutations)``. For
    continuous targets, ``"logistic_l1"``, ``"logistic_l2"`` and ``"elasticnet"`` mean the
    Lasso, ridge and elastic-net regressions. A final model is tuned and fitted on all patients
    and stored as tables, so :func:`radiogenomics.integrate.apply_model` can score another cohort.

    Parameters
    ----------
    mdata
        Cohort container.
    target
        ``mdata.obs`` column or ``"<mod>:<feature>"`` key (e.g. ``"mut:IDH1"``); patients with a
        missing target, or without any feature, are excluded, counted and listed. Labels such as
        ``"N/A"``, ``"NA"``, ``""`` or ``"unknown"`` (``params["missing_labels"]``) count as missing.
    features
        A modality name (all its features), or a list of modality names and keys
        (``"radiomics:<feature>"``, numeric ``obs`` columns), as in :func:`radiogenomics.survival.signature`.
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
        Outer folds (and permutations) fitted in parallel (joblib processes).
    client
        A Dask :class:`distributed.Client`: outer folds and permutations run on its workers
        (``n_jobs`` is then ignored); the tables are identical to a local run.
    explain
        Compute SHAP values of the final model on every patient (:mod:`shap`; linear models:
        interventional linear SHAP on the log-odds or value scale, forests: tree SHAP of the
        positive-class probability or the value). Multi-class targets: one set per class
        (linear: each class's multinomial logit; forests: each class's probability).
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Raises
    ------
    DataFormatError
        A class too small for the outer and inner folds (the message names it and the ``cv`` /
        ``inner_cv`` that would work), or ``task="binary"`` with more classes (listed with counts).
    ValueError
        An unknown ``model`` or grid key.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes ``mdata.uns[key_added]`` with:

    ``"metrics"`` : :class:`pandas.DataFrame`
        One row per metric: ``value`` (mean over repeats), ``ci_lower, ci_upper, repeat_sd, fold_mean,
        fold_sd``, ``averaged_scores`` (the metric of the out-of-fold scores averaged over repeats:
        the thick curve of :func:`radiogenomics.pl.roc`) and ``p``.
    ``"folds"`` : :class:`pandas.DataFrame`
        One row per outer fold: sizes, metric, tuned ``best_params``, ``n_nonzero`` coefficients
        (``0``: an empty model whose test patients share one score; counted in
        ``params["n_empty_folds"]`` and warned about).
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
    ``"shap"`` : :class:`pandas.DataFrame`
        With ``explain=True``: patients x features (those the final model uses) SHAP values;
        ``params["shap_base_value"]`` and ``params["shap_scale"]`` give the base value and scale;
        ``"shap_data"`` holds the same patients' raw feature values. A multi-class target stores
        every patient once per class with a first column ``class`` and one base value per class
        (in ``params["classes"]`` order). Drawn by :func:`radiogenomics.pl.shap_summary` and
        :func:`radiogenomics.pl.shap_dependence` (``target_class=`` for a multi-class target).
    ``"params"`` : :class:`dict`
        Arguments, task, classes, patient counts, ``n_empty_folds``, ``missing_labels`` and
        ``n_missing_labels``, tuned hyper-parameters of the final model.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    >>> rg.integrate.predict(mdata, "idh_mutant", model="logistic_l2", cv=3, repeats=2)
    >>> m = mdata.uns["predict"]["metrics"].iloc[0]
    >>> m["metric"], bool(m["ci_lower"] < m["value"] < m["ci_upper"])
    ('auc', True)
    """
    require_mudata(mdata, "integrate.predict")
    mdata = copy_mudata(mdata) if copy else mdata
    prep = _prepare(mdata, target, features, task, batch_key)
    x, y, task, classes = prep["x"], prep["y"], prep["task"], prep["classes"]
    splits = checked_splits(task, y, cv=cv, repeats=repeats, seed=seed, inner_cv=inner_cv, classes=classes)
    n_select = min(n_select, len(prep["columns"])) if n_select else None
    pipe, default_grid = make_pipeline(model, task, seed, batch=batch_key is not None, n_select=n_select)
    grid = default_grid if grid is None else _user_grid(grid, default_grid)
    common = {"cv": cv, "seed": seed, "inner_cv": inner_cv, "n_classes": len(classes), "n_jobs": n_jobs}
    oof, folds = cross_validate(pipe, grid, x, y, task, splits, client=client, **common)
    n_empty = _empty_folds(folds, task)
    null = None
    if n_permutations:
        null = permutation_null(pipe, grid, x, y, task, n_permutations=n_permutations, client=client, **common)
    # final model: tuned with the inner loop on every patient
    final, best, _ = fit_tuned(pipe, grid, x, y, task, inner_splits(task, y, inner_cv=inner_cv, seed=seed))
    tables = _summarise(prep, oof, folds, null, final, seed=seed)
    params = {
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
        "n_excluded": len(prep["excluded"]),
        "n_empty_folds": n_empty,
        "missing_labels": list(MISSING_LABELS),
        "n_missing_labels": int(sum(prep["missing_labels"].values())),
        "final_best_params": best,
        "ci": "percentile bootstrap over patients, 1000 resamples",
        "permutation_null": "rows of the features permuted, outer and inner splits fixed",
    }
    _store(mdata, key_added, tables, params)
    if explain:
        _store_shap(mdata.uns[key_added], final, prep, task)
    logger.info("predict %s: %d patients, %s", target, len(y), mdata.uns[key_added]["metrics"].iloc[0].to_dict())
    return mdata if copy else None
