"""Plots of radiomic feature quality: ICC distribution, feature correlation, harmonisation."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._compat import stored_matrix
from .._utils import dense, get_modality
from ..errors import MissingResultError
from ._utils import new_axes

if TYPE_CHECKING:
    import anndata as ad
    from matplotlib.axes import Axes
    from mudata import MuData

__all__ = ["feature_correlation", "harmonization_pca", "icc_distribution"]


def _ecdf(ax: Axes, values: np.ndarray, **kwargs) -> None:
    values = np.sort(values[np.isfinite(values)])
    if len(values):
        ax.step(values, np.arange(1, len(values) + 1) / len(values), where="post", **kwargs)


def icc_distribution(
    data: pd.DataFrame | MuData | ad.AnnData,
    *,
    mod: str = "radiomics",
    key: str = "filter_features",
    threshold: float | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Plot the cumulative distribution of feature ICCs, with the threshold and negative controls.

    The solid line is the ICC of every feature (fraction of features with ICC at most x). When
    voxel-shuffled negative controls were computed (:func:`radiogenomics.imaging.robustness`),
    the dashed line is their ICC (agreement between original and shuffled images) and the
    legend counts the texture features flagged as carrying no more than the histogram and noise.

    Parameters
    ----------
    data
        The table returned by :func:`radiogenomics.imaging.robustness` or
        :func:`radiogenomics.imaging.icc`, or a cohort where
        :func:`radiogenomics.imaging.filter_features` stored one (``mod.uns[key]["icc"]``).
    mod
        Modality holding the stored result.
    key
        ``key_added`` of :func:`radiogenomics.imaging.filter_features`.
    threshold
        ICC threshold drawn as a vertical line; default the stored ``min_icc``.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.step` for the feature ICC line.

    Returns
    -------
    The axes: the cumulative ICC lines, the threshold line and a legend with the counts.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> import radiogenomics as rg
    >>> table = pd.DataFrame({"icc": np.linspace(0, 1, 50), "icc_shuffled": np.linspace(0.5, 1, 50)})
    >>> ax = rg.pl.icc_distribution(table, threshold=0.75)
    >>> ax.get_xlabel()
    'ICC'
    """
    if isinstance(data, pd.DataFrame):
        table, stored = data, None
    else:
        adata = get_modality(data, mod)
        if key not in adata.uns or "icc" not in adata.uns[key]:
            msg = f"No ICC table in uns[{key!r}]['icc'] of {mod!r}; run rg.imaging.filter_features(..., icc=<robustness table>) or pass the table itself."
            raise MissingResultError(msg)
        table, stored = pd.DataFrame(adata.uns[key]["icc"]), adata.uns[key].get("params", {})
    if threshold is None and stored is not None:
        threshold = stored.get("min_icc")
    ax = new_axes(ax)
    icc = table["icc"].to_numpy(dtype=float)
    _ecdf(ax, icc, label=f"features (n={np.isfinite(icc).sum()})", **kwargs)
    if "icc_shuffled" in table:
        flagged = int(table["negative_control"].sum()) if "negative_control" in table else 0
        _ecdf(
            ax,
            table["icc_shuffled"].to_numpy(dtype=float),
            color="0.5",
            linestyle="--",
            label=f"voxel-shuffled controls ({flagged} texture features flagged)",
        )
    if threshold is not None and np.isfinite(threshold):
        below = int((icc < threshold).sum())
        ax.axvline(threshold, color="C3", linestyle=":", label=f"threshold {threshold:g} ({below} below)")
    ax.set_xlabel("ICC")
    ax.set_ylabel("fraction of features")
    ax.set_xlim(min(-0.05, np.nanmin(icc, initial=0.0) - 0.05), 1.02)
    ax.legend(loc="upper left", frameon=False, fontsize="small")
    ax.set_title("Feature robustness")
    return ax


def _spearman(x: np.ndarray) -> np.ndarray:
    ranks = pd.DataFrame(x).rank().to_numpy()
    ranks = np.where(np.isnan(ranks), np.nanmean(ranks, axis=0), ranks)
    return np.corrcoef(ranks, rowvar=False)


def feature_correlation(
    data: MuData | ad.AnnData,
    *,
    mod: str = "radiomics",
    features: list[str] | None = None,
    layer: str | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Plot the feature-feature Spearman correlation matrix ordered by hierarchical clustering.

    Features are ordered by average-linkage clustering on the distance ``1 - |rho|``, so
    blocks of redundant features (what :func:`radiogenomics.imaging.filter_features` prunes
    with ``max_corr``) appear as squares on the diagonal.

    Parameters
    ----------
    data
        Cohort (MuData) or AnnData of radiomic features.
    mod
        Modality to plot.
    features
        Features to show; default all (feature names are written when there are at most 60).
    layer
        Layer to use instead of ``X`` (e.g. ``"raw"``).
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` for the correlation image (e.g. ``cmap``).

    Returns
    -------
    The axes: the clustered features x features image (``ax.images[0]``) with a colour bar.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=40, seed=0)
    >>> ax = rg.pl.feature_correlation(mdata)
    >>> ax.images[0].get_array().shape
    (100, 100)
    """
    from scipy.cluster.hierarchy import leaves_list, linkage
    from scipy.spatial.distance import squareform

    adata = get_modality(data, mod)
    names = list(adata.var_names if features is None else features)
    x = dense(stored_matrix(adata, layer or None)[:, adata.var_names.get_indexer(names)])
    r = np.nan_to_num(_spearman(x), nan=0.0)
    dist = np.clip(1 - np.abs(r), 0, None)
    np.fill_diagonal(dist, 0)
    order = (
        leaves_list(linkage(squareform(dist, checks=False), method="average"))
        if len(names) > 2
        else np.arange(len(names))
    )
    ax = new_axes(ax, figsize=(6, 5))
    im = ax.imshow(r[np.ix_(order, order)], cmap=kwargs.pop("cmap", "RdBu_r"), vmin=-1, vmax=1, **kwargs)
    ax.figure.colorbar(im, ax=ax, label="Spearman correlation", shrink=0.8)
    if len(names) <= 60:
        labels = [names[i] for i in order]
        ax.set_xticks(range(len(names)), labels, rotation=90, fontsize="xx-small")
        ax.set_yticks(range(len(names)), labels, fontsize="xx-small")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_title(f"{len(names)} features, clustered")
    return ax


def harmonization_pca(
    data: MuData | ad.AnnData,
    *,
    mod: str = "radiomics",
    key: str = "harmonize",
    layer: str | None = None,
    color: str | None = None,
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Plot patients on the first two principal components, coloured by site, before or after harmonisation.

    Call it twice to compare: ``layer="raw"`` (values before
    :func:`radiogenomics.imaging.harmonize`) and ``layer=None`` (harmonised ``X``). Features
    are z-scored before the PCA. The title gives the share of PC1 and PC2 variance explained
    by the site (eta squared); near 0 after a successful harmonisation.

    Parameters
    ----------
    data
        Cohort (MuData) or AnnData harmonised by :func:`radiogenomics.imaging.harmonize`.
    mod
        Modality to plot.
    key
        ``key_added`` of :func:`radiogenomics.imaging.harmonize` (gives the batch column).
    layer
        ``"raw"`` for the values before harmonisation; ``None`` for ``X``.
    color
        Column used for colours; default the harmonisation's ``batch_key``.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter` for the patients of each batch.

    Returns
    -------
    The axes: PC1 against PC2, one point set per batch, the batch's share of variance in the title.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, seed=0)
    >>> rg.imaging.harmonize(mdata, batch_key="site")
    >>> ax = rg.pl.harmonization_pca(mdata, layer="raw")
    >>> ax.get_title().startswith("before")
    True
    """
    adata = get_modality(data, mod)
    if key not in adata.uns or "params" not in adata.uns[key]:
        msg = f"No harmonisation in uns[{key!r}] of {mod!r}; run rg.imaging.harmonize first."
        raise MissingResultError(msg)
    if layer is not None and layer not in adata.layers:
        msg = f"Layer {layer!r} not found in {mod!r} (layers: {list(adata.layers)})."
        raise MissingResultError(msg)
    color = color or str(adata.uns[key]["params"]["batch_key"])
    groups = adata.obs[color] if color in adata.obs else data.obs[color].reindex(adata.obs_names)
    x = dense(adata.layers[layer] if layer else adata.X)
    x = x[:, np.isfinite(x).all(axis=0)]
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    u, s, _ = np.linalg.svd(z, full_matrices=False)
    pcs = u[:, :2] * s[:2]
    explained = s[:2] ** 2 / (s**2).sum()
    labels = groups.astype(str).to_numpy()
    eta = []
    for j in range(2):
        pc = pcs[:, j]
        within = sum(((pc[labels == g] - pc[labels == g].mean()) ** 2).sum() for g in np.unique(labels))
        eta.append(1 - within / ((pc - pc.mean()) ** 2).sum())
    ax = new_axes(ax)
    size = kwargs.pop("s", 14)
    for i, g in enumerate(np.unique(labels)):
        sel = labels == g
        ax.scatter(pcs[sel, 0], pcs[sel, 1], s=size, color=f"C{i % 10}", label=g, **kwargs)
    ax.set_xlabel(f"PC1 ({explained[0]:.0%})")
    ax.set_ylabel(f"PC2 ({explained[1]:.0%})")
    state = "before (layers['raw'])" if layer == "raw" else f"after ({layer or 'X'})"
    ax.set_title(f"{state}: {color} explains {eta[0]:.0%} of PC1, {eta[1]:.0%} of PC2", fontsize="medium")
    ax.legend(title=color, frameon=False, fontsize="small")
    return ax
