"""Gene rankings for GSEA: association with a patient-level value, MOFA weights, or a user Series."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._compat import stored_matrix
from .._keys import embedding_key, loadings_key
from .._utils import dense, get_modality, resolve_keys
from ..errors import DataFormatError, InputTypeError, InsufficientDataError, MissingColumnError, ParameterError
from ._genesets import gene_labels, is_ensembl, strip_version

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import anndata as ad
    from mudata import MuData

logger = logging.getLogger(__name__)

__all__ = ["build_rankings", "expression"]

MIN_PATIENTS = 5


def _collapse(values: pd.Series) -> pd.Series:
    """Keep one value per gene label (the largest in absolute value); drop empty labels."""
    values = values[values.index.to_series().fillna("").astype(str).str.len().to_numpy() > 0]
    if not values.index.has_duplicates:
        return values
    ranked = values.iloc[np.argsort(-values.abs().to_numpy(), kind="stable")]
    return ranked[~ranked.index.duplicated(keep="first")]


def _looks_like_counts(values: np.ndarray, rows: int = 1024) -> bool:
    """Non-negative whole numbers reaching above 100 (finite values only), checked a block of rows at a time."""
    low, high, whole = np.inf, -np.inf, True
    for start in range(0, values.shape[0], rows):
        block = values[start : start + rows]
        finite = block[np.isfinite(block)]
        if finite.size:
            low, high = min(low, finite.min()), max(high, finite.max())
            whole = whole and bool(np.all(finite == np.round(finite)))
    return bool(low >= 0 and high > 100 and whole)


def expression(adata: ad.AnnData, layer: str | None) -> np.ndarray:
    """Return the expression matrix (``X`` or a layer) and warn when it looks like raw counts."""
    if layer is not None and layer not in adata.layers:
        msg = f"Layer {layer!r} not found; layers: {list(adata.layers)}. Pass layer=None to use X."
        raise MissingColumnError(msg)
    values = dense(adata.layers[layer] if layer is not None else adata.X)
    if _looks_like_counts(values):
        msg = (
            f"The expression data ({'X' if layer is None else 'layer ' + repr(layer)}) looks like raw counts; "
            "correlations with raw counts follow sequencing depth. Normalise first (e.g. library-size scaling "
            "and log1p) or pass layer=<normalised layer>."
        )
        warnings.warn(msg, UserWarning, stacklevel=4)
    return values


def _patient_rankings(mdata: MuData, keys: list[str], mod: str, layer: str | None, labels: pd.Index) -> dict:
    """Rank genes by their Spearman correlation with patient-level values (radiomic features, risk scores).

    Uses :func:`radiogenomics.integrate.correlate` (one vectorised call for all keys; nothing is
    written into ``mdata``).
    """
    from ..integrate import correlate
    from ..integrate._inputs import _numeric_frame

    adata = get_modality(mdata, mod)
    expression(adata[: min(adata.n_obs, 200)], layer)
    targets = resolve_keys(mdata, keys)
    has_expr = mdata.obs_names.isin(adata.obs_names)
    for key in keys:
        usable = targets[key].notna().to_numpy() & has_expr
        if (~usable).sum():
            msg = (
                f"Ranking {key!r}: {int((~usable).sum())} of {mdata.n_obs} patients lack {key!r} or {mod!r} data and "
                f"are left out of the gene correlations (e.g. {list(mdata.obs_names[~usable][:3])})."
            )
            warnings.warn(msg, UserWarning, stacklevel=4)
        if usable.sum() < MIN_PATIENTS:
            msg = f"Ranking {key!r}: only {int(usable.sum())} patients have both {key!r} and {mod!r} data; need >= {MIN_PATIENTS}."
            raise ParameterError(msg)
    patients = mdata.obs_names[has_expr]
    matrix = stored_matrix(adata, layer)
    rows = adata.obs_names.get_indexer(patients)
    if len(rows) != adata.n_obs or (rows != np.arange(adata.n_obs)).any():
        matrix = matrix[rows]
    x = _numeric_frame(targets.loc[patients], "Column")
    maps = correlate(x, matrix, method="spearman", fdr=None, dtype=np.float64)
    out = {}
    for i, key in enumerate(keys):
        series = pd.Series(maps["r"][i].astype(float), index=labels, name=key)
        n_const = int(series.isna().sum())
        if n_const:
            logger.info("ranking %s: %d genes without a correlation (constant) left out", key, n_const)
        out[key] = series.dropna()
    return out


def _factor_ranking(mdata: MuData, key: str, adata: ad.AnnData | None, labels: pd.Index | None) -> pd.Series:
    """Rank genes by their weight on a factor (``"mofa:1"`` reads ``varm["LFs"]`` column 0)."""
    name, number = key.split(":", 1)
    slot = loadings_key(name)
    if adata is None or slot not in adata.varm:
        msg = f"Ranking {key!r}: no gene weights in varm[{slot!r}] of the expression modality; run rg.integrate.mofa first."
        raise MissingColumnError(msg)
    weights = adata.varm[slot]
    weights = weights.to_numpy() if isinstance(weights, pd.DataFrame) else np.asarray(weights)
    k = int(number) if number.isdigit() else 0
    if not 1 <= k <= weights.shape[1]:
        msg = (
            f"Ranking {key!r}: varm[{slot!r}] has {weights.shape[1]} factors; use {name}:1..{name}:{weights.shape[1]}."
        )
        raise MissingColumnError(msg)
    series = pd.Series(weights[:, k - 1].astype(float), index=labels, name=key)
    return series.dropna()


def _user_ranking(series: pd.Series, name: str, adata: ad.AnnData | None, labels: pd.Index | None) -> pd.Series:
    """Validate a user ranking (genes in the index) and map its identifiers to the gene-set type."""
    values = pd.to_numeric(series, errors="coerce")
    n_bad = int(values.isna().sum() - series.isna().sum())
    if n_bad:
        msg = f"Ranking {name!r}: {n_bad} values are not numbers (e.g. {list(series[values.isna() & series.notna()][:3])})."
        raise DataFormatError(msg)
    if np.isinf(values.to_numpy(dtype=float)).any():
        msg = f"Ranking {name!r} holds infinite values; replace them by finite numbers (e.g. clip -log10 p at 300)."
        raise DataFormatError(msg)
    n_missing = int(values.isna().sum())
    if n_missing:
        msg = f"Ranking {name!r}: {n_missing} of {len(values)} genes have missing values and are left out (e.g. {list(values.index[values.isna()][:3])})."
        warnings.warn(msg, UserWarning, stacklevel=4)
        values = values.dropna()
    values.index = values.index.astype(str)
    if adata is not None and labels is not None:
        var_ids = pd.Index(strip_version(adata.var_names)) if is_ensembl(values.index).mean() > 0.5 else adata.var_names
        ids = pd.Index(strip_version(values.index)) if is_ensembl(values.index).mean() > 0.5 else values.index
        if not ids.isin(labels).any() and ids.isin(var_ids).any():
            mapping = pd.Series(labels, index=var_ids)
            mapping = mapping[~mapping.index.duplicated()]
            values.index = mapping.reindex(ids).fillna("").to_numpy()
    return values.rename(name)


def _check_ties(series: pd.Series) -> pd.Series:
    if series.nunique() < 2:
        msg = f"Ranking {series.name!r} has fewer than 2 distinct values; nothing to rank."
        raise InsufficientDataError(msg)
    n_tied = int(series.duplicated(keep=False).sum())
    if n_tied:
        msg = (
            f"Ranking {series.name!r} has {n_tied} genes with tied values ({n_tied / len(series):.1%}); GSEA orders "
            "tied genes arbitrarily, so their place in the running sum is not meaningful. Break ties with a finer "
            "statistic (e.g. signed -log10 p instead of a rounded score)."
        )
        warnings.warn(msg, UserWarning, stacklevel=4)
    return series


def build_rankings(
    mdata: MuData | ad.AnnData,
    ranking: str | pd.Series | Sequence[str | pd.Series],
    *,
    mod: str,
    sets: Mapping[str, Sequence[str]],
    gene_column: str | None = None,
    layer: str | None = None,
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Return a genes x rankings table (``nan`` where a gene is absent) and each ranking's kind.

    Kinds: ``"patients"`` (correlation with a patient-level value), ``"factor"``, ``"series"``.
    """
    items = [ranking] if isinstance(ranking, str | pd.Series) else list(ranking)
    if not items:
        msg = "ranking is empty; give a key such as 'radiomics:<feature>', 'mofa:1', an obs column, or a Series."
        raise ParameterError(msg)
    adata = labels = None
    needs_data = any(isinstance(item, str) for item in items)
    try:
        adata = get_modality(mdata, mod)
        labels = gene_labels(adata, sets, gene_column=gene_column)
    except MissingColumnError:
        if needs_data:
            raise
    is_factor = {
        i: ":" in item
        and embedding_key(item.split(":", 1)[0]) in getattr(mdata, "obsm", {})
        and item.split(":", 1)[0] not in getattr(mdata, "mod", {})
        for i, item in enumerate(items)
        if isinstance(item, str)
    }
    patient_keys = [item for i, item in enumerate(items) if isinstance(item, str) and not is_factor[i]]
    correlated = _patient_rankings(mdata, patient_keys, mod, layer, labels) if patient_keys else {}
    columns, kinds = {}, {}
    for i, item in enumerate(items):
        if isinstance(item, pd.Series):
            name = str(item.name) if item.name is not None else f"ranking{i + 1}"
            series = _check_ties(_user_ranking(item, name, adata, labels))
        elif not isinstance(item, str):
            msg = f"ranking items must be keys (str) or pandas Series indexed by gene; got {type(item).__name__}."
            raise InputTypeError(msg)
        elif is_factor[i]:
            series = _check_ties(_factor_ranking(mdata, item, adata, labels))
        else:
            series = correlated[item]
        series = _collapse(series)
        if len(series) < 2 or series.nunique() < 2:
            msg = f"Ranking {series.name!r} has fewer than 2 distinct values; nothing to rank."
            raise InsufficientDataError(msg)
        name = str(series.name).replace("/", "_")
        if name in columns:
            msg = f"Ranking {name!r} is given twice; rankings must have unique names."
            raise InsufficientDataError(msg)
        columns[name] = series
        kinds[name] = "series" if isinstance(item, pd.Series) else ("factor" if is_factor[i] else "patients")
    table = pd.DataFrame(columns)
    table.index.name = "gene"
    return table.sort_index(), kinds
