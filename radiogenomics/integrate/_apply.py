"""Apply a model stored by :func:`radiogenomics.integrate.predict` to another cohort."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._compat import copy_mudata
from .._fits import stored_fit
from .._keys import score_column
from .._utils import require_mudata, resolve_keys
from ..errors import MissingColumnError, ParameterError
from ._predict_metrics import metric_rows
from ._predict_model import linear_predictor
from ._predict_prepare import feature_matrix

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mudata import MuData

__all__ = ["apply_model"]


def _as_list(value) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in np.asarray(value).ravel()]


def _batch_scale(mdata: MuData, values: np.ndarray, features: list[str], stored: Mapping, batch_key: str) -> np.ndarray:
    labels = resolve_keys(mdata, [batch_key])[batch_key].astype(str).to_numpy()
    center = stored["batch_center"].reindex(columns=features)
    scale = stored["batch_scale"].reindex(columns=features)
    out = values.copy()
    for b in np.unique(labels):
        rows = labels == b
        if b in center.index:
            c, s = center.loc[b].to_numpy(), scale.loc[b].to_numpy()
        else:  # a batch (site) the model never saw: standardise it with its own statistics
            c = np.nan_to_num(np.nanmean(values[rows], axis=0)) if rows.sum() else 0.0
            s = np.nanstd(values[rows], axis=0) if rows.sum() > 1 else np.ones(values.shape[1])
            s = np.where(np.isfinite(s) & (s > 0), s, 1.0)
        out[rows] = (values[rows] - c) / s
    return out


def _metric_rows(task, y, scores, keep, classes, estimate) -> list[dict]:
    if task == "regression":
        codes = y[keep].to_numpy(dtype=float)
    else:
        labels = y[keep].astype(str).to_numpy()
        codes = np.array([classes.index(v) if v in classes else -1 for v in labels])
        keep = keep.copy()
        keep[np.flatnonzero(keep)[codes < 0]] = False
        codes = codes[codes >= 0]
    if len(codes) < 3 or (task != "regression" and np.unique(codes).size < 2):
        return []
    rows = metric_rows(task, codes, scores[keep][None])
    return [{"metric": k, "value": float(v[0]), "n": len(codes), "estimate": estimate} for k, v in rows.items()]


def _external_metrics(
    mdata: MuData, target: str, scores: np.ndarray, task: str, classes: list[str], trained: np.ndarray
) -> pd.DataFrame:
    """Metrics on patients the model never saw (``external``) and, apart, on its training patients (``apparent``)."""
    try:
        y = resolve_keys(mdata, [target])[target]
    except MissingColumnError:
        return pd.DataFrame(columns=["metric", "value", "n", "estimate"])
    keep = y.notna().to_numpy() & ~np.isnan(scores.reshape(len(y), -1)).any(axis=1)
    rows = _metric_rows(task, y, scores, keep & ~trained, classes, "external")
    rows += _metric_rows(task, y, scores, keep & trained, classes, "apparent")
    return pd.DataFrame(rows, columns=["metric", "value", "n", "estimate"])


def _training_patients(mdata: MuData, model: Mapping) -> np.ndarray:
    """Mark the patients of ``mdata`` that were used to fit the model (same patient IDs); warn if any."""
    fitted = model.get("predictions")
    ids = set() if fitted is None else {str(p) for p in fitted.index}
    trained = np.array([str(p) in ids for p in mdata.obs_names], dtype=bool)
    if trained.any():
        warnings.warn(
            f"apply_model: {int(trained.sum())} of {mdata.n_obs} patients were used to fit this model; their metrics "
            "are apparent (in-sample, optimistic) and reported apart with estimate='apparent'. The "
            "cross-validated estimate is uns['predict']['metrics'] of the training cohort.",
            UserWarning,
            stacklevel=3,
        )
    return trained


def apply_model(
    mdata: MuData,
    fit: Mapping | MuData,
    *,
    key: str = "predict",
    key_added: str = "apply_model",
    copy: bool = False,
) -> MuData | None:
    """Score a cohort with a model stored by :func:`radiogenomics.integrate.predict`.

    The stored tables (per-batch centres and scales, imputation medians, scaler centres and
    scales, coefficients and intercepts) are applied in the order the pipeline used them, so
    the scores equal those of the final fitted model. Sites absent from the training cohort are
    standardised with their own statistics. Forest models cannot be stored as tables: refit
    them instead. When the model's target is present in this cohort, its metric is reported;
    patients the model was fitted on are recognised by their IDs and their metric is labelled
    apparent, apart from the external one.

    Parameters
    ----------
    mdata
        The (external) cohort to score; it needs the model's feature modality and feature names.
    fit
        ``mdata_train.uns["predict"]`` of the training cohort (also after an h5mu round trip), or
        the cohort holding it at ``uns[key]`` (the training cohort, or ``mdata`` itself).
    key
        Key of the model in a cohort passed as ``fit``.
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.obs[f"{key_added}_score"]`` : :class:`float`
        Probability of the positive class (binary) or predicted value (regression); multi-class
        models write the most probable class to ``obs[f"{key_added}_class"]`` instead.
    ``mdata.uns[key_added]["predictions"]`` : :class:`pandas.DataFrame`
        Per patient scores (``score`` or ``score_<class>``).
    ``mdata.uns[key_added]["metrics"]`` : :class:`pandas.DataFrame`
        ``metric, value, n, estimate`` when the target is known here (empty otherwise):
        ``estimate="external"`` on patients the model never saw, ``"apparent"`` on patients it was
        fitted on (same patient IDs as the training cohort; in-sample and optimistic, warned).
    ``mdata.uns[key_added]["params"]`` : :class:`dict`
        Target, task, classes, number of features, of patients scored and of training patients.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> cohort = rg.datasets.synthetic_cohort(n_patients=160, n_genes=100, seed=0)
    >>> train, external = cohort[:100].copy(), cohort[100:].copy()
    >>> rg.integrate.predict(train, "idh_mutant", model="logistic_l2", cv=3, repeats=1)
    >>> rg.integrate.apply_model(external, train.uns["predict"])
    >>> bool(external.uns["apply_model"]["metrics"]["value"].iloc[0] > 0.7)
    True
    """
    require_mudata(mdata, "integrate.apply_model")
    original, mdata = mdata, copy_mudata(mdata) if copy else mdata
    model = stored_fit(
        mdata if fit is original else fit, key, where="apply_model", what="stored model", writer="rg.integrate.predict"
    )
    if "intercept" not in model or "model" not in model:
        msg = "This stored result has no coefficients (random_forest or an older result); apply_model needs a linear model from predict."
        raise ParameterError(msg)
    params = model["params"]
    task, classes = str(params["task"]), _as_list(params.get("classes"))
    table = model["model"]
    features = [str(f) for f in table.index]
    frame = feature_matrix(mdata, _as_list(params["features"]))
    absent = [f for f in features if f not in frame.columns]
    if absent:
        msg = f"apply_model: {len(absent)} model features are missing from this cohort, e.g. {absent[:5]}; align the feature names first."
        raise MissingColumnError(msg)
    values = frame[features].to_numpy(dtype=float)
    no_features = np.isnan(values).all(axis=1)
    if no_features.any():
        warnings.warn(
            f"apply_model: {int(no_features.sum())} patients have no features and get no score.",
            UserWarning,
            stacklevel=2,
        )
    batch_key = params.get("batch_key")
    if batch_key is not None and "batch_center" in model:
        values = _batch_scale(mdata, values, features, model, str(batch_key))
    scores = linear_predictor(values, model, task)
    scores[no_features] = np.nan
    predictions = pd.DataFrame(index=pd.Index(mdata.obs_names, name="patient_id"))
    if task == "multiclass":
        for k, c in enumerate(classes):
            predictions[f"score_{c}"] = scores[:, k]
        best = np.array(classes, dtype=object)[np.nan_to_num(scores).argmax(axis=1)]
        best[no_features] = None
        mdata.obs[score_column(key_added, "class")] = pd.Categorical(best, categories=classes)
    else:
        predictions["score"] = scores
        mdata.obs[score_column(key_added, "score")] = scores
    trained = _training_patients(mdata, model)
    mdata.uns[key_added] = {
        "predictions": predictions,
        "metrics": _external_metrics(mdata, str(params["target"]), scores, task, classes, trained),
        "params": {
            "target": str(params["target"]),
            "task": task,
            "classes": classes,
            "n_features": len(features),
            "n_scored": int((~no_features).sum()),
            "n_training_patients": int(trained.sum()),
        },
    }
    return mdata if copy else None
