"""Remove unstable, near-constant, mostly-missing, redundant and volume-surrogate radiomic features."""

from __future__ import annotations

import logging
import re
import warnings
from typing import TYPE_CHECKING, Literal

import anndata as ad
import numpy as np
import pandas as pd
from scipy import stats

from .._compat import copy_mudata, update_mudata
from .._utils import dense, get_modality
from ..errors import DataFormatError, MissingColumnError, ParameterError

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["filter_features"]

logger = logging.getLogger(__name__)

_VOLUME_PATTERNS = (r"_shape_VoxelVolume$", r"_shape_MeshVolume$", r"^shape_VoxelVolume$", r"^VOLUME_")
REMOVED_COLUMNS = ["feature", "reason", "value", "partner"]
# Below 10 patients a Spearman coefficient takes few values (with 3: only +-0.5 and +-1) and
# |rho| > 0.95 happens by chance for most pairs; the variance needs 2 patients.
MIN_PATIENTS_CORRELATION = 10
MIN_PATIENTS = 2


def _check_patients(n: int, *, correlation: bool) -> None:
    if n < MIN_PATIENTS:
        msg = f"filter_features: {n} patient(s); a variance needs at least {MIN_PATIENTS}. Filter a larger cohort."
        raise DataFormatError(msg)
    if correlation and n < MIN_PATIENTS_CORRELATION:
        msg = (
            f"filter_features: {n} patients; the correlation filters (max_corr, max_volume_corr) need at least "
            f"{MIN_PATIENTS_CORRELATION}: with {n} patients a Spearman coefficient takes so few values that most "
            "pairs look redundant by chance. Pass max_corr=None and max_volume_corr=None to run only the missing, "
            "variance and ICC filters, or filter on a larger cohort."
        )
        raise DataFormatError(msg)


def _icc_values(adata: ad.AnnData, icc) -> pd.Series | None:
    if icc is None:
        return None
    if isinstance(icc, str):
        if icc not in adata.var.columns:
            msg = f"icc={icc!r} is not a column of var; pass the DataFrame returned by rg.imaging.icc/robustness."
            raise MissingColumnError(msg)
        values = adata.var[icc]
    elif isinstance(icc, pd.DataFrame):
        if "icc" not in icc.columns:
            msg = "The icc DataFrame needs an 'icc' column indexed by feature (rg.imaging.icc or rg.imaging.robustness output)."
            raise MissingColumnError(msg)
        values = icc["icc"]
    else:
        values = pd.Series(icc)
    values = pd.to_numeric(values, errors="coerce").reindex(adata.var_names)
    unmatched = values.isna().sum()
    if unmatched == len(values):
        msg = "No feature of the modality has an ICC value: the ICC table's index must hold the modality's var_names."
        raise MissingColumnError(msg)
    if unmatched:
        warnings.warn(
            f"{unmatched} features have no ICC value; they are kept by the ICC filter.", UserWarning, stacklevel=3
        )
    return values


def _icc_table(adata: ad.AnnData, icc, values: pd.Series) -> pd.DataFrame:
    """The ICC columns kept with the result (all features before filtering), for rg.pl.icc_distribution."""
    out = pd.DataFrame({"icc": values.to_numpy(dtype=float)}, index=adata.var_names.copy())
    if isinstance(icc, pd.DataFrame):
        for col in ("ci_lower", "ci_upper", "icc_shuffled", "negative_control"):
            if col in icc.columns:
                out[col] = icc[col].reindex(out.index).to_numpy()
        if "negative_control" in out:
            out["negative_control"] = out["negative_control"].fillna(value=False).astype(bool)
    return out


def _detect_volume(names: pd.Index, volume_feature: str | None) -> str:
    if volume_feature is not None:
        if volume_feature not in names:
            msg = f"volume_feature={volume_feature!r} is not a feature of the modality."
            raise MissingColumnError(msg)
        return volume_feature
    for pattern in _VOLUME_PATTERNS:
        hits = [n for n in names if re.search(pattern, n)]
        if hits:
            return hits[0]
    msg = "No shape volume feature found (…_shape_VoxelVolume, …_shape_MeshVolume or VOLUME_*); pass volume_feature=<name>."
    raise MissingColumnError(msg)


def _rank_matrix(x: np.ndarray) -> np.ndarray:
    """Column ranks (average ties) with missing values set to the column mean rank, for Spearman correlation."""
    ranks = np.apply_along_axis(lambda c: stats.rankdata(c, nan_policy="omit"), 0, x)
    mean = np.nanmean(ranks, axis=0)
    return np.where(np.isnan(ranks), mean, ranks)


def _corr(x: np.ndarray) -> np.ndarray:
    z = x - x.mean(axis=0)
    norm = np.sqrt((z**2).sum(axis=0))
    norm[norm == 0] = np.inf
    z = z / norm
    return z.T @ z


def _prune(
    r: np.ndarray, names: list[str], max_corr: float, icc: np.ndarray | None
) -> list[tuple[str, str, float, str]]:
    """Greedy pruning: walk pairs from the most to the least correlated, drop one of each pair still kept."""
    a = np.abs(r)
    np.fill_diagonal(a, 0.0)
    mean_abs = a.sum(axis=1) / max(len(names) - 1, 1)
    iu, ju = np.nonzero(np.triu(a > max_corr, k=1))
    order = np.lexsort((ju, iu, -a[iu, ju]))  # strongest first; ties by position: deterministic
    kept = np.ones(len(names), dtype=bool)
    removed = []
    for i, j in zip(iu[order], ju[order], strict=True):
        if not (kept[i] and kept[j]):
            continue
        if icc is not None and np.isfinite(icc[i]) and np.isfinite(icc[j]) and icc[i] != icc[j]:
            drop = j if icc[i] > icc[j] else i
        elif mean_abs[i] != mean_abs[j]:
            drop = j if mean_abs[i] < mean_abs[j] else i
        else:
            drop = j
        keep = i if drop == j else j
        kept[drop] = False
        removed.append((names[drop], "redundant", float(a[i, j]), names[keep]))
    return removed


def _volume_check(x, names, left, volume_feature, max_volume_corr):
    """Volume surrogates among the features ``left``; the volume feature is found among all features."""
    vol = _detect_volume(pd.Index(names), volume_feature)
    ranks = _rank_matrix(x[:, [names.index(vol), *left]])
    r = _corr(ranks)[0, 1:]
    return vol, [
        (names[i], "volume_surrogate", float(abs(v)), vol)
        for i, v in zip(left, r, strict=True)
        if names[i] != vol and abs(v) > max_volume_corr
    ]


def filter_features(
    mdata: MuData | ad.AnnData,
    *,
    mod: str = "radiomics",
    min_icc: float | None = None,
    icc: pd.DataFrame | str | None = None,
    max_corr: float | None = 0.95,
    min_variance: float = 1e-8,
    max_missing: float = 0.2,
    max_volume_corr: float | None = None,
    volume_feature: str | None = None,
    action: Literal["remove", "flag"] = "remove",
    key_added: str = "filter_features",
    copy: bool = False,
) -> MuData | ad.AnnData | None:
    """Remove unstable, near-constant, mostly-missing, redundant and volume-surrogate features.

    Filters run in this order, each on the features left by the previous ones:

    1. ``missing``: fraction of patients with a missing value above ``max_missing``;
    2. ``low_variance``: variance (over patients with a value) below ``min_variance``;
    3. ``low_icc``: ICC below ``min_icc`` (features without an ICC value are kept, with a warning);
    4. ``volume_surrogate``: absolute Spearman correlation with the tumour volume feature above
       ``max_volume_corr`` (the volume feature itself stays);
    5. ``redundant``: greedy pruning of pairs with absolute Spearman correlation above
       ``max_corr``. Pairs are visited from the most to the least correlated; of a pair whose
       features are both still kept, the one with the lower ICC is dropped (when ICCs are
       given), otherwise the one with the higher mean absolute correlation to all others, and on
       a tie the later one in ``var`` order. The result is deterministic.

    ``min_variance`` is on the features' own scale; its default ``1e-8`` removes only features
    that are constant up to floating-point error (pyradiomics features range from 1e-6 to 1e9,
    so no single absolute threshold means "small" for all of them). Missing values are
    replaced by the mean rank of their feature for the correlations.

    The correlation filters (4, 5) need at least 10 patients and every filter at least 2: below
    that a :class:`~radiogenomics.errors.DataFormatError` says which parameters to switch off.

    .. warning::
       These filters use no outcome, so running them on the whole cohort before
       cross-validation does not leak outcome information. They are still fitted on all
       patients: report the thresholds and the number of features removed, and for a strict
       protocol run them inside each training fold (pass ``copy=True`` on the training part).

    Parameters
    ----------
    mdata
        Cohort (MuData) or AnnData of radiomic features.
    mod
        Modality to filter (ignored for an AnnData).
    min_icc
        Minimum ICC (e.g. 0.75 or 0.9); requires ``icc``.
    icc
        ICC per feature: the DataFrame returned by :func:`radiogenomics.imaging.icc` or
        :func:`radiogenomics.imaging.robustness` (index = feature names, column ``icc``), or the
        name of a ``var`` column.
    max_corr
        Maximum absolute Spearman correlation between kept features; ``None`` skips pruning.
    min_variance
        Minimum variance.
    max_missing
        Maximum fraction of patients with a missing value.
    max_volume_corr
        Maximum absolute Spearman correlation with the volume feature; ``None`` skips the check.
    volume_feature
        The volume feature; by default the first ``*_shape_VoxelVolume``, ``*_shape_MeshVolume``
        or ``VOLUME_*`` feature (the TCGA glioma tables).
    action
        ``"remove"`` subsets the modality (and updates the MuData); ``"flag"`` keeps every
        feature and writes the reason to ``var``.
    key_added
        Key for the results in the modality's ``uns`` (and ``var`` column prefix).
    copy
        Return a filtered copy instead of modifying ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes, on the modality:

    ``uns[key_added]["removed"]`` : :class:`pandas.DataFrame`
        One row per removed (or flagged) feature: ``feature``, ``reason`` (``missing``,
        ``low_variance``, ``low_icc``, ``volume_surrogate``, ``redundant``), ``value`` (the
        missing fraction, variance, ICC or absolute correlation) and ``partner`` (the kept
        feature it correlates with; empty otherwise).
    ``uns[key_added]["params"]``
        The thresholds, the volume feature used and the numbers of features before and after.
    ``uns[key_added]["icc"]`` : :class:`pandas.DataFrame`
        When ``icc`` is given: the ICC of every feature before filtering (``icc`` and, if
        present in the input, ``ci_lower``, ``ci_upper``, ``icc_shuffled``, ``negative_control``),
        read by :func:`radiogenomics.pl.icc_distribution`.
    ``var[f"{key_added}_reason"]``
        With ``action="flag"``: the reason, empty for kept features.

    Raises
    ------
    DataFormatError
        Fewer than 10 patients with a correlation filter on, or fewer than 2 patients.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, seed=0)
    >>> rg.imaging.filter_features(mdata, max_corr=0.8)
    >>> removed = mdata.mod["radiomics"].uns["filter_features"]["removed"]
    >>> mdata.mod["radiomics"].n_vars + len(removed)
    100
    >>> set(removed["reason"]) <= {"redundant"}
    True
    """
    if action not in ("remove", "flag"):
        msg = f"action={action!r}; use 'remove' or 'flag'."
        raise ParameterError(msg)
    if min_icc is not None and icc is None:
        msg = "min_icc needs ICC values: pass icc=<DataFrame from rg.imaging.icc/robustness or a var column name>."
        raise ParameterError(msg)
    data = copy_mudata(mdata) if copy else mdata
    adata = get_modality(data, mod)
    _check_patients(adata.n_obs, correlation=max_corr is not None or max_volume_corr is not None)
    x = dense(adata.X)
    names = list(adata.var_names)
    removed: list[tuple[str, str, float, str]] = []
    miss = np.isnan(x).mean(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        var = np.nanvar(x, axis=0, ddof=1)
    removed += [(n, "missing", float(m), "") for n, m in zip(names, miss, strict=True) if m > max_missing]
    done = {r[0] for r in removed}
    removed += [
        (n, "low_variance", float(v), "")
        for n, v in zip(names, var, strict=True)
        if n not in done and not v >= min_variance
    ]
    icc_values = _icc_values(adata, icc)
    if min_icc is not None and icc_values is not None:  # icc is given with min_icc (checked above)
        done = {r[0] for r in removed}
        removed += [(n, "low_icc", float(v), "") for n, v in icc_values.items() if n not in done and v < min_icc]
    vol = None
    if max_volume_corr is not None:
        done = {r[0] for r in removed}
        left = [i for i, n in enumerate(names) if n not in done]
        vol, hits = _volume_check(x, names, left, volume_feature, max_volume_corr)
        removed += hits
    if max_corr is not None:
        done = {r[0] for r in removed}
        left = [i for i, n in enumerate(names) if n not in done]
        if len(left) > 1:
            r = _corr(_rank_matrix(x[:, left]))
            icc_left = None if icc_values is None else icc_values.iloc[left].to_numpy(dtype=float)
            removed += _prune(r, [names[i] for i in left], max_corr, icc_left)
    table = pd.DataFrame(removed, columns=REMOVED_COLUMNS)
    params = {
        "min_icc": min_icc,
        "icc": icc if isinstance(icc, str) else ("table" if icc is not None else None),
        "max_corr": max_corr,
        "min_variance": min_variance,
        "max_missing": max_missing,
        "max_volume_corr": max_volume_corr,
        "volume_feature": vol,
        "action": action,
        "correlation": "spearman",
        "n_features_before": len(names),
        "n_features_after": len(names) - len(table),
    }
    result = {"removed": table, "params": params}
    if icc_values is not None:
        result["icc"] = _icc_table(adata, icc, icc_values)
    logger.info(
        "filter_features: %d of %d features %s", len(table), len(names), action + ("d" if action == "remove" else "ged")
    )
    if action == "flag":
        reason = pd.Series("", index=adata.var_names, dtype=object)
        reason[table["feature"].to_numpy()] = table["reason"].to_numpy()
        adata.var[f"{key_added}_reason"] = reason.astype(str)
        adata.uns[key_added] = result
    else:
        keep = ~adata.var_names.isin(table["feature"])
        adata._inplace_subset_var(keep)
        adata.uns[key_added] = result
        if not isinstance(data, ad.AnnData):
            update_mudata(data)
    return data if copy else None
