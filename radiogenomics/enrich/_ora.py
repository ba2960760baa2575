"""Over-representation analysis (hypergeometric test) with gseapy.enrich and local gene sets."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import InputTypeError, InsufficientDataError, ParameterError
from ._genesets import check_overlap, overlap_table, quiet_gseapy, restrict
from ._genesets import gene_sets as load_gene_sets

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from os import PathLike

__all__ = ["ora"]

ORA_COLUMNS = ["term", "overlap", "set_size", "n_genes", "n_background", "p", "padj", "odds_ratio", "genes"]


def ora(
    genes: Sequence[str],
    gene_sets: str | PathLike[str] | Mapping[str, Sequence[str]] = "hallmark",
    *,
    background: Sequence[str],
    min_size: int = 5,
    max_size: int = 500,
) -> pd.DataFrame:
    """Test gene sets for over-representation in a gene list (hypergeometric test, BH FDR).

    Runs :func:`gseapy.enrich` offline on local gene sets. Gene sets and the query are restricted
    to ``background`` (e.g. all genes measured in the expression modality); the p-value of a set
    with ``k`` of its ``K`` background genes among the ``n`` query genes, out of ``N`` background
    genes, is ``P(X >= k)`` for ``X ~ Hypergeometric(N, K, n)``. FDR is the Benjamini-Hochberg
    correction over all tested sets (sets without any query gene count, with p = 1).

    Parameters
    ----------
    genes
        Query genes (e.g. the leading edge of a GSEA hit, or genes associated with a feature).
    gene_sets
        ``"hallmark"`` (bundled MSigDB hallmarks v7.0), a GMT path, or a dict ``{name: genes}``.
    background
        The universe of genes that could have been selected (same identifier type as the sets).
    min_size
        Smallest number of a set's genes in the background for the set to be tested.
    max_size
        Largest number of a set's genes in the background for the set to be tested.

    Returns
    -------
    One row per tested set, sorted by p-value: ``term, overlap`` (query genes in the set),
    ``set_size`` (set genes in the background), ``n_genes`` (query genes in the background),
    ``n_background, p, padj, odds_ratio`` and ``genes`` (overlapping genes joined by ``";"``).
    A query that hits no tested set gives every set overlap 0 and ``p = padj = 1``, with a
    warning.

    Raises
    ------
    InputTypeError
        ``genes`` or ``background`` is a single string.
    ParameterError
        An empty background.
    InsufficientDataError
        An empty query, or no query gene in the background (the message shows both kinds of IDs).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> sets = rg.enrich.gene_sets("hallmark")
    >>> background = sorted({g for s in sets.values() for g in s})
    >>> res = rg.enrich.ora(sets["HALLMARK_HYPOXIA"][:40], "hallmark", background=background)
    >>> res["term"].iloc[0], bool(res["padj"].iloc[0] < 1e-10)
    ('HALLMARK_HYPOXIA', True)
    """
    import gseapy
    from statsmodels.stats.multitest import multipletests

    if isinstance(genes, str) or isinstance(background, str):
        msg = "genes and background must be lists of gene identifiers, not a single string."
        raise InputTypeError(msg)
    universe = list(dict.fromkeys(str(g) for g in background))
    if not universe:
        msg = "background is empty; pass all genes that could have been selected (e.g. mdata['rna'].var_names)."
        raise ParameterError(msg)
    query = list(dict.fromkeys(str(g) for g in genes))
    if not query:
        msg = (
            "ora: the query gene list is empty; pass the genes to test, e.g. the genes with padj < 0.05 of "
            "rg.get.associations(mdata) (check that the filter that made the list kept any gene)."
        )
        raise InsufficientDataError(msg)
    in_bg = [g for g in query if g in set(universe)]
    if not in_bg:
        msg = (
            f"ora: None of the query genes ({len(query)}, e.g. {query[:3]}) is in the background (e.g. "
            f"{universe[:3]}); check that both use the same gene identifiers (symbols or Ensembl IDs)."
        )
        raise InsufficientDataError(msg)
    if len(in_bg) < len(query):
        missing = [g for g in query if g not in set(universe)]
        msg = f"ora: {len(missing)} of {len(query)} query genes are not in the background and are left out (e.g. {missing[:3]})."
        warnings.warn(msg, UserWarning, stacklevel=2)
    sets = load_gene_sets(gene_sets)
    table = overlap_table(sets, universe, min_size=min_size, max_size=max_size)
    check_overlap(table, min_size=min_size, max_size=max_size, what="the background")
    tested = restrict(sets, table, universe)
    query_set = set(in_bg)
    res = pd.DataFrame({"P-value": [], "Odds Ratio": [], "Genes": []}).astype({"Genes": object})
    if any(g in query_set for genes_of_set in tested.values() for g in genes_of_set):
        with quiet_gseapy():
            enr = gseapy.enrich(
                gene_list=in_bg,
                gene_sets=tested,
                background=universe,
                outdir=None,
                cutoff=1.0,
                no_plot=True,
                verbose=False,
            )
        if enr.res2d is not None and len(enr.res2d):
            res = enr.res2d.set_index("Term")
    else:
        msg = (
            f"ora: none of the {len(in_bg)} query genes is in any of the {len(tested)} tested gene sets; every set "
            "gets overlap 0 and p = 1. Check the gene identifiers or use larger sets."
        )
        warnings.warn(msg, UserWarning, stacklevel=2)
    out = pd.DataFrame({"term": list(tested)})
    out["overlap"] = [sum(g in query_set for g in tested[t]) for t in out["term"]]
    out["set_size"] = [len(tested[t]) for t in out["term"]]
    out["n_genes"] = len(in_bg)
    out["n_background"] = len(universe)
    out["p"] = res["P-value"].astype(float).reindex(out["term"]).fillna(1.0).to_numpy(dtype=float)
    out["padj"] = multipletests(out["p"].to_numpy(), method="fdr_bh")[1]
    out["odds_ratio"] = res["Odds Ratio"].reindex(out["term"]).to_numpy(dtype=float)
    out.loc[out["overlap"] == 0, "odds_ratio"] = 0.0
    out["genes"] = [g if isinstance(g, str) else "" for g in res["Genes"].reindex(out["term"])]
    out = out.iloc[np.lexsort((out["term"].to_numpy(dtype=str), out["p"].to_numpy()))]
    return out[ORA_COLUMNS].reset_index(drop=True)
