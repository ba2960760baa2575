"""Leakage-safe radiomic signatures: nested cross-validated LASSO-Cox, stored as tables, applied unchanged."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .._compat import copy_mudata
from .._cv import check_nested_splits, run_tasks
from .._keys import risk_column
from .._utils import require_mudata
from ..errors import DataFormatError, ParameterError
from ._coxnet import fit_coxnet_cv, make_pipeline, survival_y
from ._design import signature_design
from ._metrics import baseline_hazard, default_times, fold_metrics, survival_at
from ._outcome import survival_columns

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["signature"]

logger = logging.getLogger(__name__)


def _ibs_grid(time: np.ndarray, event: np.ndarray) -> np.ndarray:
    return np.unique(np.quantile(time[event], np.linspace(0.1, 0.9, 20)))


def _fit_model(X, time, event, settings, seed):
    """Fit one model on training patients; return ``(predict_risk, predict_survival, info)``."""
    if settings["method"] == "rsf":
        from sksurv.ensemble import RandomSurvivalForest

        model = RandomSurvivalForest(
            n_estimators=settings["n_estimators"],
            min_samples_leaf=settings["min_samples_leaf"],
            max_features="sqrt",
            random_state=seed,
            n_jobs=1,
        )
        pipe = make_pipeline(model).fit(X, survival_y(time, event))

        def surv_rsf(Xn, grid):
            fns = pipe.predict_survival_function(Xn)
            return np.vstack([fn(np.clip(grid, fn.x[0], fn.x[-1])) for fn in fns])

        return pipe.predict, surv_rsf, {"alpha": np.nan, "selected": pipe.named_steps["filter"].support_}
    fit = fit_coxnet_cv(
        X,
        time,
        event,
        penalized=settings["penalized"],
        l1_ratio=settings["l1_ratio"],
        n_alphas=settings["n_alphas"],
        inner_cv=settings["inner_cv"],
        rule=settings["rule"],
        seed=seed,
    )
    base = baseline_hazard(fit.predict(X), time, event)
    info = {"alpha": fit.alpha, "selected": fit.coef() != 0, "fit": fit, "baseline": base}
    return fit.predict, (lambda Xn, grid: survival_at(base, fit.predict(Xn), grid)), info


def _outer_fold(train, test, seed, *, X, time, event, settings):
    predict, surv, info = _fit_model(X[train], time[train], event[train], settings, seed)
    y_train, y_test = survival_y(time[train], event[train]), survival_y(time[test], event[test])
    risk = predict(X[test])
    scores = fold_metrics(y_train, y_test, risk, surv(X[test], settings["grid"]), settings["times"], settings["grid"])
    scores.update(n_train=len(train), n_test=len(test), n_events_test=int(event[test].sum()), alpha=info["alpha"])
    scores["n_selected"] = int(info["selected"].sum()) if settings["method"] != "rsf" else np.nan
    return scores, info["selected"], test, risk


def _coefficient_table(fit, terms: pd.DataFrame) -> pd.DataFrame:
    pipe = fit.pipeline
    coef = fit.coef()
    medians = pipe.named_steps["impute"].statistics_
    center = np.full(coef.size, np.nan)
    scale = np.full(coef.size, np.nan)
    center[fit.support] = pipe.named_steps["scale"].mean_
    scale[fit.support] = pipe.named_steps["scale"].scale_
    table = terms.assign(coef=coef, hazard_ratio_per_sd=np.exp(coef), median=medians, center=center, scale=scale)
    table = table[(coef != 0) | (terms["kind"] == "clinical").to_numpy()]
    return table.reindex(table["coef"].abs().sort_values(ascending=False).index)


def _settings(method, l1_ratio, rule, cv, repeats, n_alphas, terms, time, event):
    if method not in ("lasso_cox", "rsf"):
        msg = f"method must be 'lasso_cox' or 'rsf', got {method!r}."
        raise ParameterError(msg)
    if rule not in ("1se", "min"):
        msg = f"rule must be '1se' or 'min', got {rule!r}."
        raise ParameterError(msg)
    if not 0 < l1_ratio <= 1:
        msg = f"l1_ratio must be in (0, 1] (1 = LASSO, smaller = elastic net), got {l1_ratio}."
        raise ParameterError(msg)
    n_events = int(event.sum())
    if n_events < 2 * cv or cv < 2 or repeats < 1:
        fix = f"use cv={n_events // 2}" if n_events >= 4 and cv >= 2 else "too few events for a nested cross-validation"
        msg = f"Nested cv={cv} needs cv >= 2, repeats >= 1 and at least {2 * cv} events (found {n_events}); {fix}."
        raise DataFormatError(msg)
    return {
        "method": method,
        "l1_ratio": l1_ratio,
        "rule": rule,
        "n_alphas": n_alphas,
        "inner_cv": cv,
        "penalized": (terms["kind"] == "feature").to_numpy(),
        "n_estimators": 100,
        "min_samples_leaf": 10,
        "grid": _ibs_grid(time, event),
    }


def _empty_folds(cv_scores: pd.DataFrame) -> int:
    """Count outer folds whose LASSO kept no feature: each of their test patients gets risk 0 (tied)."""
    empty = cv_scores["n_selected"].eq(0).to_numpy()
    if empty.any():
        tied = int(cv_scores.loc[empty & cv_scores["repeat"].eq(0).to_numpy(), "n_test"].sum())
        warnings.warn(
            f"signature: {int(empty.sum())} of {len(empty)} outer folds selected no feature, so each of their test "
            f"patients gets the risk score 0 ({tied} patients tied at 0 in the out-of-fold score of the first "
            "repeat); a split or ranking of that score puts them all on one side. Listed in "
            "uns[key_added]['cv_scores'] (n_selected == 0); rule='min' or more patients may help.",
            UserWarning,
            stacklevel=3,
        )
    return int(empty.sum())


def _performance(cv_scores: pd.DataFrame) -> pd.DataFrame:
    metrics = [c for c in cv_scores.columns if c in ("harrell_c", "uno_c", "ibs") or c.startswith("auc_")]
    perf = cv_scores[metrics].agg(["mean", "std", "count"]).T
    perf.columns = ["mean", "sd", "n_folds"]
    perf.index.name = "metric"
    return perf


def signature(
    mdata: MuData,
    *,
    features: str | Sequence[str] = "radiomics",
    time: str = "os_months",
    event: str = "os_event",
    method: Literal["lasso_cox", "rsf"] = "lasso_cox",
    cv: int = 5,
    repeats: int = 1,
    seed: int = 0,
    clinical: Sequence[str] | None = None,
    l1_ratio: float = 1.0,
    rule: Literal["1se", "min"] = "1se",
    times: Sequence[float] | None = None,
    n_alphas: int = 50,
    n_jobs: int = 1,
    client: Any = None,
    explain: bool = False,
    key_added: str = "signature",
    copy: bool = False,
) -> MuData | None:
    """Build a radiomic survival signature and estimate its performance by nested cross-validation.

    The model is a scikit-learn pipeline: median imputation, removal of constant and
    near-constant features (most frequent value in more than 95% of patients), standard scaling
    and :class:`sksurv.linear_model.CoxnetSurvivalAnalysis` (LASSO-Cox; elastic net when
    ``l1_ratio < 1``). Its penalty is chosen by inner ``cv``-fold cross-validation as
    ``cv.glmnet`` does: one penalty path per inner fold, every penalty scored on the held-out
    fold by the cross-validated partial-likelihood deviance (Verweij & van Houwelingen 1993,
    doi:10.1002/sim.4780122407), then the minimum (``rule="min"``) or the largest penalty within
    one standard error of it (``rule="1se"``, sparser). ``method="rsf"`` fits a random survival
    forest (100 trees, at least 10 patients per leaf) instead.

    Performance comes from outer ``cv``-fold cross-validation repeated ``repeats`` times: every
    step above, penalty choice included, is refitted on the training folds only, and the held-out
    fold gives Harrell's and Uno's C-index, the cumulative/dynamic AUC at ``times`` and the
    integrated Brier score (:mod:`sksurv.metrics`). The final model is then refitted on all
    patients. A higher risk score means worse survival.

    Clinical covariates (``clinical=``) enter the same Cox model *unpenalised* (penalty factor 0):
    they are always in the model, the LASSO selects radiomic features on top of them, and
    categorical covariates are coded as indicators against their first level. Missing values
    are imputed by training medians (a warning says how many).

    Parameters
    ----------
    mdata
        Cohort container.
    features
        A modality name (all its features) or a list of keys (``"radiomics:<feature>"``, ``obs`` columns).
    time
        ``mdata.obs`` column with follow-up time.
    event
        ``mdata.obs`` boolean column, ``True`` if the event was observed.
    method
        ``"lasso_cox"`` (Coxnet) or ``"rsf"`` (random survival forest; it cannot be stored as tables,
        so :func:`apply_signature` refuses it).
    cv
        Number of outer and inner folds (stratified on the event).
    repeats
        Repeats of the outer cross-validation.
    seed
        Seed of fold assignment (and of the forest).
    clinical
        ``obs`` columns added to the model unpenalised.
    l1_ratio
        Elastic-net mixing in (0, 1]; 1 is the LASSO.
    rule
        Penalty choice: ``"1se"`` or ``"min"``.
    times
        Time points of the time-dependent AUC; default the quartiles of the event times.
    n_alphas
        Length of the penalty path.
    n_jobs
        Outer folds run in parallel with :mod:`joblib`.
    client
        A Dask :class:`distributed.Client`: the outer folds run on its workers (``n_jobs`` is
        then ignored); the tables are identical to a local run.
    explain
        Compute SHAP values of the final LASSO-Cox model (:mod:`shap`, interventional linear
        SHAP on the log relative hazard scale, training patients as background); not for ``"rsf"``.
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Raises
    ------
    DataFormatError
        Too few events (or censored patients) for ``cv`` outer and inner folds; the message says
        which ``cv`` works.
    ValueError
        An unknown ``method`` or ``rule``, or ``l1_ratio`` outside (0, 1].

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.obs["risk_score"]`` (``f"{key_added}_risk_score"`` for another key)
        Linear predictor of the final model (higher = worse); ``NaN`` without any feature value.
    ``mdata.obs["risk_score_cv"]``
        Out-of-fold risk score from the first repeat (each patient scored by a model that never saw it).
    ``mdata.uns[key_added]["coefficients"]``
        Selected terms: ``covariate`` (the key each term is built from), ``level``, ``kind``,
        ``coef`` (per SD), ``hazard_ratio_per_sd``, ``median``, ``center``, ``scale``: all
        :func:`apply_signature` needs.
    ``mdata.uns[key_added]["baseline"]``
        Breslow baseline cumulative hazard of the final model (``time, cumulative_hazard``).
    ``mdata.uns[key_added]["cv_scores"]``
        One row per outer fold: metrics, penalty, number of selected features.
    ``mdata.uns[key_added]["performance"]``
        Mean and SD over folds of each metric.
    ``mdata.uns[key_added]["selection"]``
        Fraction of outer folds that selected each term.
    ``mdata.uns[key_added]["path"]``
        Inner-CV deviance along the final model's penalty path (``alpha, cvm, cvsd, n_nonzero``).
    ``mdata.uns[key_added]["shap"]``
        With ``explain=True``: patients x selected terms SHAP values of the final model (log
        relative hazard; ``params["shap_base_value"]``); ``["shap_data"]`` holds the same
        patients' raw term values. Drawn by :func:`radiogenomics.pl.shap_summary` and
        :func:`radiogenomics.pl.shap_dependence`.
    ``mdata.uns[key_added]["params"]``
        Arguments, chosen penalty, sample sizes, ``n_empty_folds`` (outer folds that selected no
        feature: their test patients all get risk 0; warned).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=100, n_features=30, n_genes=100, seed=0)
    >>> rg.survival.signature(mdata, cv=3, n_alphas=20)
    >>> perf = mdata.uns["signature"]["performance"]
    >>> round(float(perf.loc["harrell_c", "mean"]), 2)  # nested-CV C-index
    0.72
    >>> mdata.uns["signature"]["coefficients"].index[0]  # a planted F1 feature (the first 10 of 30)
    'CT_tumour_original_shape_MinorAxisLength'
    >>> "CT_tumour_original_shape_MinorAxisLength" in set(mdata.uns["truth"]["radiomic_features"]["feature"][:10])
    True
    >>> mdata.uns["signature"]["coefficients"].columns.tolist()[:4]
    ['covariate', 'level', 'kind', 'coef']
    """
    require_mudata(mdata, "survival.signature")
    from sklearn.model_selection import RepeatedStratifiedKFold

    if explain and method != "lasso_cox":
        msg = "explain=True needs method='lasso_cox' (a random survival forest is not explained here)."
        raise ParameterError(msg)
    mdata = copy_mudata(mdata) if copy else mdata
    frame, terms = signature_design(mdata, features, clinical)
    t_all, e_all, usable = survival_columns(mdata, time, event, where="signature", name_patients=True)
    scored = frame.loc[:, terms["kind"].eq("feature").to_numpy()].notna().any(axis=1).to_numpy()
    if (usable & ~scored).any():
        warnings.warn(
            f"signature: {int((usable & ~scored).sum())} patients have no feature values and are left out "
            f"(risk score NaN): {list(mdata.obs_names[usable & ~scored][:10])}",
            UserWarning,
            stacklevel=2,
        )
    fit_rows = usable & scored
    X, t, e = frame.to_numpy(dtype=float)[fit_rows], t_all[fit_rows], e_all[fit_rows]
    settings = _settings(method, l1_ratio, rule, cv, repeats, n_alphas, terms, t, e)
    settings["times"] = default_times(t, e) if times is None else np.asarray(times, dtype=float)
    names = ["censored", "event"]
    check_nested_splits(e.astype(int), None, cv=cv, inner_cv=cv, where="signature", names=names, same_cv=True)
    splits = list(RepeatedStratifiedKFold(n_splits=cv, n_repeats=repeats, random_state=seed).split(X, e))
    check_nested_splits(e.astype(int), splits, cv=cv, inner_cv=cv, where="signature", names=names, same_cv=True)
    logger.info("signature: %d patients, %d events, %d terms, %d outer folds", len(t), e.sum(), X.shape[1], len(splits))
    tasks = [(train, test, seed + i) for i, (train, test) in enumerate(splits)]
    shared = {"X": X, "time": t, "event": e, "settings": settings}
    results = run_tasks(_outer_fold, tasks, shared=shared, n_jobs=n_jobs, client=client)
    rows, oof = [], np.full(len(t), np.nan)
    for i, (scores, _, test, risk) in enumerate(results):
        rows.append({"repeat": i // cv, "fold": i % cv, **scores})
        if i < cv:
            oof[test] = risk
    cv_scores = pd.DataFrame(rows)
    n_empty = _empty_folds(cv_scores)
    selection = pd.DataFrame(
        {"frequency": np.mean([r[1] for r in results], axis=0), "kind": terms["kind"].to_numpy()}, index=terms.index
    )
    predict, _, info = _fit_model(X, t, e, settings, seed)
    risk_all = np.full(mdata.n_obs, np.nan)
    risk_all[scored] = predict(frame.to_numpy(dtype=float)[scored])
    _store(mdata, key_added, risk_all, oof, fit_rows, info, terms, cv_scores, selection, settings)
    if explain:
        _store_shap(mdata.uns[key_added], info, X, terms, mdata.obs_names[fit_rows], method)
    mdata.uns[key_added]["params"].update(
        features=features if isinstance(features, str) else list(features),
        time=time,
        event=event,
        cv=cv,
        repeats=repeats,
        seed=seed,
        clinical=None if clinical is None else list(clinical),
        n_jobs=n_jobs,
        n_empty_folds=n_empty,
        n_patients=len(t),
        n_events=int(e.sum()),
        n_terms=X.shape[1],
    )
    return mdata if copy else None


def _store_shap(result: dict, info: dict, X: np.ndarray, terms: pd.DataFrame, patients, method: str) -> None:
    """SHAP values (patients x selected terms) of the final LASSO-Cox model on its training patients."""
    from .._explain import linear_shap, shap_table

    fit = info["fit"]
    coef = fit.pipeline[-1].coef_[:, fit.index]
    values, base = linear_shap(coef, 0.0, fit.transform(X))
    used = coef != 0
    names = terms.index[fit.support][used]
    result["shap"] = shap_table(values[:, used], patients, names)
    result["shap_data"] = shap_table(X[:, np.flatnonzero(fit.support)[used]], patients, names)
    result["params"].update(shap_base_value=base, shap_scale="log relative hazard", explain=True)


def _store(mdata, key, risk_all, oof, fit_rows, info, terms, cv_scores, selection, settings):
    col = risk_column(key)
    mdata.obs[col] = risk_all
    oof_all = np.full(mdata.n_obs, np.nan)
    oof_all[fit_rows] = oof
    mdata.obs[f"{col}_cv"] = oof_all
    params = {
        "method": settings["method"],
        "rule": settings["rule"],
        "l1_ratio": settings["l1_ratio"],
        "n_alphas": settings["n_alphas"],
        "times": [float(x) for x in settings["times"]],
        "risk_column": col,
        "key_added": key,
        "convention": "higher risk score = worse survival",
    }
    result = {"cv_scores": cv_scores, "performance": _performance(cv_scores), "selection": selection, "params": params}
    if settings["method"] == "rsf":
        mdata.uns[key] = result
        return
    fit = info["fit"]
    result["coefficients"] = _coefficient_table(fit, terms)
    result["baseline"] = info["baseline"]
    result["path"] = pd.DataFrame({"alpha": fit.alphas, "cvm": fit.cvm, "cvsd": fit.cvsd, "n_nonzero": fit.n_nonzero})
    params.update(
        alpha=fit.alpha, alpha_min=float(fit.alphas[fit.index_min]), alpha_1se=float(fit.alphas[fit.index_1se])
    )
    if not (result["coefficients"]["kind"] == "feature").any():
        warnings.warn(
            f"signature: the final model selected no feature (rule={settings['rule']!r}); the risk score "
            "carries no radiomic information. This is the expected outcome when features are unrelated to survival.",
            UserWarning,
            stacklevel=3,
        )
    mdata.uns[key] = result
