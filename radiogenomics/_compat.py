"""Narrow adapters around mudata behaviour, applied only to the package's own calls.

Nothing here runs at import: no option is set, no dependency is patched and no global warnings
filter is added. Two mudata (>= 0.4) behaviours are handled where the package calls mudata:

- mudata warns ``var_names are not unique`` whenever a container is built, copied or read and
  the same feature name is in two modalities (``rna:EGFR`` and ``mut:EGFR``). The package always
  addresses features per modality, so that notice is expected; :func:`expected_duplicate_names`
  silences it around those calls only.
- mudata passes the global ``obs`` through :meth:`pandas.DataFrame.convert_dtypes` when it
  rebuilds a container (``MuData(...)``, ``copy()``, ``read_h5mu``): a float column of whole
  numbers (age, KPS) becomes ``Int64`` and a ``bool`` column becomes ``boolean``. Clinical
  columns keep the dtypes they were given (or were written with): :func:`copy_mudata`,
  :func:`update_mudata` and :func:`restore_obs_dtypes` put them back.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

import mudata as md
import pandas as pd

from .errors import MissingColumnError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import numpy as np
    from anndata import AnnData
    from mudata import MuData
    from scipy.sparse import spmatrix

__all__ = ["copy_mudata", "expected_duplicate_names", "md", "restore_obs_dtypes", "stored_matrix", "update_mudata"]


@contextmanager
def expected_duplicate_names() -> Iterator[None]:
    """Silence mudata's ``var_names are not unique`` notice inside the ``with`` block only."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"var_names are not unique", category=UserWarning)
        yield


def restore_obs_dtypes(mdata: MuData, reference: pd.DataFrame | pd.Series) -> MuData:
    """Give the global ``obs`` columns back the dtypes of ``reference``, in place.

    Parameters
    ----------
    mdata
        Container whose ``obs`` went through mudata's dtype conversion.
    reference
        The table as it was (values and dtypes), or only its dtypes (a Series column -> dtype).

    Returns
    -------
    ``mdata`` itself. Columns absent from ``reference`` are left as they are; a column whose
    values cannot take the old dtype is left unchanged rather than altered.
    """
    dtypes = reference if isinstance(reference, pd.Series) else reference.dtypes
    obs = mdata.obs
    for col, dtype in dtypes.items():
        if col not in obs.columns or obs[col].dtype == dtype:
            continue
        if isinstance(reference, pd.DataFrame) and reference.index.equals(obs.index):
            obs[col] = reference[col]
            continue
        try:
            obs[col] = obs[col].astype(dtype)
        except (TypeError, ValueError):  # e.g. missing values in a column that was plain bool
            continue
    return mdata


def copy_mudata[C: (MuData, AnnData)](mdata: C) -> C:
    """Return ``mdata.copy()`` with the clinical dtypes kept and no notice about shared names.

    Every public function's ``copy=True`` goes through here. An :class:`~anndata.AnnData` (accepted
    where a function takes either container) is copied the same way; its dtypes are kept anyway.
    """
    dtypes = mdata.obs.dtypes
    with expected_duplicate_names():
        out = mdata.copy()
    return restore_obs_dtypes(out, dtypes)


def update_mudata(mdata: MuData) -> None:
    """``mdata.update()`` (after adding or changing a modality) with the clinical dtypes kept, in place."""
    dtypes = mdata.obs.dtypes
    with expected_duplicate_names():
        mdata.update()
    restore_obs_dtypes(mdata, dtypes)


def stored_matrix(adata: AnnData, layer: str | None = None) -> np.ndarray | spmatrix:
    """``adata.layers[layer]`` (or ``adata.X``): the in-memory dense or sparse matrix the package works on.

    anndata types ``X`` as any of its storage backends (or ``None``); the package reads in-memory
    cohorts (backed ones are read chunkwise elsewhere), so this narrows the type once.

    Raises
    ------
    MissingColumnError
        The AnnData has no such matrix.
    """
    values = adata.X if layer is None else adata.layers[layer]
    if values is None:
        msg = f"The modality has no {'layer ' + repr(layer) if layer else 'X'} matrix; store the values first."
        raise MissingColumnError(msg)
    return cast("np.ndarray | spmatrix", values)
