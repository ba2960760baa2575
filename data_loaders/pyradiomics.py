"""pyradiomics batch output (CSV) -> AnnData."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd

from radiogenomics.errors import DataFormatError

from ._common import as_path, check_unique, header_fields, numeric_block, read_delimited

if TYPE_CHECKING:
    from os import PathLike

__all__ = ["read_pyradiomics_csv"]

FEATURE_CLASSES = ("shape", "shape2D", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm")
_FEATURE = re.compile(rf"^[A-Za-z0-9.\-]+_({'|'.join(FEATURE_CLASSES)})_[A-Za-z0-9]+$")


def read_pyradiomics_csv(
    path: PathLike[str] | str,
    *,
    id_column: str,
    id_pattern: str | None = None,
) -> ad.AnnData:
    r"""Read the CSV written by pyradiomics batch extraction into patients x features.

    Feature columns are those named ``<image type>_<feature class>_<feature>`` (e.g.
    ``original_glcm_Contrast``, ``wavelet-LLH_firstorder_Mean``,
    ``log-sigma-2-0-mm-3D_glszm_ZoneEntropy``); everything else (``diagnostics_*``, ``Image``,
    ``Mask`` and the input columns of the batch file) goes to ``obs``. A blank-named first
    column (a pandas index written with the table) is dropped.

    Parameters
    ----------
    path
        Comma-separated pyradiomics output.
    id_column
        Column holding the patient (or sample) ID, e.g. ``"ID"``, ``"patient_id"`` or
        ``"Image"`` together with ``id_pattern``.
    id_pattern
        Regular expression whose first match in ``id_column`` is the ID, e.g. ``r"R01-\d+"``
        to take ``R01-012`` from ``.../images/R01-012.nii``.

    Returns
    -------
    AnnData with one row per ID:

    ``X`` (float64)
        Feature values.
    ``var``
        ``image_type``, ``feature_class``, ``feature`` (``name.split("_", 2)``).
    ``obs``
        Diagnostics and path columns (numeric diagnostics as numbers), and ``source_id`` (the
        text of ``id_column``) when ``id_pattern`` is used.

    Raises
    ------
    MissingColumnError
        ``id_column`` is absent.
    DataFormatError
        Duplicated IDs or feature names, an ID not matching ``id_pattern``, non-numeric
        feature values, no feature columns; the message names the file, line and column.

    Examples
    --------
    >>> import data_loaders as dl
    >>> rad = dl.read_pyradiomics_csv(dl.example_file("pyradiomics_features"), id_column="patient_id")
    >>> rad.shape
    (4, 10)
    >>> rad.var.loc["log-sigma-2-0-mm-3D_glcm_Contrast"].tolist()
    ['log-sigma-2-0-mm-3D', 'glcm', 'Contrast']
    """
    p = as_path(path, "pyradiomics")
    fields = header_fields(p, 0, ",", what="pyradiomics")
    named = [f for f in fields if f.strip()]
    check_unique(named, path=p, what="pyradiomics", kind="column name", first_line=1)
    table, line = read_delimited(
        p,
        what="pyradiomics",
        sep=",",
        comment=None,
        required=[id_column],
        dtype=str,
        keep_default_na=False,
        na_values=[""],
    )
    table = table.drop(columns=[c for c in table.columns if c.startswith("Unnamed: ")])
    ids = table[id_column].fillna("")
    if id_pattern is not None:
        found = ids.str.extract(f"({id_pattern})", expand=False)
        if found.isna().any():
            row = int(np.flatnonzero(found.isna().to_numpy())[0])
            msg = f"pyradiomics file {str(p)!r}, line {line + 1 + row}, column {id_column!r}: {ids.iat[row]!r} does not match id_pattern {id_pattern!r}."
            raise DataFormatError(msg)
        source, ids = ids, found
    check_unique(ids, path=p, what="pyradiomics", kind="ID", first_line=line + 1)
    features = [c for c in table.columns if _FEATURE.match(c) and c != id_column]
    if not features:
        msg = f"pyradiomics file {str(p)!r}: no feature columns named '<image type>_<class>_<feature>' (e.g. original_glcm_Contrast)."
        raise DataFormatError(msg)
    values = numeric_block(table[features], path=p, what="pyradiomics", first_line=line + 1)
    parts = [name.split("_", 2) for name in features]
    var = pd.DataFrame(parts, columns=["image_type", "feature_class", "feature"], index=pd.Index(features))
    obs = table.drop(columns=features).copy()
    for col in obs.columns:
        numeric = pd.to_numeric(obs[col], errors="coerce")
        if numeric.notna().sum() == obs[col].notna().sum() and obs[col].notna().any():
            obs[col] = numeric
        else:
            obs[col] = obs[col].fillna("").astype(str)
    if id_pattern is not None:
        obs["source_id"] = source.to_numpy()
    obs.index = pd.Index(ids.to_numpy(dtype=str))
    return ad.AnnData(X=values, obs=obs, var=var)
