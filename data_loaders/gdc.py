"""GDC STAR "augmented gene counts" files and the GDC sample sheet -> AnnData."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd

from radiogenomics.errors import DataFormatError, MissingFileError
from radiogenomics.io._text import open_text

from ._common import as_path, check_columns, check_unique, count_comment_lines, numeric_block, read_delimited

if TYPE_CHECKING:
    from collections.abc import Sequence
    from os import PathLike

__all__ = ["read_gdc_sample_sheet", "read_gdc_star_counts"]

SHEET_COLUMNS = ["File ID", "File Name", "Case ID", "Sample ID", "Sample Type"]
_GENE_COLUMNS = ["gene_id", "gene_name", "gene_type"]
# file column -> (layer name, dtype)
_VALUE_COLUMNS = {
    "unstranded": ("counts", np.int32),
    "stranded_first": ("stranded_first", np.int32),
    "stranded_second": ("stranded_second", np.int32),
    "tpm_unstranded": ("tpm", np.float32),
    "fpkm_unstranded": ("fpkm", np.float32),
    "fpkm_uq_unstranded": ("fpkm_uq", np.float32),
}
_SUMMARY_ROWS = ("N_unmapped", "N_multimapping", "N_noFeature", "N_ambiguous")


def read_gdc_sample_sheet(path: PathLike[str] | str) -> pd.DataFrame:
    """Read a GDC sample sheet (``gdc_sample_sheet.<date>.tsv`` from the GDC cart).

    Parameters
    ----------
    path
        Tab-separated sample sheet with at least the columns ``File ID``, ``File Name``,
        ``Case ID``, ``Sample ID`` and ``Sample Type``.

    Returns
    -------
    The sheet as strings, one row per file, indexed by ``File Name``.

    Examples
    --------
    >>> import data_loaders as dl
    >>> sheet = dl.read_gdc_sample_sheet(dl.example_file("gdc_sample_sheet"))
    >>> sheet["Sample ID"].tolist()[:2]
    ['TCGA-02-0001-01C', 'TCGA-02-0003-01A']
    """
    p = as_path(path, "GDC sample sheet")
    table, line = read_delimited(p, what="GDC sample sheet", required=SHEET_COLUMNS, comment=None, dtype=str)
    check_unique(table["File Name"], path=p, what="GDC sample sheet", kind="File Name", first_line=line + 1)
    multi = table["Sample ID"].str.contains(",", na=False)
    if multi.any():
        row = int(np.flatnonzero(multi)[0])
        msg = (
            f"GDC sample sheet {str(p)!r}, line {line + 1 + row}, column 'Sample ID': file "
            f"{table['File Name'].iat[row]!r} pools several samples ({table['Sample ID'].iat[row]!r}); "
            "per-sample matrices need one sample per file. Remove pooled files from the sheet."
        )
        raise DataFormatError(msg)
    return table.set_index("File Name", drop=False)


def _find_files(paths_or_dir) -> tuple[list[Path], bool]:
    if isinstance(paths_or_dir, str | Path) and Path(paths_or_dir).is_dir():
        root = Path(paths_or_dir)
        found = sorted(
            p for p in root.rglob("*") if p.is_file() and p.name.endswith(("gene_counts.tsv", "gene_counts.tsv.gz"))
        )
        if not found:
            msg = f"No '*gene_counts.tsv' file found under {str(root)!r}; point at the GDC download folder."
            raise MissingFileError(msg)
        return found, True
    if isinstance(paths_or_dir, str | Path):
        return [as_path(paths_or_dir, "GDC STAR counts")], False
    return [as_path(p, "GDC STAR counts") for p in paths_or_dir], False


def _match_sheet(
    files: list[Path], sheet: pd.DataFrame, *, from_dir: bool
) -> tuple[list[Path], pd.DataFrame, list[dict]]:
    """Return the files to load, their sheet rows, and a record of every file not loaded."""
    log: list[dict] = []
    key = {f: f.name.removesuffix(".gz") for f in files}  # a gzipped copy matches its sheet row
    known = [f for f in files if key[f] in sheet.index]
    for f in files:
        if key[f] not in sheet.index:
            log.append({"file_name": f.name, "sample_id": "", "status": "skipped", "reason": "not in the sample sheet"})
    rows = sheet.loc[[key[f] for f in known]]
    dup = rows["Sample ID"].duplicated(keep="first").to_numpy()
    for f, sample, is_dup in zip(known, rows["Sample ID"], dup, strict=True):
        if is_dup:
            log.append(
                {
                    "file_name": f.name,
                    "sample_id": sample,
                    "status": "skipped",
                    "reason": "another file of the same sample was loaded",
                }
            )
    if from_dir:
        names = set(key.values())
        for name, sample in zip(sheet["File Name"], sheet["Sample ID"], strict=True):
            if name not in names:
                log.append(
                    {
                        "file_name": name,
                        "sample_id": sample,
                        "status": "missing",
                        "reason": "listed in the sheet, file not found",
                    }
                )
    if log:
        detail = "; ".join(f"{r['file_name']} ({r['reason']})" for r in log[:5])
        msg = (
            f"read_gdc_star_counts: {len(log)} file(s) not loaded: {detail}{' ...' if len(log) > 5 else ''}. "
            "All are listed in adata.uns['gdc_star_counts']['files']."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
    keep = ~dup
    files, rows = [f for f, k in zip(known, keep, strict=True) if k], rows[keep]
    order = np.argsort(rows["Sample ID"].to_numpy(dtype=str), kind="stable")
    return [files[i] for i in order], rows.iloc[order], log


def _read_one(path: Path, columns: list[str], *, annotate: bool) -> tuple[pd.DataFrame, int]:
    as_path(path, "GDC STAR counts")
    skip = count_comment_lines(path, what="GDC STAR counts")[0]
    usecols = [*_GENE_COLUMNS, *columns] if annotate else ["gene_id", *columns]
    try:
        with open_text(path, "GDC STAR counts") as handle:
            table = pd.read_csv(handle, sep="\t", skiprows=skip, usecols=usecols, dtype={"gene_id": str}, engine="c")
    except ValueError as e:
        if "Usecols do not match" not in str(e):
            raise
        read_delimited(path, what="GDC STAR counts", required=usecols, nrows=2)
        raise
    if table.empty:
        msg = f"GDC STAR counts file {str(path)!r} has a header (line {skip + 1}) but no data rows."
        raise DataFormatError(msg)
    return table, skip + 2


def _split_summary(table: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    n = 0
    ids = table["gene_id"].to_numpy()
    while n < len(ids) and isinstance(ids[n], str) and ids[n].startswith("N_"):
        n += 1
    return table.iloc[n:], n


def read_gdc_star_counts(
    paths_or_dir: PathLike[str] | str | Sequence[PathLike[str] | str],
    *,
    sample_sheet: PathLike[str] | str | pd.DataFrame,
    stranded: bool = False,
) -> ad.AnnData:
    """Read GDC STAR "augmented gene counts" files into one samples x genes AnnData.

    Each file (``<uuid>.rna_seq.augmented_star_gene_counts.tsv``) has a ``# gene-model`` comment
    line, a header, four STAR summary rows (``N_unmapped``, ``N_multimapping``, ``N_noFeature``,
    ``N_ambiguous``) and one row per versioned Ensembl gene (about 60,660 for GENCODE v36).
    Files are mapped to samples through the GDC sample sheet (matched on ``File Name``); rows
    are sorted by ``Sample ID``. A file
    absent from the sheet, a second file of the same sample (the first in sheet order is kept)
    and, when a folder is given, a sheet row without file are reported in one warning and
    listed in ``uns``. Genes must be the same in every file; rows are realigned by ``gene_id``
    when only their order differs.

    Parameters
    ----------
    paths_or_dir
        A GDC download folder (searched recursively for ``*gene_counts.tsv[.gz]``), one file
        or a list of files.
    sample_sheet
        GDC sample sheet path or the table from :func:`read_gdc_sample_sheet`.
    stranded
        Also keep the ``stranded_first`` and ``stranded_second`` counts as layers.

    Returns
    -------
    AnnData with ``obs_names`` = ``Sample ID`` barcodes (e.g. ``TCGA-02-0001-01C``, which
    :func:`radiogenomics.io.build_mudata` maps to patients) and ``var_names`` = versioned
    Ensembl IDs:

    ``X`` (float32) and ``layers["counts"]`` (int32)
        Unstranded read counts.
    ``layers["tpm"]``, ``layers["fpkm"]``, ``layers["fpkm_uq"]`` (float32)
        The GDC ``tpm_unstranded``, ``fpkm_unstranded`` and ``fpkm_uq_unstranded`` columns.
    ``layers["stranded_first"]``, ``layers["stranded_second"]`` (int32, if ``stranded``)
        Strand-specific counts.
    ``var``
        ``gene_name``, ``gene_type``, ``gene_id_unversioned``.
    ``obs``
        ``case_id``, ``sample_type``, ``file_id``, ``file_name``, ``project_id`` (if in the
        sheet) and the STAR summary counts ``n_unmapped``, ``n_multimapping``, ``n_nofeature``,
        ``n_ambiguous``.
    ``uns["gdc_star_counts"]``
        ``gene_model`` (from the comment line) and ``files``, a DataFrame (``file_name``,
        ``sample_id``, ``status``, ``reason``) with every file loaded, skipped or missing.

    Raises
    ------
    DataFormatError
        Wrong delimiter, duplicated gene IDs, different genes across files, non-numeric or
        negative counts; the message names the file, line and column.
    MissingColumnError
        A required column (``gene_id``, ``unstranded``, ...) is absent.

    Examples
    --------
    >>> import data_loaders as dl
    >>> rna = dl.read_gdc_star_counts(
    ...     dl.example_file("gdc_star_counts"), sample_sheet=dl.example_file("gdc_sample_sheet")
    ... )
    >>> rna.shape
    (5, 24)
    >>> rna.obs_names[0], rna.var.loc["ENSG00000120217.14", "gene_name"]
    ('TCGA-02-0001-01C', 'CD274')
    >>> sorted(k for k in rna.layers if k is not None)  # anndata >= 0.13 also lists X as layers[None]
    ['counts', 'fpkm', 'fpkm_uq', 'tpm']
    """
    files, from_dir = _find_files(paths_or_dir)
    sheet = sample_sheet if isinstance(sample_sheet, pd.DataFrame) else read_gdc_sample_sheet(sample_sheet)
    if isinstance(sample_sheet, pd.DataFrame):
        check_columns(sheet, SHEET_COLUMNS, path="<DataFrame>", what="GDC sample sheet", line=1)
        sheet = sheet.set_index("File Name", drop=False)
    files, rows, log = _match_sheet(files, sheet, from_dir=from_dir)
    if not files:
        msg = "None of the GDC STAR count files is listed in the sample sheet (matched on 'File Name'); check the sheet belongs to this download."
        raise DataFormatError(msg)
    value_cols = [c for c in _VALUE_COLUMNS if stranded or not c.startswith("stranded")]
    first, first_line = _read_one(files[0], value_cols, annotate=True)
    genes, n_summary = _split_summary(first)
    gene_ids = genes["gene_id"].to_numpy()
    check_unique(gene_ids, path=files[0], what="GDC STAR counts", kind="gene_id", first_line=first_line + n_summary)
    n_obs, n_vars = len(files), len(gene_ids)
    arrays = {c: np.empty((n_obs, n_vars), dtype=_VALUE_COLUMNS[c][1]) for c in value_cols}
    summary = np.zeros((n_obs, len(_SUMMARY_ROWS)), dtype=np.float64)
    for i, path in enumerate(files):
        table, line = (first, first_line) if i == 0 else _read_one(path, value_cols, annotate=False)
        body, n_sum = _split_summary(table)
        line += n_sum
        ids = body["gene_id"].to_numpy()
        if not np.array_equal(ids, gene_ids):
            body = _realign(body, gene_ids, path=path, line=line)
        for c in value_cols:
            is_count = _VALUE_COLUMNS[c][1] == np.int32
            arrays[c][i] = numeric_block(
                body[[c]], path=path, what="GDC STAR counts", first_line=line, nonnegative=True, allow_missing=False
            ).ravel()
            if is_count and not np.array_equal(arrays[c][i], body[c].to_numpy(dtype=np.float64)):
                msg = f"GDC STAR counts file {str(path)!r}, column {c!r}: counts are not whole numbers. Is this a normalised file?"
                raise DataFormatError(msg)
        labels = table["gene_id"].iloc[:n_sum].tolist()
        for j, label in enumerate(_SUMMARY_ROWS):
            if label in labels:
                summary[i, j] = float(table["unstranded"].iloc[labels.index(label)])
    obs = pd.DataFrame(
        {
            "case_id": rows["Case ID"].to_numpy(),
            "sample_type": rows["Sample Type"].to_numpy(),
            "file_id": rows["File ID"].to_numpy(),
            "file_name": rows["File Name"].to_numpy(),
        },
        index=pd.Index(rows["Sample ID"].to_numpy(), name=None),
    )
    if "Project ID" in rows.columns:
        obs["project_id"] = rows["Project ID"].to_numpy()
    for j, label in enumerate(_SUMMARY_ROWS):
        obs[label.lower()] = summary[:, j]
    var = pd.DataFrame(
        {
            "gene_name": genes["gene_name"].fillna("").to_numpy(dtype=str),
            "gene_type": genes["gene_type"].fillna("").to_numpy(dtype=str),
            "gene_id_unversioned": pd.Series(gene_ids).str.replace(r"\.\d+", "", regex=True).to_numpy(dtype=str),
        },
        index=pd.Index(gene_ids.astype(str)),
    )
    counts = arrays.pop("unstranded")
    adata = ad.AnnData(X=counts.astype(np.float32), obs=obs, var=var)
    adata.layers["counts"] = counts
    for c, values in arrays.items():
        adata.layers[_VALUE_COLUMNS[c][0]] = values
    loaded = [
        {"file_name": f.name, "sample_id": s, "status": "loaded", "reason": ""}
        for f, s in zip(files, obs.index, strict=True)
    ]
    model = count_comment_lines(files[0])[1]
    adata.uns["gdc_star_counts"] = {
        "gene_model": model[0].lstrip("# ").removeprefix("gene-model:").strip() if model else "",
        "files": pd.DataFrame(loaded + log, columns=["file_name", "sample_id", "status", "reason"]),
    }
    return adata


def _realign(body: pd.DataFrame, gene_ids: np.ndarray, *, path: Path, line: int) -> pd.DataFrame:
    ids = body["gene_id"].to_numpy()
    check_unique(ids, path=path, what="GDC STAR counts", kind="gene_id", first_line=line)
    if len(ids) == len(gene_ids) and set(ids) == set(gene_ids):
        return body.set_index("gene_id").loc[gene_ids].reset_index()
    extra = sorted(set(ids) - set(gene_ids))[:3]
    absent = sorted(set(gene_ids) - set(ids))[:3]
    msg = (
        f"GDC STAR counts file {str(path)!r} has different genes from the first file ({len(ids)} vs {len(gene_ids)}; "
        f"only here: {extra}, missing here: {absent}). Files from different gene models (GENCODE versions) "
        "cannot be combined; load them separately."
    )
    raise DataFormatError(msg)
