"""Gene sets: GMT files, the bundled MSigDB hallmark collection, and matching to expression data."""

from __future__ import annotations

import logging
import re
import warnings
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import DataFormatError, InsufficientDataError, MissingColumnError, MissingFileError

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping, Sequence
    from os import PathLike

    import anndata as ad

__all__ = ["gene_sets", "read_gmt"]

_DATA = files("radiogenomics.enrich") / "data"
_BUNDLED = {"hallmark": "h.all.v7.0.symbols.gmt", "h.all.v7.0": "h.all.v7.0.symbols.gmt"}
_ENSEMBL = re.compile(r"^ENS[A-Z]*G\d{6,}(\.\d+)?$")
_SYMBOL_COLUMNS = ("gene_name", "gene_symbol", "gene_symbols", "symbol", "hgnc_symbol", "Hugo_Symbol")
# Warn when the median gene set keeps less than this fraction of its genes in the data.
LOW_OVERLAP = 0.5


@contextmanager
def quiet_gseapy() -> Iterator[None]:
    """Silence gseapy's own log handlers (it prints warnings to stderr even with ``verbose=False``).

    The conditions it reports (ties, missing values, low overlap) are checked and raised as Python
    warnings by this package instead.
    """
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(previous)


def _parse_gmt_lines(lines: Iterable[str], source: str) -> dict[str, list[str]]:
    sets: dict[str, list[str]] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) < 3:
            msg = (
                f"{source}, line {number}: a GMT line needs tab-separated fields 'name<TAB>description<TAB>gene...'; "
                f"found {len(fields)} field(s) in {line[:60]!r}. Check that the file is tab-separated and not empty."
            )
            raise DataFormatError(msg)
        name = fields[0].strip().replace("/", "_")
        genes = [g.strip() for g in fields[2:] if g.strip()]
        if not name or not genes:
            msg = f"{source}, line {number}: gene set {name!r} has no name or no genes."
            raise DataFormatError(msg)
        if name in sets:
            msg = f"{source}, line {number}: gene set {name!r} appears twice; names must be unique."
            raise DataFormatError(msg)
        sets[name] = list(dict.fromkeys(genes))
    if not sets:
        msg = f"{source} holds no gene sets (empty file or only comments); expected lines 'name<TAB>description<TAB>gene...'."
        raise DataFormatError(msg)
    return sets


def read_gmt(path: PathLike[str] | str) -> dict[str, list[str]]:
    """Read a GMT file of gene sets.

    Each line is ``name<TAB>description<TAB>gene1<TAB>gene2...``. Blank lines and lines starting
    with ``#`` are skipped; duplicated genes within a set are kept once; a ``/`` in a set name is
    replaced by ``_`` (h5mu keys cannot hold it). The file is read as every text input of the
    package: gzip recognised by content, UTF-8 with a byte-order mark removed, CRLF line ends.

    Parameters
    ----------
    path
        Path of a ``.gmt`` file.

    Returns
    -------
    Dictionary ``{set name: [genes]}`` in file order.

    Raises
    ------
    MissingFileError
        No file at ``path``.
    DataFormatError
        A folder, an empty or binary file, text that is not UTF-8 (line and byte named), a line
        that is not ``name<TAB>description<TAB>genes``, a set without genes or a repeated name.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> from importlib.resources import files
    >>> sets = rg.enrich.read_gmt(files("radiogenomics.enrich") / "data" / "h.all.v7.0.symbols.gmt")
    >>> len(sets), len(sets["HALLMARK_HYPOXIA"])
    (50, 200)
    """
    from ..io._text import open_text

    path = Path(str(path))
    if not path.exists():
        msg = f"GMT file {str(path)!r} not found. Pass an existing .gmt path, 'hallmark' or a dict of gene sets."
        raise MissingFileError(msg)
    with open_text(path, "GMT") as handle:
        return _parse_gmt_lines(handle, str(path))


def gene_sets(name: str | PathLike[str] | Mapping[str, Sequence[str]] = "hallmark") -> dict[str, list[str]]:
    """Return a gene-set collection: the bundled MSigDB hallmarks, a GMT file or a dict.

    The package ships the MSigDB hallmark collection v7.0 (50 sets, human gene symbols;
    Liberzon A et al., Cell Systems 1:417-425, 2015, doi:10.1016/j.cels.2015.12.004), released
    under CC BY 4.0 by the Broad Institute (see ``radiogenomics/enrich/data/README.md``).

    Parameters
    ----------
    name
        ``"hallmark"`` for the bundled collection, the path of a GMT file, or a mapping
        ``{set name: genes}``.

    Returns
    -------
    Dictionary ``{set name: [genes]}``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> sets = rg.enrich.gene_sets("hallmark")
    >>> "HALLMARK_MYC_TARGETS_V1" in sets
    True
    >>> rg.enrich.gene_sets({"mine": ["TP53", "MDM2"]})
    {'mine': ['TP53', 'MDM2']}
    """
    if isinstance(name, dict) or (hasattr(name, "items") and not isinstance(name, str | Path)):
        out = {}
        for term, genes in name.items():
            if isinstance(genes, str):
                msg = f"Gene set {term!r} is a string; give a list of genes, e.g. {{{term!r}: ['TP53', 'MDM2']}}."
                raise DataFormatError(msg)
            members = [str(g).strip() for g in genes if str(g).strip()]
            if not members:
                msg = f"Gene set {term!r} is empty."
                raise DataFormatError(msg)
            out[str(term).replace("/", "_")] = list(dict.fromkeys(members))
        if not out:
            msg = "The gene-set dict is empty; give at least one {name: [genes]} entry."
            raise DataFormatError(msg)
        return out
    key = str(name)
    if key.lower() in _BUNDLED:
        with (_DATA / _BUNDLED[key.lower()]).open(encoding="utf-8") as handle:
            return _parse_gmt_lines(handle, _BUNDLED[key.lower()])
    if not Path(key).exists():
        msg = f"Unknown gene-set collection {key!r}: use 'hallmark', the path of a GMT file, or a dict of gene sets."
        raise MissingFileError(msg)
    return read_gmt(key)


def is_ensembl(ids: Iterable[str]) -> np.ndarray:
    """Return a boolean array: which identifiers look like Ensembl gene IDs (versioned or not)."""
    return np.array([bool(_ENSEMBL.match(str(i))) for i in ids], dtype=bool)


def strip_version(ids: Iterable[str]) -> list[str]:
    """Drop the version suffix of Ensembl IDs (``ENSG00000141510.17`` -> ``ENSG00000141510``)."""
    return [str(i).split(".")[0] if _ENSEMBL.match(str(i)) else str(i) for i in ids]


def gene_labels(adata: ad.AnnData, sets: Mapping[str, Sequence[str]], *, gene_column: str | None = None) -> pd.Index:
    """Return the labels of ``adata.var`` that match the identifier type of ``sets``.

    Symbols are used as they are. Ensembl IDs (versioned or not) are mapped to symbols through a
    ``var`` column (``gene_column``, or the first of ``gene_name``, ``gene_symbol``, ``symbol``...)
    when the sets hold symbols, and compared without version when the sets hold Ensembl IDs.
    """
    set_genes = [g for genes in sets.values() for g in genes]
    sets_ensembl = is_ensembl(set_genes).mean() > 0.5
    var_ensembl = is_ensembl(adata.var_names).mean() > 0.5
    if sets_ensembl:
        if not var_ensembl:
            msg = (
                "The gene sets use Ensembl IDs but the expression data uses gene symbols "
                f"(e.g. {list(adata.var_names[:3])}). Use a symbol GMT (such as 'hallmark') or Ensembl var_names."
            )
            raise DataFormatError(msg)
        return pd.Index(strip_version(adata.var_names))
    if not var_ensembl:
        if gene_column is not None:
            return _symbol_column(adata, gene_column)
        return pd.Index(adata.var_names.astype(str))
    column = gene_column or next((c for c in _SYMBOL_COLUMNS if c in adata.var.columns), None)
    if column is None:
        msg = (
            f"The expression data uses Ensembl IDs (e.g. {list(adata.var_names[:2])}) but the gene sets use symbols "
            f"(e.g. {set_genes[:2]}), and var has no symbol column ({', '.join(_SYMBOL_COLUMNS[:3])}, ...). "
            "Add var['gene_name'] with symbols or pass gene_column=<var column>."
        )
        raise DataFormatError(msg)
    return _symbol_column(adata, column)


def _symbol_column(adata: ad.AnnData, column: str) -> pd.Index:
    if column not in adata.var.columns:
        msg = f"gene_column={column!r} is not a column of var (columns: {list(adata.var.columns)[:10]})."
        raise MissingColumnError(msg)
    labels = pd.Series(adata.var[column]).astype("string").fillna("").str.strip()
    return pd.Index(labels.to_numpy(dtype=str))


def overlap_table(
    sets: Mapping[str, Sequence[str]], universe: Iterable[str], *, min_size: int, max_size: int
) -> pd.DataFrame:
    """Return per gene set its size, the genes found in ``universe`` and whether it is tested."""
    universe = set(universe)
    rows = []
    for term, genes in sets.items():
        n_found = sum(g in universe for g in genes)
        rows.append(
            {
                "term": term,
                "set_size": len(genes),
                "overlap": n_found,
                "fraction": n_found / len(genes),
                "tested": bool(min_size <= n_found <= max_size),
            }
        )
    return pd.DataFrame(rows, columns=["term", "set_size", "overlap", "fraction", "tested"])


def check_overlap(table: pd.DataFrame, *, min_size: int, max_size: int, what: str) -> None:
    """Raise when no set can be tested; warn when overlaps are low or sets are skipped."""
    if not table["tested"].any():
        best = table.sort_values("overlap", ascending=False).head(3)
        msg = (
            f"No gene set has between min_size={min_size} and max_size={max_size} genes in {what}; "
            f"largest overlaps: {dict(zip(best['term'], best['overlap'], strict=True))}. Check that gene identifiers "
            "match (symbols vs Ensembl IDs, species), or lower min_size."
        )
        raise InsufficientDataError(msg)
    skipped = table.loc[~table["tested"], "term"].tolist()
    median = float(table["fraction"].median())
    if skipped or median < LOW_OVERLAP:
        msg = (
            f"Low gene-set overlap with {what}: median {median:.0%} of each set's genes found; "
            f"{len(skipped)} of {len(table)} sets skipped (fewer than min_size={min_size} or more than "
            f"max_size={max_size} genes found, e.g. {skipped[:3]}). The per-set overlap is stored in the 'overlap' table."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)


def restrict(sets: Mapping[str, Sequence[str]], table: pd.DataFrame, universe: Iterable[str]) -> dict[str, list[str]]:
    """Keep the tested sets, each restricted to the genes present in ``universe``."""
    universe = set(universe)
    keep = set(table.loc[table["tested"], "term"])
    return {t: [g for g in genes if g in universe] for t, genes in sets.items() if t in keep}


def long_table(sets: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Return gene sets as a long table ``term, gene`` (storable in h5mu)."""
    return pd.DataFrame([(t, g) for t, genes in sets.items() for g in genes], columns=["term", "gene"])
