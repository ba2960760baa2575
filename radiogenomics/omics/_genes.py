"""Gene identifier mapping: versioned Ensembl IDs to symbols with an explicit duplicate rule."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import anndata as ad
import numpy as np
import pandas as pd

from .._compat import copy_mudata, update_mudata
from .._utils import dense, get_modality
from ..errors import MissingColumnError, ParameterError

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["map_gene_ids"]


def map_gene_ids(
    data: MuData | ad.AnnData,
    *,
    mod: str = "rna",
    column: str = "gene_name",
    duplicates: Literal["max_mean", "first"] = "max_mean",
    layer: str | None = "counts",
    key_added: str = "map_gene_ids",
    copy: bool = False,
) -> MuData | ad.AnnData | None:
    """Rename genes from Ensembl IDs to symbols using the annotation in ``var``.

    GDC STAR files carry the GENCODE symbol of every Ensembl gene in ``var["gene_name"]``.
    Genes without a symbol keep their ID. Several Ensembl genes can share one symbol
    (``PAR_Y`` copies, read-through and lncRNA loci): ``duplicates="max_mean"`` keeps the gene
    with the highest mean expression (in ``layers[layer]``, else ``X``; ties go to the first),
    ``"first"`` keeps the first in file order. The rule uses no outcome. Every dropped gene is
    recorded.

    Parameters
    ----------
    data
        MuData or AnnData with Ensembl IDs as ``var_names``.
    mod
        Modality to rename.
    column
        ``var`` column with the symbols.
    duplicates
        Rule for symbols shared by several genes, as above.
    layer
        Layer used for the mean expression (``X`` if ``None`` or absent).
    key_added
        Key in the modality's ``uns`` for the parameters and the dropped genes.
    copy
        Return a modified copy instead of writing into ``data``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. In the modality: ``var_names`` become
    symbols, ``var["gene_id"]`` keeps the former ID, duplicated genes are removed and
    ``uns[key_added]["dropped"]`` lists them (``gene_id``, ``symbol``, ``kept_gene_id``,
    ``mean``, ``kept_mean``); ``uns[key_added]["params"]`` records ``column``, ``duplicates``
    and ``n_dropped``. Dropping genes warns with the count and the rule.

    Examples
    --------
    >>> import data_loaders as dl
    >>> import radiogenomics as rg
    >>> rna = dl.read_gdc_star_counts(
    ...     dl.example_file("gdc_star_counts"), sample_sheet=dl.example_file("gdc_sample_sheet")
    ... )
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     rg.omics.map_gene_ids(rna)
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    map_gene_ids: 2 genes share a symbol with another gene ...
    >>> rna.n_vars, "CD274" in rna.var_names
    (22, True)
    >>> sorted(rna.uns["map_gene_ids"]["dropped"]["gene_id"])  # CD99 PAR_Y copy, PINX1 lncRNA locus
    ['ENSG00000002586.20_PAR_Y', 'ENSG00000258724.1']
    """
    if copy:
        data = copy_mudata(data)
    adata = get_modality(data, mod)
    if column not in adata.var.columns:
        msg = f"var[{column!r}] not found: gene symbols are needed (GDC STAR files provide 'gene_name')."
        raise MissingColumnError(msg)
    if duplicates not in ("max_mean", "first"):
        msg = f"duplicates={duplicates!r} is not known; use 'max_mean' or 'first'."
        raise ParameterError(msg)
    ids = adata.var_names.to_numpy(dtype=str)
    raw = np.asarray(adata.var[column].astype("string").fillna("").str.strip(), dtype=str)
    symbols = np.where(raw == "", ids, raw)
    values = adata.layers[layer] if layer is not None and layer in adata.layers else adata.X
    means = dense(values).mean(axis=0)
    order = np.arange(len(ids)) if duplicates == "first" else np.lexsort((np.arange(len(ids)), -means))
    frame = pd.DataFrame({"gene_id": ids, "symbol": symbols, "mean": means}).iloc[order]
    winner = frame.drop_duplicates("symbol", keep="first").set_index("symbol")
    keep = np.zeros(len(ids), dtype=bool)
    position = {g: i for i, g in enumerate(ids)}
    keep[[position[g] for g in winner["gene_id"]]] = True
    lost = frame[~frame["gene_id"].isin(winner["gene_id"])]
    dropped = pd.DataFrame(
        {
            "gene_id": lost["gene_id"].to_numpy(dtype=str),
            "symbol": lost["symbol"].to_numpy(dtype=str),
            "kept_gene_id": winner.loc[lost["symbol"], "gene_id"].to_numpy(dtype=str),
            "mean": lost["mean"].to_numpy(dtype=float),
            "kept_mean": winner.loc[lost["symbol"], "mean"].to_numpy(dtype=float),
        }
    )
    adata._inplace_subset_var(keep)
    if not isinstance(data, ad.AnnData):
        update_mudata(data)  # mudata cannot follow a filter and a rename in one step
    adata.var["gene_id"] = adata.var_names.to_numpy(dtype=str)
    adata.var_names = pd.Index(symbols[keep])
    if len(dropped):
        rule = "the highest mean expression" if duplicates == "max_mean" else "the first in file order"
        msg = (
            f"map_gene_ids: {len(dropped)} genes share a symbol with another gene and were dropped, keeping "
            f"{rule} (duplicates={duplicates!r}), e.g. {sorted(set(dropped['symbol']))[:5]}; all are listed in "
            f"uns[{key_added!r}]['dropped']."
        )
        warnings.warn(msg, UserWarning, stacklevel=2)
    adata.uns[key_added] = {
        "params": {"column": column, "duplicates": duplicates, "layer": layer or "", "n_dropped": len(dropped)},
        "dropped": dropped,
    }
    if adata is not data:
        update_mudata(data)
    return data if copy else None
