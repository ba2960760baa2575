"""Marker genes (e.g. PD-L1 = CD274, CXCL8): continuous values and high/low groups by a stored cut-point."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from .._compat import copy_mudata, stored_matrix
from .._ties import warn_split_ties
from .._utils import dense, get_modality, require_mudata, train_mask
from ..errors import MissingColumnError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import anndata as ad
    from mudata import MuData

__all__ = ["markers"]

LEVELS = ["low", "high"]
#: Protein names of common marker genes, recorded next to the gene symbol.
ALIASES = {"CD274": "PD-L1", "PDCD1LG2": "PD-L2", "CXCL8": "IL-8", "CD8A": "CD8", "MKI67": "Ki-67"}


def _column(adata: ad.AnnData, gene: str) -> int:
    if gene in adata.var_names:
        return int(adata.var_names.get_loc(gene))
    if "gene_name" in adata.var.columns:
        hits = np.flatnonzero(adata.var["gene_name"].astype(str).to_numpy() == gene)
        if len(hits) == 1:
            return int(hits[0])
        if len(hits) > 1:
            msg = f"Gene {gene!r} matches {len(hits)} rows of var['gene_name']; run rg.omics.map_gene_ids first."
            raise MissingColumnError(msg)
    msg = f"Gene {gene!r} not found in var_names (e.g. {list(adata.var_names[:3])}) nor var['gene_name']."
    raise MissingColumnError(msg)


def _cutpoints_from(cutpoint, genes: Sequence[str]) -> dict[str, float]:
    if isinstance(cutpoint, pd.DataFrame):
        cutpoint = dict(zip(cutpoint["gene"].astype(str), cutpoint["cutpoint"].astype(float), strict=True))
    absent = [g for g in genes if g not in cutpoint]
    if absent:
        msg = f"cutpoint has no value for {absent}; give a mapping gene -> value or the stored uns[key]['cutpoints'] table."
        raise MissingColumnError(msg)
    return {g: float(cutpoint[g]) for g in genes}


def markers(
    mdata: MuData,
    genes: Sequence[str] = ("CD274", "CXCL8"),
    *,
    mod: str = "rna",
    layer: str | None = None,
    method: Literal["median", "quantile", "fixed"] = "median",
    quantile: float = 0.5,
    threshold: float | None = None,
    train=None,
    cutpoint: Mapping[str, float] | pd.DataFrame | None = None,
    key_added: str = "markers",
    copy: bool = False,
) -> MuData | None:
    """Write marker gene values and high/low groups to ``mdata.obs``.

    The cut-point of each gene comes from the expression distribution of the **training**
    patients only (``train``): their median, a quantile, or a fixed value. It is stored, so a
    validation cohort is grouped with the same value by passing ``cutpoint=`` (the stored
    table or a mapping). Patients strictly above the cut-point are ``"high"``. Survival-based
    (outcome-optimised) cut-points are a different tool: ``rg.survival.dichotomize``.

    Parameters
    ----------
    mdata
        Cohort with an expression modality (normalised values in ``X`` or a layer).
    genes
        Gene symbols (``var_names`` or ``var["gene_name"]``); PD-L1 is ``CD274``, IL-8 ``CXCL8``.
    mod
        Expression modality.
    layer
        Layer with the values (``None``: ``X``).
    method
        ``"median"``, ``"quantile"`` (``quantile``) or ``"fixed"`` (``threshold``).
    quantile
        Quantile for ``method="quantile"``.
    threshold
        Cut-point for ``method="fixed"``.
    train
        Boolean mask over ``mdata.obs_names``, ``obs`` column or patient IDs of the training
        patients; ``None`` uses all patients with values.
    cutpoint
        Previously fitted cut-points (``uns[key]["cutpoints"]`` of the training cohort or a
        mapping gene -> value); when given nothing is fitted.
    key_added
        Key in ``mdata.uns`` for the cut-points and parameters.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.obs[f"{gene}_expression"]`` : float
        The value (e.g. ``obs["CD274_expression"]``), missing without expression data.
    ``mdata.obs[f"{gene}_level"]`` : categorical
        ``"low"`` / ``"high"`` (e.g. ``obs["CD274_level"]``).
    ``mdata.uns[key_added]["cutpoints"]`` : DataFrame
        ``gene``, ``protein``, ``cutpoint``, ``method``, ``n_train``, ``n_high_train``.
    ``mdata.uns[key_added]["params"]``
        ``mod``, ``layer``, ``method``, ``quantile``, ``applied`` (True if ``cutpoint`` was given).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=40, n_genes=100, seed=0)
    >>> rg.omics.normalize(mdata, method="log_cpm")
    >>> train = mdata.obs_names[:30]
    >>> rg.omics.markers(mdata, ["CD274", "CXCL8"], train=train)
    >>> mdata.obs["CD274_level"].loc[train].value_counts().tolist()  # median split of the training patients
    [15, 15]
    >>> validation = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=1)
    >>> rg.omics.normalize(validation, method="log_cpm")
    >>> rg.omics.markers(validation, ["CD274", "CXCL8"], cutpoint=mdata.uns["markers"]["cutpoints"])
    """
    require_mudata(mdata, "omics.markers")
    if copy:
        mdata = copy_mudata(mdata)
    genes = [genes] if isinstance(genes, str) else list(genes)
    adata = get_modality(mdata, mod)
    matrix = stored_matrix(adata, layer)
    values = pd.DataFrame(
        {g: dense(matrix[:, _column(adata, g)]).ravel() for g in genes}, index=adata.obs_names
    ).reindex(mdata.obs_names)
    if cutpoint is None:
        mask = train_mask(mdata, train, where="markers") & values.notna().all(axis=1).to_numpy()
        fitted = values[mask]
        if method == "median":
            cuts = fitted.median()
        elif method == "quantile":
            cuts = fitted.quantile(quantile)
        elif method == "fixed":
            if threshold is None:
                msg = "method='fixed' needs threshold=<value>."
                raise ParameterError(msg)
            cuts = pd.Series(float(threshold), index=genes)
        else:
            msg = f"method={method!r} is not known; use 'median', 'quantile' or 'fixed'."
            raise ParameterError(msg)
        cuts, n_train = cuts.astype(float).to_dict(), int(mask.sum())
        for g in genes:
            warn_split_ties(fitted[g].to_numpy(), cuts[g], where="markers", what=g)
    else:
        cuts, n_train, mask = _cutpoints_from(cutpoint, genes), 0, np.zeros(mdata.n_obs, dtype=bool)
    table = []
    for g in genes:
        v = values[g]
        level = np.where(v > cuts[g], "high", "low").astype(object)
        level[v.isna().to_numpy()] = None
        mdata.obs[f"{g}_expression"] = v.to_numpy(dtype=float)
        mdata.obs[f"{g}_level"] = pd.Categorical(level, categories=LEVELS)
        table.append(
            {
                "gene": g,
                "protein": ALIASES.get(g, g),
                "cutpoint": cuts[g],
                "method": method if cutpoint is None else "applied",
                "n_train": n_train,
                "n_high_train": int((v[mask] > cuts[g]).sum()),
            }
        )
    mdata.uns[key_added] = {
        "cutpoints": pd.DataFrame(table),
        "params": {
            "mod": mod,
            "layer": layer or "",
            "method": method,
            "quantile": float(quantile),
            "applied": cutpoint is not None,
        },
    }
    return mdata if copy else None
