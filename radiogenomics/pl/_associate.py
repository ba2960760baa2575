"""Plots of association maps written by :func:`radiogenomics.integrate.associate`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._utils import require_mudata
from ..errors import MissingResultError
from ..get import result
from ._utils import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mudata import MuData

__all__ = ["associate_heatmap", "volcano"]


def _stored_map(mdata: MuData, key: str) -> dict:
    """The stored matrices of an association map (as written by ``rg.integrate.associate``)."""
    stored = result(mdata, key)
    if "r" not in stored:
        msg = f"uns[{key!r}] holds no association matrices; re-run rg.integrate.associate(mdata, key_added={key!r})."
        raise MissingResultError(msg)
    return stored


def _top_positions(p: np.ndarray, axis: int, top: int) -> np.ndarray:
    """Positions of the ``top`` rows (axis=1) or columns (axis=0) with the smallest p-value."""
    with np.errstate(all="ignore"):
        best = np.nan_to_num(np.nanmin(np.where(np.isnan(p), np.inf, p), axis=axis), nan=np.inf)
    return np.argsort(best, kind="stable")[:top]


def _leaf_order(values: np.ndarray) -> np.ndarray:
    from scipy.cluster.hierarchy import leaves_list, linkage

    if values.shape[0] < 3:
        return np.arange(values.shape[0])
    return leaves_list(linkage(np.nan_to_num(values), method="average", metric="euclidean"))


def _stars(padj: float) -> str:
    if not np.isfinite(padj):
        return ""
    return "***" if padj <= 0.001 else "**" if padj <= 0.01 else "*" if padj <= 0.05 else ""


def associate_heatmap(
    mdata: MuData,
    *,
    key: str = "associate",
    ax: Axes | None = None,
    top: int = 20,
    cluster: bool = True,
    cmap: str = "RdBu_r",
) -> Axes:
    """Draw the association map of the most significant features as a heatmap with significance marks.

    Rows are the ``top`` x features and columns the ``top`` y features with the smallest
    p-values; cells show the correlation ``r``; ``*``, ``**``, ``***`` mark adjusted p-values
    at most 0.05, 0.01 and 0.001. With ``cluster=True`` rows and columns are ordered by
    average-linkage clustering of their correlation profiles (a clustermap without dendrograms).

    Parameters
    ----------
    mdata
        Cohort container after :func:`radiogenomics.integrate.associate`.
    key
        ``key_added`` of the association run.
    ax
        Axes to draw into; a new figure is made when ``None``.
    top
        Number of x features and of y features shown.
    cluster
        Order rows and columns by hierarchical clustering.
    cmap
        Diverging colour map, centred on 0.

    Returns
    -------
    The axes.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    >>> rg.integrate.associate(mdata, y="mut")
    >>> ax = rg.pl.associate_heatmap(mdata, top=8)
    >>> len(ax.get_yticklabels()), len(ax.get_xticklabels())
    (8, 8)
    """
    require_mudata(mdata, "pl.associate_heatmap")
    stored = _stored_map(mdata, key)
    p = np.asarray(stored["p"])
    xi, yi = _top_positions(p, 1, top), _top_positions(p, 0, top)
    xs = [str(v) for v in np.asarray(stored["x_features"])[xi]]
    ys = [str(v) for v in np.asarray(stored["y_features"])[yi]]
    r = pd.DataFrame(np.asarray(stored["r"])[np.ix_(xi, yi)].astype(float), index=xs, columns=ys)
    padj = pd.DataFrame(np.asarray(stored["padj"])[np.ix_(xi, yi)].astype(float), index=xs, columns=ys)
    if cluster:
        rows, cols = _leaf_order(r.to_numpy()), _leaf_order(r.to_numpy().T)
        r, padj = r.iloc[rows, cols], padj.iloc[rows, cols]
    ax = new_axes(ax, figsize=(1.5 + 0.35 * len(ys), 1.0 + 0.3 * len(xs)))
    lim = float(np.nanmax(np.abs(r.to_numpy()))) if np.isfinite(r.to_numpy()).any() else 1.0
    image = ax.imshow(r.to_numpy(), cmap=cmap, vmin=-lim, vmax=lim, aspect="auto", interpolation="nearest")
    for (i, j), value in np.ndenumerate(padj.to_numpy()):
        mark = _stars(value)
        if mark:
            ax.text(j, i, mark, ha="center", va="center", fontsize=7)
    ax.set_xticks(np.arange(len(r.columns)), r.columns, rotation=90, fontsize=7)
    ax.set_yticks(np.arange(len(r.index)), r.index, fontsize=7)
    params = mdata.uns[key].get("params", {})
    ax.set_xlabel(str(params.get("y", "y")))
    ax.set_ylabel(str(params.get("x", "x")))
    partial = "partial " if len(params.get("covariates", [])) else ""
    ax.figure.colorbar(image, ax=ax, label=f"{partial}{params.get('method', '')} r".strip())
    ax.set_title("Association map (* padj<=0.05, ** <=0.01, *** <=0.001)", fontsize=9)
    return ax


def volcano(
    mdata: MuData,
    *,
    key: str = "associate",
    ax: Axes | None = None,
    alpha: float = 0.05,
    label_top: int = 10,
    max_points: int = 200_000,
    **kwargs,
) -> Axes:
    """Draw a volcano plot of an association map: correlation against -log10 p.

    Pairs with adjusted p-value at most ``alpha`` are coloured, the ``label_top`` most
    significant pairs are labelled ``x | y``, and a dashed line marks the p-value cut-off that
    corresponds to ``alpha``. Maps with more than ``max_points`` pairs are thinned for drawing:
    every significant pair is drawn, non-significant ones are drawn at a regular stride.

    Parameters
    ----------
    mdata
        Cohort container after :func:`radiogenomics.integrate.associate`.
    key
        ``key_added`` of the association run.
    ax
        Axes to draw into; a new figure is made when ``None``.
    alpha
        Adjusted p-value threshold for colouring.
    label_top
        Number of pairs labelled.
    max_points
        Maximum number of non-significant points drawn.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter`.

    Returns
    -------
    The axes.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=200, seed=0)
    >>> rg.integrate.associate(mdata, y="mut")
    >>> ax = rg.pl.volcano(mdata, label_top=3)
    >>> ax.get_ylabel()
    '-log10 p'
    """
    require_mudata(mdata, "pl.volcano")
    stored = _stored_map(mdata, key)
    p_all = np.asarray(stored["p"]).reshape(-1)
    tested = np.flatnonzero(~np.isnan(p_all))
    p = p_all[tested].astype(float)
    sig = np.asarray(stored["padj"]).reshape(-1)[tested] <= alpha
    tiny = float(np.finfo(np.float32).smallest_subnormal)  # stored p-values are float32
    logp = -np.log10(np.maximum(p, tiny))
    r = np.asarray(stored["r"]).reshape(-1)[tested].astype(float)
    rest = np.flatnonzero(~sig)
    if len(rest) > max_points:
        rest = rest[:: int(np.ceil(len(rest) / max_points))]
    ax = new_axes(ax)
    many = len(p) > 50_000
    kwargs.setdefault("s", 6)
    ax.scatter(r[rest], logp[rest], color="0.6", rasterized=many, label=f"padj > {alpha}", **kwargs)
    ax.scatter(r[sig], logp[sig], color="tab:red", rasterized=many, label=f"padj <= {alpha}", **kwargs)
    if sig.any():
        ax.axhline(logp[sig].min(), color="0.3", linestyle="--", linewidth=0.8)
    x_names, y_names = np.asarray(stored["x_features"]), np.asarray(stored["y_features"])
    k = min(label_top, len(p))
    order = np.argpartition(p, k - 1)[:k] if 0 < k < len(p) else np.arange(k)
    order = order[np.lexsort((-np.abs(r[order]), p[order]))]
    for i in order:
        row, col = divmod(int(tested[i]), len(y_names))
        ax.annotate(
            f"{x_names[row]} | {y_names[col]}",
            (r[i], logp[i]),
            fontsize=6,
            xytext=(2, 2),
            textcoords="offset points",
        )
    ax.set_xlabel(f"{mdata.uns[key].get('params', {}).get('method', '')} r".strip())
    ax.set_ylabel("-log10 p")
    ax.legend(frameon=False, fontsize=7)
    return ax
