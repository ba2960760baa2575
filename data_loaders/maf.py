"""Mutation Annotation Format (GDC masked somatic MAF) -> long table and binary sample x gene matrix."""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Literal

import anndata as ad
import numpy as np
import pandas as pd

from radiogenomics.errors import DataFormatError, MissingColumnError, ParameterError

from ._common import as_path, count_comment_lines, numeric_block, read_delimited

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from os import PathLike

__all__ = ["IDH_HOTSPOTS", "NONSILENT_CLASSES", "mutation_matrix", "read_maf"]

#: Non-silent classes, most severe first (the default of maftools ``vc_nonSyn``).
NONSILENT_CLASSES = (
    "Nonsense_Mutation",
    "Frame_Shift_Del",
    "Frame_Shift_Ins",
    "Splice_Site",
    "Translation_Start_Site",
    "Nonstop_Mutation",
    "In_Frame_Del",
    "In_Frame_Ins",
    "Missense_Mutation",
)
#: Glioma IDH hotspots (protein reference residue and position in ``HGVSp_Short``).
IDH_HOTSPOTS = {"IDH1": ("R132",), "IDH2": ("R172",)}
_KNOWN_CLASSES = {
    *NONSILENT_CLASSES,
    "Silent",
    "Splice_Region",
    "3'UTR",
    "5'UTR",
    "3'Flank",
    "5'Flank",
    "IGR",
    "Intron",
    "RNA",
    "Targeted_Region",
    "De_novo_Start_InFrame",
    "De_novo_Start_OutOfFrame",
}
REQUIRED = ["Hugo_Symbol", "Variant_Classification", "Tumor_Sample_Barcode"]
_INTEGER_COLUMNS = ("Start_Position", "End_Position", "t_depth", "t_ref_count", "t_alt_count", "n_depth")
_KEEP = [
    "Hugo_Symbol",
    "Tumor_Sample_Barcode",
    "Variant_Classification",
    "Variant_Type",
    "Chromosome",
    "Start_Position",
    "HGVSp_Short",
    "t_alt_count",
    "t_depth",
]


def read_maf(path: PathLike[str] | str) -> pd.DataFrame:
    """Read a MAF file such as the GDC masked somatic mutation MAF.

    Leading ``#`` lines (``#version gdc-1.0.0``, ...) are skipped and kept in
    ``table.attrs["header"]``; positions and read counts become nullable integers.

    Parameters
    ----------
    path
        Tab-separated MAF (``.maf`` or ``.maf.gz``) with at least ``Hugo_Symbol``,
        ``Variant_Classification`` and ``Tumor_Sample_Barcode``.

    Returns
    -------
    One row per variant, all columns as in the file.

    Raises
    ------
    MissingColumnError
        A required column is absent (e.g. ``Tumor_Sample_Barcode``).
    DataFormatError
        Empty barcodes, non-numeric positions or read counts, wrong delimiter; the message
        names the file, line and column; a truncated gzip file, text that is not UTF-8 or a
        binary file. Unknown variant classes only warn.

    Examples
    --------
    >>> import data_loaders as dl
    >>> maf = dl.read_maf(dl.example_file("maf"))
    >>> maf.loc[0, ["Hugo_Symbol", "HGVSp_Short"]].tolist()
    ['IDH1', 'p.R132H']
    >>> maf.attrs["header"][0]
    '#version gdc-1.0.0'
    """
    p = as_path(path, "MAF")
    header = count_comment_lines(p, what="MAF")[1]
    table, line = read_delimited(p, what="MAF", required=REQUIRED, dtype=str, keep_default_na=False, na_values=[""])
    for col in REQUIRED:
        empty = table[col].isna()
        if empty.any():
            row = int(np.flatnonzero(empty.to_numpy())[0])
            msg = f"MAF file {str(p)!r}, line {line + 1 + row}, column {col!r}: value is empty."
            raise DataFormatError(msg)
    for col in _INTEGER_COLUMNS:
        if col in table.columns:
            values = numeric_block(table[[col]], path=p, what="MAF", first_line=line + 1).ravel()
            table[col] = pd.array(values, dtype="Float64").astype("Int64")
    unknown = sorted(set(table["Variant_Classification"]) - _KNOWN_CLASSES)
    if unknown:
        msg = f"MAF file {str(p)!r}: unknown Variant_Classification values {unknown[:5]}; they are kept but not in the default classes."
        warnings.warn(msg, UserWarning, stacklevel=2)
    table.attrs["header"] = header
    return table


def _hotspot_hits(table: pd.DataFrame, hotspots: Mapping[str, Sequence[str]]) -> dict[str, pd.Series]:
    if hotspots and "HGVSp_Short" not in table.columns:
        msg = (
            "hotspots need the MAF column 'HGVSp_Short' (e.g. 'p.R132H'); it is absent. Use a MAF with protein "
            "changes (GDC masked somatic MAFs have it) or pass hotspots=None for gene-level columns only."
        )
        raise DataFormatError(msg)
    hits = {}
    for gene, codes in hotspots.items():
        for code in [codes] if isinstance(codes, str) else codes:
            pattern = re.compile(rf"^p\.{re.escape(code)}(?!\d)(?!=)")
            match = (table["Hugo_Symbol"] == gene) & table["HGVSp_Short"].fillna("").map(
                lambda s, pat=pattern: bool(pat.match(s))
            )
            hits[f"{gene}_{code}"] = match
    return hits


def mutation_matrix(
    maf: pd.DataFrame | PathLike[str] | str,
    *,
    genes: Sequence[str] | None = None,
    classes: Sequence[str] = NONSILENT_CLASSES,
    hotspots: Mapping[str, Sequence[str]] | Literal["default"] | None = "default",
    samples: Sequence[str] | None = None,
) -> ad.AnnData:
    """Build a binary tumour-sample x gene mutation matrix from a MAF.

    A gene is mutated (1) in a sample when the sample has at least one variant of ``classes``
    in it. Rows are the tumour samples (``Tumor_Sample_Barcode``); every sample of the MAF gets
    a row, including samples whose variants are all outside ``classes`` (all zeros), because a
    MAF lists only mutated samples: pass ``samples`` with every sequenced sample so that
    wild-type samples are kept too. :func:`radiogenomics.io.build_mudata` then maps samples to
    patients.

    Parameters
    ----------
    maf
        Table from :func:`read_maf` or a MAF path.
    genes
        Genes (``Hugo_Symbol``) to report; ``None`` reports every gene with a variant of
        ``classes``. Requested genes without variants get all-zero columns.
    classes
        ``Variant_Classification`` values counted, most severe first. The default is the
        non-silent set of maftools: nonsense, frame-shift deletion/insertion, splice site,
        translation start site, nonstop, in-frame deletion/insertion and missense.
    hotspots
        Gene to protein positions (reference residue + position, as in ``HGVSp_Short``),
        e.g. ``{"IDH1": ["R132"], "IDH2": ["R172"]}`` (:data:`IDH_HOTSPOTS`). Each adds a
        column ``<gene>_<position>`` (e.g. ``IDH1_R132``) set when a variant of ``classes``
        hits that residue (``p.R132H``, ``p.R132C``, ...; not synonymous ``p.R132=``).
        ``"default"`` adds the standard hotspots of :data:`IDH_HOTSPOTS` (IDH1 R132 and
        IDH2 R172, the WHO CNS5 definition of IDH-mutant glioma) for the genes reported, when
        the MAF has ``HGVSp_Short``; ``None`` adds none.
    samples
        All sequenced tumour sample barcodes; samples absent from the MAF get all-zero rows.

    Returns
    -------
    AnnData samples x (genes + hotspot columns):

    ``X`` (float32)
        1 if mutated, else 0.
    ``layers["variant_class"]`` (int8)
        Code of the most severe class in that cell (0 = not mutated, ``k`` = ``classes[k-1]``);
        the code table is ``uns["variant_class_codes"]`` (columns ``code``, ``variant_class``).
        Integer codes are used because string layers cannot be written to h5ad.
    ``layers["n_mutations"]`` (int16)
        Number of variants of ``classes`` in that cell (more than 1 is a multi-hit).
    ``var``
        ``gene`` (symbol) and ``hotspot`` (bool).
    ``obs["n_mutations"]``
        Variants of ``classes`` per sample.
    ``uns["maf"]``
        Long table of the counted variants (``Hugo_Symbol``, ``Tumor_Sample_Barcode``,
        ``Variant_Classification``, ``Variant_Type``, ``Chromosome``, ``Start_Position``,
        ``HGVSp_Short``, ``t_alt_count``, ``t_depth`` where present).
    ``uns["mutation_matrix"]["params"]``
        ``classes``, ``hotspots`` (as ``<gene>_<position>`` names) and ``genes_requested``.

    Examples
    --------
    >>> import data_loaders as dl
    >>> mut = dl.mutation_matrix(dl.example_file("maf"), genes=["IDH1", "IDH2", "TP53"])
    >>> mut.var_names.tolist()
    ['IDH1', 'IDH2', 'TP53', 'IDH1_R132', 'IDH2_R172']
    >>> mut[:, ["IDH1", "IDH1_R132"]].X.sum(axis=0).tolist()  # G97D is an IDH1 mutation, not a hotspot
    [2.0, 1.0]
    """
    table = maf if isinstance(maf, pd.DataFrame) else read_maf(maf)
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        msg = f"The MAF table lacks required column(s) {missing}; read it with data_loaders.read_maf."
        raise MissingColumnError(msg)
    classes = list(classes)
    all_samples = list(dict.fromkeys([*table["Tumor_Sample_Barcode"].astype(str), *(samples or [])]))
    all_samples.sort()
    selected = table[table["Variant_Classification"].isin(classes)]
    gene_list = list(genes) if genes is not None else sorted(selected["Hugo_Symbol"].unique())
    if isinstance(hotspots, str):
        if hotspots != "default":
            msg = f"hotspots={hotspots!r} is not known; pass 'default', None or a mapping like {IDH_HOTSPOTS}."
            raise ParameterError(msg)
        has_protein = "HGVSp_Short" in selected.columns
        hotspots = {g: c for g, c in IDH_HOTSPOTS.items() if g in gene_list} if has_protein else {}
    hits = _hotspot_hits(selected, hotspots or {})
    columns = gene_list + list(hits)
    row_of = {s: i for i, s in enumerate(all_samples)}
    col_of = {g: j for j, g in enumerate(columns)}
    counts = np.zeros((len(all_samples), len(columns)), dtype=np.int16)
    codes = np.zeros_like(counts, dtype=np.int8)
    rank = {c: k + 1 for k, c in enumerate(classes)}
    owners = [(selected["Hugo_Symbol"].to_numpy(), np.ones(len(selected), bool))]
    owners += [(np.full(len(selected), name), mask.to_numpy()) for name, mask in hits.items()]
    barcodes = selected["Tumor_Sample_Barcode"].astype(str).to_numpy()
    vclass = selected["Variant_Classification"].to_numpy()
    for names, mask in owners:
        for name, sample, vc in zip(names[mask], barcodes[mask], vclass[mask], strict=True):
            j = col_of.get(name)
            if j is None:
                continue
            i = row_of[sample]
            counts[i, j] += 1
            code = rank[vc]
            codes[i, j] = code if codes[i, j] == 0 else min(codes[i, j], code)
    var = pd.DataFrame(
        {
            "gene": [c.split("_")[0] if c in hits else c for c in columns],
            "hotspot": [c in hits for c in columns],
        },
        index=pd.Index(columns),
    )
    obs = pd.DataFrame(
        {"n_mutations": selected["Tumor_Sample_Barcode"].value_counts().reindex(all_samples, fill_value=0).to_numpy()},
        index=pd.Index(all_samples),
    )
    adata = ad.AnnData(X=(counts > 0).astype(np.float32), obs=obs, var=var)
    adata.layers["variant_class"] = codes
    adata.layers["n_mutations"] = counts
    adata.uns["variant_class_codes"] = pd.DataFrame(
        {"code": np.arange(len(classes) + 1), "variant_class": ["none", *classes]}
    )
    long = selected[[c for c in _KEEP if c in selected.columns]].reset_index(drop=True).copy()
    for col in long.columns:
        if long[col].dtype == object:
            long[col] = long[col].fillna("").astype(str)
        elif str(long[col].dtype) == "Int64":
            long[col] = long[col].astype("float64")
    adata.uns["maf"] = long
    adata.uns["mutation_matrix"] = {
        "params": {
            "classes": classes,
            "hotspots": list(hits),
            "genes_requested": list(genes) if genes is not None else [],
        }
    }
    return adata
