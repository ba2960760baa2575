"""Score a new cohort with a stored signature, without refitting."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from .._compat import copy_mudata
from .._fits import stored_fit
from .._keys import risk_column
from .._utils import require_mudata
from ..errors import DataFormatError, MissingResultError
from ._design import terms_matrix

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd
    from mudata import MuData

__all__ = ["apply_signature", "linear_predictor"]


def linear_predictor(X: pd.DataFrame, coefficients: pd.DataFrame) -> np.ndarray:
    """Return the risk score of stored ``coefficients`` on the terms matrix ``X`` (rows = patients).

    Missing values are replaced by the stored training medians, then each term is standardised
    with the stored centre and scale; this reproduces the fitted pipeline exactly.
    """
    values = X[coefficients.index].to_numpy(dtype=float)
    values = np.where(np.isnan(values), coefficients["median"].to_numpy(), values)
    z = (values - coefficients["center"].to_numpy()) / coefficients["scale"].to_numpy()
    return z @ coefficients["coef"].to_numpy()


def apply_signature(
    mdata: MuData,
    fit: Mapping | MuData,
    *,
    key: str = "signature",
    key_added: str | None = None,
    copy: bool = False,
) -> MuData | None:
    """Score a (validation) cohort with a stored signature, unchanged: no refitting, no re-scaling.

    The stored training medians, centres, scales and coefficients are applied to the features
    of the same names in ``mdata``; a feature missing from the new cohort raises, missing values
    get the training median. Scores of the training cohort itself equal ``obs["risk_score"]``.

    Parameters
    ----------
    mdata
        Cohort to score.
    fit
        The stored result of :func:`signature` (e.g. ``mdata_train.uns["signature"]``, also after an
        h5mu round trip), or the cohort holding it at ``uns[key]`` (the training cohort, or
        ``mdata`` itself for a signature stored there).
    key
        Key of the signature in a cohort passed as ``fit``.
    key_added
        Name of the signature in ``mdata``; the risk score goes to ``obs["risk_score"]`` for
        ``"signature"``, else to ``obs[f"{key_added}_risk_score"]``. Default: the key the
        signature was stored under.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.obs[risk column]``
        Risk score (higher = worse).
    ``mdata.uns[key_added]``
        A copy of the stored signature (coefficients, baseline, params with ``applied=True``), so
        that :func:`evaluate` can use the training baseline hazard (left as is when the signature
        was read from this key).

    Raises
    ------
    MissingResultError
        ``fit`` is a cohort without ``uns[key]``, or a signature without coefficients (``rsf``).
    DataFormatError
        Stored terms without a scale (not written by :func:`signature`).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> train = rg.datasets.synthetic_cohort(n_patients=100, n_features=30, n_genes=100, seed=0)
    >>> test = rg.datasets.synthetic_cohort(n_patients=40, n_features=30, n_genes=100, seed=1)
    >>> rg.survival.signature(train, cv=3, n_alphas=20)
    >>> rg.survival.apply_signature(test, train.uns["signature"])
    >>> test.obs["risk_score"].notna().all()
    np.True_
    """
    require_mudata(mdata, "survival.apply_signature")
    original, mdata = mdata, copy_mudata(mdata) if copy else mdata
    stored = stored_fit(
        mdata if fit is original else fit,
        key,
        where="apply_signature",
        what="signature",
        writer="rg.survival.signature",
    )
    key = key_added or stored.get("params", {}).get("key_added", key)
    if "coefficients" not in stored:
        msg = "This signature has no coefficient table (method='rsf' stores no model); refit with method='lasso_cox'."
        raise MissingResultError(msg)
    coefficients = stored["coefficients"]
    if coefficients["scale"].isna().any() or (coefficients["scale"] == 0).any():
        msg = "Stored signature has terms without a scale; it was not written by rg.survival.signature."
        raise DataFormatError(msg)
    X = terms_matrix(mdata, coefficients[["covariate", "level", "kind"]])
    features = coefficients.index[coefficients["kind"] == "feature"]
    empty = X[features].isna().all(axis=1).to_numpy() if len(features) else np.zeros(mdata.n_obs, bool)
    risk = linear_predictor(X, coefficients)
    risk[empty] = np.nan
    n_imputed = int(X.isna().to_numpy()[~empty].sum())
    if n_imputed:
        warnings.warn(
            f"apply_signature: {n_imputed} missing values of signature terms were replaced by training medians.",
            UserWarning,
            stacklevel=2,
        )
    mdata.obs[risk_column(key)] = risk
    if mdata.uns.get(key) is not stored:
        copied = {name: value for name, value in stored.items() if name in ("coefficients", "baseline", "params")}
        copied["params"] = {**dict(stored.get("params", {})), "applied": True}
        mdata.uns[key] = copied
    return mdata if copy else None
