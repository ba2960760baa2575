"""UCSC Xena genes x samples matrices -> AnnData."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import anndata as ad
import numpy as np
import pandas as pd

from radiogenomics.errors import DataFormatError, ParameterError

from ._common import as_path, check_unique, header_fields, numeric_block, read_delimited

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["read_xena_matrix"]

XenaUnits = Literal[
    "log2(count+1)", "log2(norm_count+1)", "log2(tpm+0.001)", "log2(fpkm+1)", "log2(fpkm-uq+1)", "linear", "other"
]
"""Units of a Xena matrix, as :func:`read_xena_matrix` takes them (the study file's ``units`` too)."""

# units -> (layer holding the back-transformed values, pseudocount); None: no back-transform
_UNITS = {
    "log2(count+1)": ("counts", 1.0),
    "log2(norm_count+1)": ("norm_counts", 1.0),
    "log2(tpm+0.001)": ("tpm", 0.001),
    "log2(fpkm+1)": ("fpkm", 1.0),
    "log2(fpkm-uq+1)": ("fpkm_uq", 1.0),
    "linear": (None, 0.0),
    "other": (None, 0.0),
}
_LOG2_MAX = 40.0  # 2**40 reads on one gene is impossible: larger "log2" values are linear data


def read_xena_matrix(
    path: PathLike[str] | str,
    *,
    units: XenaUnits,
) -> ad.AnnData:
    """Read a UCSC Xena matrix (genes as rows, samples as columns) into samples x genes.

    Xena does not write the units in the file, so they must be given: the GDC hub ships
    ``log2(count+1)`` HTSeq/STAR counts, ``log2(fpkm+1)``, ``log2(fpkm-uq+1)`` and
    ``log2(tpm+0.001)`` matrices. ``X`` keeps the values as read and the back-transformed
    values go to a layer, so :func:`radiogenomics.omics.normalize` can use raw counts.

    Parameters
    ----------
    path
        Tab-separated Xena matrix (first column: gene or probe ID, e.g. ``Ensembl_ID``).
    units
        Units of the values in the file.

    Returns
    -------
    AnnData samples x genes:

    ``X`` (float64)
        The values as in the file.
    ``layers["counts"]`` / ``["norm_counts"]`` / ``["tpm"]`` / ``["fpkm"]`` / ``["fpkm_uq"]``
        ``2**X - pseudocount`` for the matching log2 units. Counts are rounded to integers, with
        a warning if they deviate from whole numbers by more than 0.01 %; files written with
        four decimals give counts exact to about 0.004 %, so large counts may be off by one.
    ``uns["xena"]``
        ``units``, ``log2`` (bool), ``pseudocount`` and ``id_column``.

    Raises
    ------
    DataFormatError
        Duplicated gene or sample, non-numeric values, wrong delimiter, negative values in a
        ``linear`` matrix of counts, log2 units declared for values above 40 (linear data, whose
        back-transform would be infinite).

    Examples
    --------
    >>> import data_loaders as dl
    >>> xena = dl.read_xena_matrix(dl.example_file("xena_counts"), units="log2(count+1)")
    >>> xena.uns["xena"]["units"], xena.layers["counts"][0, :2].tolist()
    ('log2(count+1)', [1031.0, 7.0])
    """
    if units not in _UNITS:
        msg = f"units={units!r} is not known; use one of {list(_UNITS)}."
        raise ParameterError(msg)
    p = as_path(path, "Xena matrix")
    fields = header_fields(p, 0, "\t", what="Xena matrix")
    table, line = read_delimited(p, what="Xena matrix", comment=None, required=fields[:1], dtype={fields[0]: str})
    id_col = fields[0]
    samples = fields[1:]
    if not samples:
        other = next((name for s, name in ((",", "commas"), (";", "semicolons")) if s in id_col), None)
        msg = (
            f"Xena matrix {str(p)!r}, line 1: expected tab-separated columns (gene ID, then one per sample) but found "
            + (f"{other} instead." if other else "a single column.")
        )
        raise DataFormatError(msg)
    check_unique(samples, path=p, what="Xena matrix", kind="sample column", first_line=1)
    genes = table[id_col].astype(str).to_numpy()
    check_unique(genes, path=p, what="Xena matrix", kind="gene", first_line=line + 1)
    values = numeric_block(table[samples], path=p, what="Xena matrix", first_line=line + 1).T.copy()
    adata = ad.AnnData(X=values, obs=pd.DataFrame(index=pd.Index(samples)), var=pd.DataFrame(index=pd.Index(genes)))
    layer, pseudo = _UNITS[units]
    if layer is not None:
        top = float(np.nanmax(values)) if np.isfinite(values).any() else 0.0
        if top > _LOG2_MAX:
            msg = (
                f"Xena matrix {str(p)!r}: units={units!r} but values reach {top:.4g}; log2 expression never "
                f"exceeds about {_LOG2_MAX:g} (2**{_LOG2_MAX:g} reads), so these look like linear values (raw "
                "counts?). Pass units='linear' for raw counts, or check the file's units on the Xena hub."
            )
            raise DataFormatError(msg)
        back = np.exp2(values) - pseudo
        if layer == "counts":
            rounded = np.rint(back)
            off = np.nanmax(np.abs(back - rounded) / np.maximum(back, 1.0)) if back.size else 0.0
            if off > 1e-4:
                msg = f"Xena matrix {str(p)!r}: 2**x-1 differs from whole numbers by up to {off:.2%}; are these log2(count+1) values?"
                warnings.warn(msg, UserWarning, stacklevel=2)
            back = rounded
        adata.layers[layer] = np.clip(back, 0, None)
    adata.uns["xena"] = {"units": units, "log2": units.startswith("log2"), "pseudocount": pseudo, "id_column": id_col}
    return adata
