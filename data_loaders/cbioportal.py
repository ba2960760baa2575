"""cBioPortal study files: clinical patient/sample tables and expression matrices."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd

from radiogenomics.errors import DataFormatError
from radiogenomics.io._checks import check_survival_times, convert_numeric_text

from ._common import as_path, check_unique, count_comment_lines, header_fields, numeric_block, read_delimited

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["NA_VALUES", "read_cbioportal_clinical", "read_cbioportal_expression", "survival_event"]

#: Cells read as missing in cBioPortal and TCGA clinical files.
NA_VALUES = [
    "",
    "NA",
    "N/A",
    "NaN",
    "[Not Available]",
    "[Not Applicable]",
    "[Unknown]",
    "[Not Evaluated]",
    "[Discrepancy]",
    "[Not Reported]",
    "[Not Collected]",
]
ENDPOINTS = ("OS", "PFS", "DFS", "DSS")
# Status words used without the "1:"/"0:" prefix in older studies.
_EVENT_WORDS = {
    "DECEASED": True,
    "DEAD": True,
    "PROGRESSION": True,
    "PROGRESSED": True,
    "RECURRED": True,
    "RECURRED/PROGRESSED": True,
    "DEAD WITH TUMOR": True,
    "LIVING": False,
    "ALIVE": False,
    "CENSORED": False,
    "DISEASEFREE": False,
    "DISEASE FREE": False,
    "ALIVE OR DEAD TUMOR FREE": False,
}


def survival_event(value: object) -> bool | None:
    """Return the event flag of a cBioPortal status value (``None`` when missing or unknown).

    ``"1:..."`` is an event, ``"0:..."`` is censored; older status words such as ``DECEASED`` or
    ``LIVING`` are also recognised.

    Parameters
    ----------
    value
        A ``*_STATUS`` cell, e.g. ``"1:DECEASED"``.

    Returns
    -------
    ``True`` (event), ``False`` (censored) or ``None``.

    Examples
    --------
    >>> from data_loaders import survival_event
    >>> survival_event("1:DECEASED"), survival_event("0:LIVING"), survival_event("LIVING")
    (True, False, False)
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip()
    if text.startswith(("1:", "0:")) or text in ("1", "0"):
        return text[0] == "1"
    return _EVENT_WORDS.get(text.upper())


def _survival_columns(table: pd.DataFrame, path, first_line: int) -> pd.DataFrame:
    for ep in ENDPOINTS:
        status, months = f"{ep}_STATUS", f"{ep}_MONTHS"
        if status in table.columns:
            raw = table[status]
            flags = raw.map(survival_event)
            bad = raw.notna() & flags.isna()
            if bad.any():
                row = int(np.flatnonzero(bad.to_numpy())[0])
                msg = (
                    f"cBioPortal clinical file {str(path)!r}, line {first_line + row}, column {status!r}: "
                    f"status {raw.iat[row]!r} is not '1:<event>' or '0:<censored>'."
                )
                raise DataFormatError(msg)
            table[f"{ep.lower()}_event"] = flags.astype("boolean")
        if months in table.columns:
            values = numeric_block(
                table[[months]], path=path, what="cBioPortal clinical", first_line=first_line, nonnegative=True
            )
            table[f"{ep.lower()}_months"] = values.ravel()
    return table


def read_cbioportal_clinical(path: PathLike[str] | str) -> pd.DataFrame:
    """Read a cBioPortal ``data_clinical_patient.txt`` or ``data_clinical_sample.txt`` file.

    The four ``#`` header lines (display names, descriptions, datatypes, priorities) are read:
    ``NUMBER`` columns become floats and cBioPortal missing markers (``[Not Available]``, ...)
    become missing. Without those lines, text columns whose every value is a number (``AGE``,
    ``KPS``) are converted to float with a warning giving the counts, recorded in
    ``table.attrs["converted_numeric"]`` (identifier and status columns stay text). Follow-up
    beyond 30 years in a ``*_MONTHS`` column warns (days labelled as months?). Survival endpoints are normalised: ``OS_STATUS`` (``"1:DECEASED"``/
    ``"0:LIVING"``) to ``os_event`` (nullable boolean) and ``OS_MONTHS`` to ``os_months``
    (float); likewise ``PFS``, ``DFS`` and ``DSS``.

    Parameters
    ----------
    path
        Tab-separated cBioPortal clinical file with a ``PATIENT_ID`` column (sample files
        also have ``SAMPLE_ID``).

    Returns
    -------
    DataFrame indexed by ``SAMPLE_ID`` for a sample file, otherwise by ``PATIENT_ID``, with
    the original columns plus ``<endpoint>_event`` and ``<endpoint>_months``.

    Raises
    ------
    DataFormatError
        Unknown status values, non-numeric ``NUMBER`` cells, negative months, duplicated IDs,
        wrong delimiter; the message names the file, line and column.
    MissingColumnError
        No ``PATIENT_ID`` column.

    Examples
    --------
    >>> import data_loaders as dl
    >>> clin = dl.read_cbioportal_clinical(dl.example_file("cbioportal_clinical_patient"))
    >>> print(clin.loc["TCGA-02-0001", "os_event"], clin.loc["TCGA-02-0001", "os_months"])
    True 11.2
    >>> clin["os_event"].dtype
    BooleanDtype
    """
    p = as_path(path, "cBioPortal clinical")
    n_meta, meta = count_comment_lines(p, what="cBioPortal clinical")
    table, line = read_delimited(
        p, what="cBioPortal clinical", required=["PATIENT_ID"], dtype=str, keep_default_na=False, na_values=NA_VALUES
    )
    if n_meta == 4:
        types = meta[2].lstrip("#").split("\t")
        if len(types) == table.shape[1]:
            for col, kind in zip(table.columns, types, strict=True):
                if kind.strip().upper() == "NUMBER":
                    table[col] = numeric_block(
                        table[[col]], path=p, what="cBioPortal clinical", first_line=line + 1
                    ).ravel()
    converted: dict[str, int] = {}
    if n_meta != 4 or len(meta[2].lstrip("#").split("\t")) != table.shape[1]:
        if n_meta:
            msg = f"cBioPortal clinical file {str(p)!r} has {n_meta} '#' header lines instead of 4; column datatypes were not applied."
            warnings.warn(msg, UserWarning, stacklevel=2)
        months = [c for c in table.columns if str(c).endswith("_MONTHS")]
        rest, converted = convert_numeric_text(
            table.drop(columns=months), where=f"cBioPortal clinical file {str(p)!r} (no '#' type lines)"
        )
        table[rest.columns] = rest
    key = "SAMPLE_ID" if "SAMPLE_ID" in table.columns else "PATIENT_ID"
    check_unique(table[key].fillna(""), path=p, what="cBioPortal clinical", kind=key, first_line=line + 1)
    table = _survival_columns(table, p, line + 1)
    for ep in ENDPOINTS:
        if f"{ep.lower()}_months" in table.columns:
            check_survival_times(
                table[f"{ep.lower()}_months"], column=f"{ep}_MONTHS", where=f"cBioPortal clinical file {str(p)!r}"
            )
    table = table.set_index(key, drop=False).rename_axis(None)
    table.attrs["converted_numeric"] = converted
    return table


def read_cbioportal_expression(path: PathLike[str] | str) -> ad.AnnData:
    """Read a cBioPortal expression matrix (e.g. ``data_mrna_seq_v2_rsem.txt``).

    Genes are rows (``Hugo_Symbol`` and/or ``Entrez_Gene_Id``), samples are columns. Genes
    without a symbol are named by their Entrez ID; a symbol used by several rows is kept
    once per row as ``<symbol>_<entrez>`` with a warning (collapse them later with
    :func:`radiogenomics.omics.map_gene_ids`).

    Parameters
    ----------
    path
        Tab-separated cBioPortal expression file.

    Returns
    -------
    AnnData samples x genes with values as in the file (``X``, float64, ``NA`` missing);
    ``var["hugo_symbol"]`` and ``var["entrez_gene_id"]``.

    Raises
    ------
    DataFormatError
        Duplicated sample columns, non-numeric values, wrong delimiter.
    MissingColumnError
        Neither ``Hugo_Symbol`` nor ``Entrez_Gene_Id`` is present.

    Examples
    --------
    >>> import data_loaders as dl
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     expr = dl.read_cbioportal_expression(dl.example_file("cbioportal_expression"))
    >>> expr.shape, expr.var_names[-2:].tolist()
    ((5, 9), ['ELMOD1_55531', 'ELMOD1_100000001'])
    >>> "2 rows share a gene symbol" in str(caught[0].message)
    True
    """
    p = as_path(path, "cBioPortal expression")
    skip = count_comment_lines(p, what="cBioPortal expression")[0]
    fields = header_fields(p, skip, "\t", what="cBioPortal expression")
    gene_cols = [c for c in ("Hugo_Symbol", "Entrez_Gene_Id") if c in fields]
    table, line = read_delimited(
        p, what="cBioPortal expression", required=gene_cols or ["Hugo_Symbol"], dtype=dict.fromkeys(gene_cols, str)
    )
    samples = [c for c in fields if c not in gene_cols]
    check_unique(samples, path=p, what="cBioPortal expression", kind="sample column", first_line=1)
    symbol = table["Hugo_Symbol"].fillna("") if "Hugo_Symbol" in table else pd.Series("", index=table.index)
    entrez = table["Entrez_Gene_Id"].fillna("") if "Entrez_Gene_Id" in table else pd.Series("", index=table.index)
    names = symbol.where(symbol != "", entrez).astype(str)
    dup = names.duplicated(keep=False) & (names != "")
    if dup.any():
        names = names.where(~dup, names + "_" + entrez)
        msg = f"cBioPortal expression file {str(p)!r}: {int(dup.sum())} rows share a gene symbol ({sorted(set(symbol[dup]))[:5]}); named '<symbol>_<entrez>'."
        warnings.warn(msg, UserWarning, stacklevel=2)
    check_unique(names, path=p, what="cBioPortal expression", kind="gene", first_line=line + 1)
    values = numeric_block(table[samples], path=p, what="cBioPortal expression", first_line=line + 1)
    var = pd.DataFrame(
        {"hugo_symbol": symbol.to_numpy(dtype=str), "entrez_gene_id": entrez.to_numpy(dtype=str)},
        index=names.to_numpy(),
    )
    return ad.AnnData(X=values.T.copy(), obs=pd.DataFrame(index=pd.Index(samples)), var=var)
