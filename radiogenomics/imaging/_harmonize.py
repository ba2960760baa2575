"""ComBat harmonisation of radiomic features across sites or scanners, stored and re-applicable."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Literal

import anndata as ad
import numpy as np
import pandas as pd

from .._compat import copy_mudata, stored_matrix
from .._fits import stored_fit
from .._utils import dense, get_modality, resolve_keys
from ..errors import DataFormatError, MissingColumnError, MissingResultError, ParameterError
from ..io._checks import refuse_numeric_text
from ._combat import combat_apply, combat_design, combat_fit

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mudata import MuData

__all__ = ["apply_harmonization", "harmonize"]

logger = logging.getLogger(__name__)


def _columns(data, adata: ad.AnnData, keys: Sequence[str]) -> pd.DataFrame:
    """Batch/covariate values per patient of the modality, from its obs or the global obs."""
    out = {}
    for key in keys:
        if key in adata.obs.columns:
            out[key] = adata.obs[key]
        elif isinstance(data, ad.AnnData):
            msg = f"Column {key!r} not found in adata.obs (columns: {list(adata.obs.columns)[:10]})."
            raise MissingColumnError(msg)
        else:
            out[key] = resolve_keys(data, [key])[key].reindex(adata.obs_names)
    frame = pd.DataFrame(out, index=adata.obs_names)
    missing = frame.isna().any(axis=1)
    if missing.any():
        bad = frame.columns[frame.isna().any()].tolist()
        msg = f"{int(missing.sum())} patients lack {bad} (e.g. {list(frame.index[missing][:5])}); ComBat needs a batch and every covariate for each patient. Subset the cohort or fill them in."
        raise DataFormatError(msg)
    return frame


def _values(adata: ad.AnnData) -> np.ndarray:
    x = dense(adata.X)
    bad = ~np.isfinite(x)
    if bad.any():
        feats = adata.var_names[bad.any(axis=0)].tolist()
        msg = f"{len(feats)} features have missing or infinite values (e.g. {feats[:5]}); ComBat needs complete data. Remove them with rg.imaging.filter_features(max_missing=0) or impute first."
        raise DataFormatError(msg)
    return x


def _store(fit: dict, features: pd.Index, design_cols: list[str], levels: dict, params: dict) -> dict:
    batches = [str(b) for b in fit["batches"]]
    feats = list(features)
    levels_long = pd.DataFrame(
        [(cov, lev, i) for cov, levs in levels.items() for i, lev in enumerate(levs)],
        columns=["covariate", "level", "order"],
    )
    return {
        "params": params,
        "features": pd.DataFrame({"grand_mean": fit["grand_mean"], "var_pooled": fit["var_pooled"]}, index=feats),
        "beta": pd.DataFrame(fit["beta"], index=design_cols, columns=feats),
        "gamma_star": pd.DataFrame(fit["gamma_star"], index=batches, columns=feats),
        "delta_star": pd.DataFrame(fit["delta_star"], index=batches, columns=feats),
        "gamma_hat": pd.DataFrame(fit["gamma_hat"], index=batches, columns=feats),
        "delta_hat": pd.DataFrame(fit["delta_hat"], index=batches, columns=feats),
        "batches": pd.DataFrame({"n_patients": fit["n_per_batch"]}, index=batches),
        "covariate_levels": levels_long,
    }


def _check_batches(batch: pd.Series, batch_key: str, *, mean_only: bool) -> None:
    """Refuse a single batch; warn that a one-patient batch makes every batch location-only."""
    counts = batch.value_counts()
    if len(counts) < 2:
        msg = (
            f"harmonize: every patient has {batch_key}={counts.index[0]!r}: ComBat needs at least two batches, "
            "and one batch has no batch effect to remove. Check batch_key, or skip harmonisation."
        )
        raise DataFormatError(msg)
    single = counts.index[counts == 1].tolist()
    if single and not mean_only:
        msg = (
            f"harmonize: {len(single)} {batch_key} batches have a single patient ({single[:5]}); a single patient "
            "has no within-batch variance, so every batch is adjusted for location only (mean_only=True, as "
            "sva::ComBat does). Merge small batches or drop those patients to also adjust scale."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)


def harmonize(
    mdata: MuData | ad.AnnData,
    *,
    mod: str = "radiomics",
    batch_key: str,
    covariates: Sequence[str] | None = None,
    method: Literal["combat"] = "combat",
    parametric: bool = True,
    mean_only: bool = False,
    key_added: str = "harmonize",
    copy: bool = False,
) -> MuData | ad.AnnData | None:
    """Remove site or scanner effects from radiomic features with ComBat, protecting biology.

    ComBat (Johnson et al. 2007, doi:10.1093/biostatistics/kxj037; for radiomics Orlhac et al.
    2018, doi:10.2967/jnumed.117.199935) standardises each feature (grand mean, pooled
    variance, linear effects of the protected ``covariates``), estimates an additive and a
    multiplicative effect per batch, shrinks them towards their across-feature mean with
    empirical Bayes, and removes them. The implementation reproduces R's ``sva::ComBat``
    (checked in the test suite to 1e-10 on a reference data set, parametric and
    non-parametric, with and without covariates). The fitted parameters are stored as tables,
    so :func:`apply_harmonization` adjusts new patients (a validation cohort) with the
    training fit and without refitting. Fit on the training patients only when the
    harmonised features feed a model that is validated afterwards.

    Parameters
    ----------
    mdata
        Cohort (MuData) or a single AnnData of features.
    mod
        Modality to harmonise (ignored for an AnnData).
    batch_key
        Column with the site or scanner label: a column of the modality's ``obs`` or of the
        global ``mdata.obs``.
    covariates
        Biological covariates whose effects are protected (e.g. ``["age", "idh_mutant"]``):
        ``obs`` columns or ``"<mod>:<feature>"`` keys. Numeric columns enter linearly;
        other columns are treatment-coded (first level as reference).
    method
        Only ``"combat"`` (parametric or non-parametric empirical Bayes).
    parametric
        Normal / inverse-gamma priors (``True``, the default of ``sva::ComBat``) or the
        non-parametric prior.
    mean_only
        Adjust only the location of each batch. Set automatically, with a :class:`UserWarning`,
        when a batch has a single patient.
    key_added
        Key in the modality's ``uns`` for the fitted parameters.
    copy
        Return a harmonised copy instead of modifying ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes, on the modality:

    ``layers["raw"]``
        The values before harmonisation.
    ``X``
        Harmonised values (float64).
    ``uns[key_added]``
        ``params`` (batch_key, covariates, method, parametric, mean_only, n_unadjusted: features
        constant within a site, left unchanged as ``sva::ComBat`` does, with a warning); ``features``
        (``grand_mean``, ``var_pooled`` per feature); ``beta`` (covariate design column x
        feature); ``gamma_star`` / ``delta_star`` (batch x feature, shrunken additive and
        multiplicative effects, on the standardised scale) and the unshrunken ``gamma_hat`` /
        ``delta_hat``; ``batches`` (patients per batch); ``covariate_levels`` (categorical
        levels in design order).

    Raises
    ------
    DataFormatError
        A single batch (nothing to harmonise), missing batch or covariate values, or
        non-finite feature values.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, seed=0)
    >>> rg.imaging.harmonize(mdata, batch_key="site", covariates=["age"])
    >>> rad = mdata.mod["radiomics"]
    >>> "raw" in rad.layers, rad.uns["harmonize"]["gamma_star"].shape
    (True, (3, 100))
    """
    if method != "combat":
        msg = f"method={method!r} is not supported; use method='combat'."
        raise ParameterError(msg)
    data = copy_mudata(mdata) if copy else mdata
    adata = get_modality(data, mod)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates or [])
    info = _columns(data, adata, [batch_key, *covariates])
    refuse_numeric_text(info, covariates, where="harmonize covariates")
    design, levels = combat_design(info[covariates] if covariates else None)
    x = _values(adata)
    _check_batches(info[batch_key].astype(str), batch_key, mean_only=mean_only)
    fit = combat_fit(
        x,
        info[batch_key].astype(str).to_numpy(),
        design.to_numpy() if covariates else None,
        parametric=parametric,
        mean_only=mean_only,
    )
    adjusted = combat_apply(x, info[batch_key].astype(str).to_numpy(), design.to_numpy() if covariates else None, fit)
    if fit["unadjusted"].any():
        names = adata.var_names[fit["unadjusted"]].tolist()
        msg = f"harmonize: {len(names)} features are constant within a site and are left unadjusted (as sva::ComBat does), e.g. {names[:5]}."
        warnings.warn(msg, UserWarning, stacklevel=2)
    params = {
        "batch_key": batch_key,
        "covariates": covariates,
        "method": method,
        "parametric": parametric,
        "mean_only": bool(fit["mean_only"]),
        "continuous": [c for c in covariates if c not in levels],
        "n_unadjusted": int(fit["unadjusted"].sum()),
    }
    adata.layers["raw"] = stored_matrix(adata).copy()
    adata.X = adjusted
    adata.uns[key_added] = _store(fit, adata.var_names, list(design.columns), levels, params)
    logger.info("harmonize: %d patients, %d features, %d batches", *x.shape, len(fit["batches"]))
    return data if copy else None


def _fitted(fit, mod: str, key: str) -> Mapping:
    stored = stored_fit(
        fit, key, where="apply_harmonization", what="fitted harmonisation", writer="rg.imaging.harmonize", mod=mod
    )
    needed = {"params", "features", "beta", "gamma_star", "delta_star", "covariate_levels"}
    if not needed <= set(stored):
        msg = f"The fitted harmonisation lacks {sorted(needed - set(stored))}; pass the dict stored by rg.imaging.harmonize."
        raise MissingResultError(msg)
    return stored


def apply_harmonization(
    mdata: MuData | ad.AnnData,
    fit: Mapping | MuData | ad.AnnData,
    *,
    key: str = "harmonize",
    mod: str = "radiomics",
    key_added: str = "harmonize",
    copy: bool = False,
) -> MuData | ad.AnnData | None:
    """Harmonise new patients with a ComBat fit from another cohort, without refitting.

    Every parameter (grand mean, pooled variance, covariate coefficients, per-batch shrunken
    effects) comes from the training fit, so validation patients never influence their own
    adjustment: the harmonisation is a fixed transform, like a fitted scikit-learn scaler.
    Each new patient must belong to a batch seen in the fit.

    Parameters
    ----------
    mdata
        Cohort (MuData) or AnnData with the new patients; features must include every fitted feature.
    fit
        The fitted parameters: the dict stored by :func:`harmonize` (``mod.uns["harmonize"]``)
        or the harmonised training cohort itself (read at the modality's ``uns[key]``).
    key
        Key of the fit in the training modality's ``uns`` when ``fit`` is a cohort.
    mod
        Modality holding the features (in both cohorts).
    key_added
        Key in the modality's ``uns`` where the applied parameters are recorded.
    copy
        Return a harmonised copy instead of modifying ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes, on the modality: ``layers["raw"]``
    (values before), ``X`` (harmonised, float64; features absent from the fit are left
    unchanged; fitted features absent from the new cohort are skipped, each feature's
    adjustment being independent once fitted) and ``uns[key_added]`` (a copy of the applied
    fit with ``params["applied"] = True``, ``n_features_adjusted`` and ``n_fitted_absent``).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, seed=0)
    >>> train, test = mdata[:60].copy(), mdata[60:].copy()
    >>> rg.imaging.harmonize(train, batch_key="site")
    >>> rg.imaging.apply_harmonization(test, fit=train)
    >>> test.mod["radiomics"].uns["harmonize"]["params"]["applied"]
    True
    """
    stored = _fitted(fit, mod, key)
    data = copy_mudata(mdata) if copy else mdata
    adata = get_modality(data, mod)
    params = dict(stored["params"])
    features = pd.DataFrame(stored["features"])
    present = features.index.intersection(adata.var_names, sort=False)
    if not len(present):
        msg = f"None of the {len(features)} fitted features is in the new cohort (e.g. {list(features.index[:3])}); harmonise the same features."
        raise MissingColumnError(msg)
    covariates = [str(c) for c in np.atleast_1d(params.get("covariates", [])) if str(c)]
    info = _columns(data, adata, [params["batch_key"], *covariates])
    lev = pd.DataFrame(stored["covariate_levels"])
    levels = {c: g.sort_values("order")["level"].astype(str).tolist() for c, g in lev.groupby("covariate")}
    design, _ = combat_design(info[covariates] if covariates else None, levels=levels)
    beta = pd.DataFrame(stored["beta"])
    if covariates:
        design = design.reindex(columns=beta.index, fill_value=0.0)
    feats = list(present)
    features = features.loc[feats]
    gamma, delta = pd.DataFrame(stored["gamma_star"]), pd.DataFrame(stored["delta_star"])
    core = {
        "batches": list(gamma.index),
        "grand_mean": features["grand_mean"].to_numpy(),
        "var_pooled": features["var_pooled"].to_numpy(),
        "beta": beta[feats].to_numpy(),
        "gamma_star": gamma[feats].to_numpy(),
        "delta_star": delta[feats].to_numpy(),
    }
    x = dense(adata.X)
    cols = adata.var_names.get_indexer(feats)
    sub = x[:, cols]
    if not np.isfinite(sub).all():
        msg = "The new cohort has missing or infinite values in harmonised features; impute or remove them first."
        raise DataFormatError(msg)
    out = x.copy()
    out[:, cols] = combat_apply(
        sub, info[params["batch_key"]].astype(str).to_numpy(), design.to_numpy() if covariates else None, core
    )
    adata.layers["raw"] = stored_matrix(adata).copy()
    adata.X = out
    applied = {
        k: (pd.DataFrame(v).copy() if isinstance(v, pd.DataFrame) else v) for k, v in stored.items() if k != "params"
    }
    extra = {
        "applied": True,
        "n_features_adjusted": len(feats),
        "n_fitted_absent": len(stored["features"]) - len(feats),
    }
    adata.uns[key_added] = {**applied, "params": {**params, **extra}}
    return data if copy else None
