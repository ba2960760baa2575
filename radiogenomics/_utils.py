"""Helpers shared by several modules: modality access and value resolution."""

from __future__ import annotations

from os import PathLike
from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._keys import embedding, embedding_key, embedding_names
from .errors import DataFormatError, InputTypeError, MissingColumnError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = [
    "bootstrap_indices",
    "dense",
    "get_modality",
    "modality_frame",
    "require_mudata",
    "resolve_keys",
    "train_mask",
]


def dense(matrix) -> np.ndarray:
    """Return a dense float array for a (possibly sparse) matrix."""
    return np.asarray(matrix.toarray() if sp.issparse(matrix) else matrix, dtype=np.float64)


def require_mudata(obj: object, func_name: str) -> None:
    """Raise unless ``obj`` is a MuData cohort (called first by every function that takes ``mdata``).

    An AnnData, a DataFrame or a path passed where a cohort is expected otherwise fails deep inside
    with ``AttributeError: 'AnnData' object has no attribute 'mod'``.

    Parameters
    ----------
    obj
        The argument passed as ``mdata``.
    func_name
        Public name of the calling function, e.g. ``"survival.cox"``.

    Raises
    ------
    InputTypeError
        Names the function, the type received and how to make a cohort from it.

    Examples
    --------
    >>> import anndata as ad
    >>> import numpy as np
    >>> require_mudata(ad.AnnData(np.zeros((2, 1))), "survival.cox")
    Traceback (most recent call last):
    ...
    radiogenomics.errors.InputTypeError: rg.survival.cox expects a MuData cohort as mdata, got an AnnData (2 x 1); wrap it: mudata.MuData({"rna": adata}) (name the modality), or build the cohort with rg.io.build_mudata({"rna": adata}, clinical=clinical).
    """
    from ._compat import md

    if isinstance(obj, md.MuData):
        return
    if isinstance(obj, ad.AnnData):
        got = f"an AnnData ({obj.n_obs} x {obj.n_vars})"
        fix = 'wrap it: mudata.MuData({"rna": adata}) (name the modality), or build the cohort with'
    elif isinstance(obj, pd.DataFrame):
        got = f"a DataFrame ({obj.shape[0]} x {obj.shape[1]})"
        fix = "build the cohort with"
    elif isinstance(obj, str | PathLike):
        got = f"a path ({str(obj)!r})"
        fix = "read it first: mdata = rg.io.read_h5mu(path), or build the cohort with"
    else:
        got = "None" if obj is None else f"a {type(obj).__name__}"
        fix = "build the cohort with"
    msg = (
        f"rg.{func_name} expects a MuData cohort as mdata, got {got}; {fix} "
        'rg.io.build_mudata({"rna": adata}, clinical=clinical).'
    )
    raise InputTypeError(msg)


def get_modality(data: MuData | ad.AnnData, mod: str | None) -> ad.AnnData:
    """Return the AnnData of modality ``mod`` (or ``data`` itself when it is an AnnData)."""
    if isinstance(data, ad.AnnData):
        return data
    if mod not in data.mod:
        msg = f"Modality {mod!r} not found; the cohort has {list(data.mod)}. Pass mod=<one of these>."
        raise MissingColumnError(msg)
    return data.mod[mod]


def modality_frame(mdata: MuData, mod: str, *, layer: str | None = None) -> pd.DataFrame:
    """Return modality ``mod`` as a patients x features DataFrame aligned to ``mdata.obs_names``.

    Patients without that modality get missing rows.
    """
    adata = get_modality(mdata, mod)
    values = dense(adata.layers[layer] if layer else adata.X)
    frame = pd.DataFrame(values, index=adata.obs_names, columns=adata.var_names)
    return frame.reindex(mdata.obs_names)


def _resolve_one(mdata: MuData, key: str) -> pd.Series:
    if key in mdata.obs.columns:
        return mdata.obs[key]
    if ":" in key:
        prefix, name = key.split(":", 1)
        if prefix in mdata.mod:
            adata = mdata.mod[prefix]
            if name not in adata.var_names:
                msg = f"Feature {name!r} not found in modality {prefix!r} ({adata.n_vars} features, e.g. {list(adata.var_names[:3])})."
                raise MissingColumnError(msg)
            col = dense(adata[:, name].X).ravel()
            return pd.Series(col, index=adata.obs_names, name=key).reindex(mdata.obs_names)
        emb = embedding_key(prefix)
        if emb in mdata.obsm:
            values = embedding(mdata, prefix).to_numpy()
            k = int(name) if name.isdigit() else 0
            if not 1 <= k <= values.shape[1]:
                msg = (
                    f"{key!r}: obsm[{emb!r}] has {values.shape[1]} columns; use {prefix}:1..{prefix}:{values.shape[1]}."
                )
                raise MissingColumnError(msg)
            return pd.Series(values[:, k - 1], index=mdata.obs_names, name=key)
    msg = (
        f"{key!r} not found: not a column of mdata.obs (e.g. {list(mdata.obs.columns[:5])}), nor '<mod>:<feature>' "
        f"with a modality in {list(mdata.mod)}, nor '<name>:<k>' for an embedding obsm['X_<name>'] "
        f"(stored: {embedding_names(mdata)})."
    )
    raise MissingColumnError(msg)


def resolve_keys(mdata: MuData, keys: Sequence[str]) -> pd.DataFrame:
    """Return the values named by ``keys`` as a patients x keys DataFrame.

    ``"age"`` is a column of ``mdata.obs``; ``"rna:TP53"`` is feature ``TP53`` of modality
    ``rna``; ``"mofa:1"`` is column 1 (1-based) of ``mdata.obsm["X_mofa"]``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> from radiogenomics._utils import resolve_keys
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> resolve_keys(mdata, ["age", "mut:IDH1"]).shape
    (20, 2)
    """
    if isinstance(keys, str):
        keys = [keys]
    return pd.DataFrame({key: _resolve_one(mdata, key) for key in keys}, index=mdata.obs_names)


def bootstrap_indices(n: int, n_boot: int, seed: int) -> np.ndarray:
    """Return ``n_boot`` x ``n`` row indices of bootstrap resamples (with replacement).

    The one bootstrap of the package: row ``b`` is the ``b``-th resample of
    ``numpy.random.default_rng(seed)``, the same draws as ``rng.integers(0, n, n)`` called
    ``n_boot`` times.

    Examples
    --------
    >>> bootstrap_indices(5, 2, seed=0).shape
    (2, 5)
    """
    return np.random.default_rng(seed).integers(0, n, size=(n_boot, n))


def train_mask(data: MuData | ad.AnnData, train, *, where: str = "train") -> np.ndarray:
    """Return a boolean mask of the training patients of ``data``.

    ``train`` is ``None`` (all patients), a boolean mask of length ``n_obs``, the name of a
    boolean ``obs`` column, or a list of patient IDs (``obs_names``).

    Raises
    ------
    MissingColumnError
        ``train`` names no ``obs`` column.
    DataFormatError
        Values that are neither booleans nor patient IDs of ``data``.
    ValueError
        A mask of the wrong length, or one that selects nobody.

    Examples
    --------
    >>> import anndata as ad
    >>> import numpy as np
    >>> adata = ad.AnnData(np.zeros((3, 1)))
    >>> adata.obs_names = ["a", "b", "c"]
    >>> train_mask(adata, ["a", "c"]).tolist()
    [True, False, True]
    """
    n = data.n_obs
    if train is None:
        return np.ones(n, dtype=bool)
    if isinstance(train, str):
        if train not in data.obs.columns:
            msg = f"{where}: train={train!r} is not a column of obs; pass a boolean column, a mask or patient IDs."
            raise MissingColumnError(msg)
        train = data.obs[train]
    if isinstance(train, pd.Series):
        boolean = pd.api.types.is_bool_dtype(train.dtype)
        train = train.to_numpy(dtype=bool, na_value=False) if boolean else train.to_numpy()
    mask = np.asarray(train)
    if mask.dtype != bool:
        ids = pd.Index([str(v) for v in mask.ravel()])
        unknown = ids.difference(data.obs_names)
        if len(unknown):
            msg = (
                f"{where}: train must be a boolean mask of length {n}, an obs column or patient IDs; "
                f"{len(unknown)} of its values are not patient IDs (e.g. {list(unknown[:3])})."
            )
            raise DataFormatError(msg)
        mask = data.obs_names.isin(ids)
    if mask.shape != (n,) or not mask.any():
        msg = f"{where}: train must select at least one of the {n} patients (boolean mask, obs column or patient IDs)."
        raise ParameterError(msg)
    return mask
