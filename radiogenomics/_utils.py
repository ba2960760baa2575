"""Helpers shared by several modules: modality access and value resolution."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anndata as ad
import numpy as np
import pandas as pd
import scipy.sparse as sp

from ._keys import embedding, embedding_key, embedding_names
from .errors import MissingColumnError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["dense", "get_modality", "modality_frame", "resolve_keys", "survival_arrays"]


def dense(matrix) -> np.ndarray:
    """Return a dense float array for a (possibly sparse) matrix."""
    return np.asarray(matrix.toarray() if sp.issparse(matrix) else matrix, dtype=np.float64)


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


def survival_arrays(obs: pd.DataFrame, time: str, event: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(time, event, usable)`` arrays from survival columns, with clear errors.

    ``usable`` marks patients with both a time and an event status; times must be >= 0.
    """
    for col in (time, event):
        if col not in obs.columns:
            msg = f"Column {col!r} not found in mdata.obs; survival columns are '<endpoint>_months'/'<endpoint>_event', available: {[c for c in obs.columns if c.endswith(('_months', '_event'))]}."
            raise MissingColumnError(msg)
    t = pd.to_numeric(obs[time], errors="coerce").to_numpy(dtype=float)
    ev_raw = obs[event]
    usable = ~np.isnan(t) & ev_raw.notna().to_numpy()
    ev = ev_raw.astype("boolean").fillna(value=False).to_numpy(dtype=bool)
    if (t[usable] < 0).any():
        bad = list(obs.index[usable & (t < 0)][:5])
        msg = f"Negative times in {time!r} for patients {bad}; survival times must be >= 0."
        raise ValueError(msg)
    return t, ev, usable
