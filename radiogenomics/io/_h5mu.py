"""Read and write cohorts as ``.h5mu`` files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import anndata as ad
import h5py
import numpy as np
import pandas as pd

from .._compat import expected_duplicate_names, md, restore_obs_dtypes
from .._utils import require_mudata
from ..errors import DataFormatError, MissingFileError
from ._atomic import atomic_path
from ._text import compression

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


def _frame_problems(frame: pd.DataFrame, where: str) -> list[str]:
    """Column names with '/' and object columns mixing strings with other values (e.g. ``["I", 2]``)."""
    found = []
    for col in frame.columns:
        if "/" in str(col):
            found.append(f"{where} column {col!r}: names must not contain '/'")
        elif frame[col].dtype == object:
            kinds = sorted(
                {type(v).__name__ for v in frame[col] if not (v is None or (np.ndim(v) == 0 and pd.isna(v)))}
            )
            if len(kinds) > 1 or (kinds and kinds != ["str"]):
                found.append(
                    f"{where} column {col!r}: holds values of types {kinds}; convert it to one type, e.g. "
                    f"{where}[{str(col)!r}] = {where}[{str(col)!r}].astype('string') for text"
                )
    return found


def _problems(mdata: MuData) -> list[str]:
    found = [f"{w}: {p}" for w, p in _walk(dict(mdata.uns), "mdata.uns")]
    found += _frame_problems(mdata.obs, "mdata.obs") + _frame_problems(mdata.var, "mdata.var")
    for name, mod in mdata.mod.items():
        where = f"mdata.mod[{name!r}]"
        found += [f"{w}: {p}" for w, p in _walk(dict(mod.uns), f"{where}.uns")]
        found += _frame_problems(mod.obs, f"{where}.obs") + _frame_problems(mod.var, f"{where}.var")
        for key, value in [*mod.obsm.items(), *mod.varm.items()]:
            if isinstance(value, pd.DataFrame):
                found += _frame_problems(value, f"{where} embedding {key!r}")
    return found


def write_h5mu(mdata: MuData, path: PathLike[str] | str) -> Path:
    """Write a cohort, with every stored result, to an ``.h5mu`` file.

    The content is checked first so that a result h5mu cannot hold fails with the key to fix
    instead of an HDF5 error halfway through writing; nothing is written then. The file is
    written beside ``path`` under a temporary name, flushed to disk and renamed over ``path``,
    so a crash at any point leaves the earlier file whole (or the new one), never a truncated
    file.

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
        When a stored value cannot be written (names the key or column and the problem): values
        that are not tables, arrays or plain values, keys or column names with ``/``, and
        ``obs``/``var`` columns mixing text with numbers (``["I", 2, "III"]``).

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
    require_mudata(mdata, "io.write_h5mu")
    problems = _problems(mdata)
    if problems:
        msg = "Cannot write this cohort to h5mu:\n  " + "\n  ".join(problems[:20])
        raise DataFormatError(msg)
    path = Path(path)
    if path.is_dir():
        msg = f"write_h5mu: {str(path)!r} is a folder; pass a file path such as {str(path / 'cohort.h5mu')!r}."
        raise DataFormatError(msg)
    with atomic_path(path) as tmp:
        mdata.write_h5mu(tmp)
    return path


def _damaged(path: Path, err: OSError) -> DataFormatError:
    """The error for an HDF5 file that cannot be opened or read (truncated copy, damaged disk)."""
    size = path.stat().st_size
    msg = (
        f"read_h5mu: {str(path)!r} ({size:,} bytes) is truncated or damaged and cannot be read ({err}). The copy or "
        "download is incomplete, or writing was interrupted by a tool other than rg.io.write_h5mu: copy it again, "
        "or rebuild the cohort and write it with rg.io.write_h5mu (which never leaves a partial file)."
    )
    return DataFormatError(msg)


def read_h5mu(path: PathLike[str] | str, *, backed: bool = False) -> MuData:
    """Read a cohort written by :func:`write_h5mu`.

    Parameters
    ----------
    path
        An ``.h5mu`` file.
    backed
        Leave the modality matrices on disk (read in chunks by the functions that use them, e.g.
        :func:`radiogenomics.integrate.associate`); the file stays open while the cohort is used.

    Returns
    -------
    The cohort with all modalities, clinical ``obs`` and stored results.

    Raises
    ------
    FileNotFoundError
        When the file does not exist.
    DataFormatError
        When the path is a folder, the file is compressed (``cohort.h5mu.gz``) or not HDF5
        (e.g. a study YAML), an ``.h5ad`` without modalities, or the file is truncated or damaged
        (an interrupted copy); the message names the file and what to do.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> rg.io.read_h5mu("missing.h5mu")
    Traceback (most recent call last):
    ...
    radiogenomics.errors.MissingFileError: No cohort file at 'missing.h5mu'; write one with rg.io.write_h5mu(mdata, path).
    """
    path = Path(path)
    if not path.exists():
        msg = f"No cohort file at {str(path)!r}; write one with rg.io.write_h5mu(mdata, path)."
        raise MissingFileError(msg)
    packed = "" if path.is_dir() else compression(path)
    if packed:
        tool = {"gzip": "gunzip", "bzip2": "bunzip2", "xz": "unxz", "zip": "unzip"}[packed]
        msg = (
            f"read_h5mu: {str(path)!r} is {packed}-compressed; decompress it first ({tool} {path.name}) and pass "
            "the .h5mu file inside."
        )
        raise DataFormatError(msg)
    if path.is_dir() or not h5py.is_hdf5(path):
        what = "a folder" if path.is_dir() else "not an HDF5 file"
        hint = " (a study file: run it with `radiogenomics run`)" if path.suffix in {".yaml", ".yml"} else ""
        msg = f"read_h5mu: {str(path)!r} is {what}{hint}; pass a cohort written by rg.io.write_h5mu."
        raise DataFormatError(msg)
    try:
        # mudata rebuilds the global obs through convert_dtypes (float age -> Int64); the file holds
        # the clinical columns as written, so they are read back with those dtypes.
        with h5py.File(path, "r") as handle:
            if "mod" not in handle:
                msg = (
                    f"read_h5mu: {str(path)!r} is an HDF5 file without modalities (an .h5ad AnnData?); read it with "
                    'anndata.read_h5ad and wrap it: mudata.MuData({"rna": adata}).'
                )
                raise DataFormatError(msg)
            stored = ad.io.read_elem(handle["obs"])
        with expected_duplicate_names():
            mdata = md.read_h5mu(path, backed=backed)
    except OSError as err:
        raise _damaged(path, err) from None
    return restore_obs_dtypes(mdata, stored)
