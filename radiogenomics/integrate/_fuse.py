"""Early fusion: standardised modalities concatenated into one patient matrix."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from .._compat import copy_mudata
from .._keys import embedding_key
from .._utils import dense, get_modality, require_mudata
from ..errors import MissingColumnError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mudata import MuData

__all__ = ["fuse"]


def _scaled_block(mdata: MuData, mod: str, layer: str | None, *, block_scale: bool):
    adata = get_modality(mdata, mod)
    if layer is not None and layer not in adata.layers:
        msg = f"Layer {layer!r} not found in modality {mod!r} (layers: {list(adata.layers)})."
        raise MissingColumnError(msg)
    values = dense(adata.layers[layer] if layer is not None else adata.X)
    rows = mdata.obs_names.get_indexer(adata.obs_names)
    mean, sd = np.nanmean(values, axis=0), np.nanstd(values, axis=0)
    keep = np.isfinite(sd) & (sd > 0)
    z = (values[:, keep] - mean[keep]) / sd[keep]
    n_imputed = int(np.isnan(z).sum())
    z = np.nan_to_num(z, nan=0.0)  # missing cells take the feature mean
    weight = 1.0 / np.sqrt(keep.sum()) if block_scale else 1.0
    full = np.full((mdata.n_obs, int(keep.sum())), np.nan)
    full[rows] = z * weight
    table = pd.DataFrame(
        {
            "feature": np.asarray(adata.var_names[keep], dtype=str),
            "modality": mod,
            "mean": mean[keep],
            "sd": sd[keep],
            "weight": weight,
        }
    )
    return full, table, {"n_constant": int((~keep).sum()), "n_imputed_cells": n_imputed}


def fuse(
    mdata: MuData,
    mods: Sequence[str] = ("radiomics", "rna"),
    *,
    layers: Mapping[str, str] | None = None,
    scale: Literal["block", "feature"] = "block",
    key_added: str = "fused",
    copy: bool = False,
) -> MuData | None:
    """Concatenate standardised modalities into one patient x feature matrix (early fusion).

    Every feature is z-scored over the patients that have its modality; with ``scale="block"``
    each modality is then divided by the square root of its number of features, so every
    modality contributes the same total variance however many features it has (otherwise 20,000
    genes would swamp 100 radiomic features). Missing cells inside a modality are set to the
    feature mean (counted); patients without one of the modalities get missing rows (warned).
    Standardisation uses the whole cohort: for prediction, scale inside the training folds
    instead (as :func:`radiogenomics.integrate.predict` does).

    Parameters
    ----------
    mdata
        Cohort container.
    mods
        Modalities to fuse.
    layers
        Optional layer per modality (e.g. ``{"rna": "log_cpm"}``); ``X`` otherwise.
    scale
        ``"block"`` (equal total variance per modality) or ``"feature"`` (z-scores only).
    key_added
        Name of the result: the matrix goes to ``obsm[f"X_{key_added}"]`` (addressed as
        ``"<key_added>:<k>"``), the tables to ``uns[key_added]``.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.obsm[f"X_{key_added}"]`` : :class:`numpy.ndarray`
        Patients x fused features (missing rows for patients lacking a modality).
    ``mdata.uns[key_added]["features"]`` : :class:`pandas.DataFrame`
        One row per fused column: ``feature``, ``modality``, ``mean``, ``sd``, ``weight``.
    ``mdata.uns[key_added]["params"]`` : :class:`dict`
        Modalities, scaling, patients complete, constant features dropped and imputed cells per modality.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=40, n_genes=200, seed=0)
    >>> rg.integrate.fuse(mdata, ["radiomics", "mut"])
    >>> mdata.obsm["X_fused"].shape
    (40, 110)
    >>> mdata.uns["fused"]["features"]["modality"].value_counts().to_dict()
    {'radiomics': 100, 'mut': 10}
    """
    require_mudata(mdata, "integrate.fuse")
    if scale not in ("block", "feature"):
        msg = f"scale must be 'block' or 'feature', got {scale!r}."
        raise ParameterError(msg)
    if copy:
        mdata = copy_mudata(mdata)
    layers = dict(layers or {})
    blocks, tables = [], []
    params: dict[str, object] = {"mods": list(mods), "scale": scale}
    for mod in mods:
        full, table, info = _scaled_block(mdata, mod, layers.get(mod), block_scale=scale == "block")
        blocks.append(full)
        tables.append(table)
        params[f"layer_{mod}"] = layers.get(mod, "X")
        params.update({f"{k}_{mod}": v for k, v in info.items()})
    fused = np.hstack(blocks)
    complete = ~np.isnan(fused).any(axis=1)
    if not complete.all():
        warnings.warn(
            f"fuse: {int((~complete).sum())} patients lack one of {list(mods)}; their rows are missing.",
            UserWarning,
            stacklevel=2,
        )
    params["n_patients_complete"] = int(complete.sum())
    mdata.obsm[embedding_key(key_added)] = fused
    mdata.uns[key_added] = {"features": pd.concat(tables, ignore_index=True), "params": params}
    return mdata if copy else None
