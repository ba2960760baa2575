"""Read and write cohorts as ``.h5mu`` files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import anndata as ad
import h5py
import numpy as np
import pandas as pd

from .._compat import expected_duplicate_names, md, restore_obs_dtypes
from ..errors import DataFormatError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from os import PathLike

    from mudata import MuData

__all__ = ["read_h5mu", "write_h5mu"]

_SCALARS = (str, int, float, bool, np.integer, np.floating, np.bool_, type(None))


def _walk(value: object, where: str) -> Iterator[tuple[str, str]]:
    """Yield ``(location, problem)`` for values h5mu cannot store."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or "/" in key:
                yield f"{where}[{key!r}]", "keys must be strings without '/'"
            yield from _walk(item, f"{where}[{key!r}]")
    elif isinstance(value, pd.DataFrame):
        for col in value.columns:
            if not isinstance(col, str) or "/" in col:
                yield f"{where} column {col!r}", "column names must be strings without '/'"
            elif value[col].dtype == object and not value[col].dropna().map(lambda v: isinstance(v, str)).all():
                yield f"{where} column {col!r}", "object column with non-string values (lists, mixed types)"
    elif isinstance(value, list | tuple):
        if not all(isinstance(v, _SCALARS) for v in value):
            yield where, "lists may only hold plain values; store a DataFrame instead"
    elif not isinstance(value, (*_SCALARS, np.ndarray, pd.Series)):
        yield where, f"{type(value).__name__} objects cannot be stored (store tables, arrays and plain values)"


def _problems(mdata: MuData) -> list[str]:
    found = [f"{w}: {p}" for w, p in _walk(dict(mdata.uns), "mdata.uns")]
    found += [f"mdata.obs column {c!r}: names must not contain '/'" for c in mdata.obs.columns if "/" in str(c)]
    for name, mod in mdata.mod.items():
        found += [f"{w}: {p}" for w, p in _walk(dict(mod.uns), f"mdata.mod[{name!r}].uns")]
        found += [
            f"mdata.mod[{name!r}].obs column {c!r}: names must not contain '/'"
            for c in mod.obs.columns
            if "/" in str(c)
        ]
    return found


def write_h5mu(mdata: MuData, path: PathLike[str] | str) -> Path:
    """Write a cohort, with every stored result, to an ``.h5mu`` file.

    The content is checked first so that a result h5mu cannot hold fails with the key to fix
    instead of an HDF5 error halfway through writing.

    Parameters
    ----------
    mdata
        Cohort container.
    path
        Output file; the parent folder is created.

    Returns
    -------
    The path written.

    Raises
    ------
    DataFormatError
        When a stored value cannot be written (names the key and the problem).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = rg.io.write_h5mu(mdata, pathlib.Path(tmp) / "cohort.h5mu")
    ...     rg.io.read_h5mu(path).shape == mdata.shape
    True
    """
    problems = _problems(mdata)
    if problems:
        msg = "Cannot write this cohort to h5mu:\n  " + "\n  ".join(problems[:20])
        raise DataFormatError(msg)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mdata.write_h5mu(path)
    return path


def read_h5mu(path: PathLike[str] | str) -> MuData:
    """Read a cohort written by :func:`write_h5mu`.

    Parameters
    ----------
    path
        An ``.h5mu`` file.

    Returns
    -------
    The cohort with all modalities, clinical ``obs`` and stored results.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> rg.io.read_h5mu("missing.h5mu")
    Traceback (most recent call last):
    ...
    FileNotFoundError: No cohort file at 'missing.h5mu'; write one with rg.io.write_h5mu(mdata, path).
    """
    path = Path(path)
    if not path.exists():
        msg = f"No cohort file at {str(path)!r}; write one with rg.io.write_h5mu(mdata, path)."
        raise FileNotFoundError(msg)
    with expected_duplicate_names():
        mdata = md.read_h5mu(path)
    # mudata rebuilds the global obs through convert_dtypes (float age -> Int64); the file holds the
    # clinical columns as written, so they are read back with those dtypes.
    with h5py.File(path, "r") as handle:
        stored = ad.io.read_elem(handle["obs"])
    return restore_obs_dtypes(mdata, stored)
