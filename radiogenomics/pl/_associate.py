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
    from collections.abc import Mapping

    from matplotlib.axes import Axes
    from matplotlib.transforms import Bbox
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


def _label_points(ax: Axes, xy: np.ndarray, labelled: np.ndarray, texts: list[str], fontsize: float = 6) -> None:
    """Label the points ``xy[labelled]``, in that order, so that no label overlaps another label or a point.

    Each label is written on the side of ``x = 0`` of its point (the empty inside of a volcano
    plot), ending just before the innermost point of ``xy`` at its height; it goes at the first
    height, from its point's outwards in steps of half a text line, where it overlaps no label
    placed before it and stays inside the axes. A thin line joins it to its point.
    """
    from matplotlib.text import Text

    if not len(texts):
        return
    figure = ax.figure.figure  # the root figure (also when ax is in a subfigure)
    figure.draw_without_rendering()  # final layout, so that data map to their final pixels
    px = ax.transData.transform(xy)
    zero = ax.transData.transform((0, 0))[0]
    frame = ax.get_window_extent()
    to_points = 72 / figure.dpi
    step = 0.65 * fontsize / to_points  # half a text line, in pixels
    placed: list[Bbox] = []
    for j, text in zip(labelled, texts, strict=True):
        x, y = px[j]
        side = -1 if x > zero else 1
        note = ax.annotate(
            text,
            xy[j],
            xytext=(0, 0),
            textcoords="offset points",  # scales with the dpi a figure is saved at
            ha="right" if side < 0 else "left",
            va="center",
            fontsize=fontsize,
            arrowprops={"arrowstyle": "-", "lw": 0.4, "color": "0.4", "shrinkA": 0, "shrinkB": 2},
        )
        for k in [*range(80), 0]:  # at the point's height when no free place is found
            slot = y + step * ((k + 1) // 2) * (1 if k % 2 else -1)  # y, y - step, y + step, y - 2 step, ...
            near = px[(np.abs(px[:, 1] - slot) < 2 * step) & ((px[:, 0] - zero) * side < 0), 0]
            end = (min(near.min(), x) if side < 0 else max(near.max(), x)) if len(near) else x
            note.xyann = ((end - x) * to_points + 4 * side, (slot - y) * to_points)
            note.get_window_extent()  # places the text at the new offset
            box = Text.get_window_extent(note)  # the text alone, without the joining line
            inside = frame.y0 <= box.y0 and box.y1 <= frame.y1
            if inside and not any(box.padded(1).overlaps(other) for other in placed):
                break
        placed.append(box)


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
    The axes: the correlation image (``ax.images[0]``), one ``*`` mark per significant cell in
    ``ax.texts`` and a colour bar of ``r``.

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
    ax.set_title("Association map (adjusted p: * \u2264 0.05, ** \u2264 0.01, *** \u2264 0.001)", fontsize=9)
    return ax


def volcano(
    mdata: MuData,
    *,
    key: str = "associate",
    ax: Axes | None = None,
    alpha: float = 0.05,
    label_top: int = 10,
    max_points: int = 200_000,
    labels: Mapping[str, str] | None = None,
    **kwargs,
) -> Axes:
    """Draw a volcano plot of an association map: correlation against -log10 p.

    Pairs with adjusted p-value at most ``alpha`` are coloured, the ``label_top`` most
    significant pairs are labelled ``x | y`` (labels stacked so that none overlaps another),
    and a dashed line labelled ``FDR 5%`` (for ``alpha=0.05``) marks the p-value cut-off that
    corresponds to ``alpha``: the largest p-value whose adjusted p-value is at most ``alpha``. Maps with more than ``max_points`` pairs are thinned for drawing:
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
    labels
        Readable names of features for the point labels (``{"original_glcm_Contrast": "GLCM
        contrast"}``); features not listed keep their names.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter` for both groups of pairs (e.g. ``s``, ``alpha``).

    Returns
    -------
    The axes: grey and red point sets (``ax.collections``), the FDR line (a ``Line2D`` labelled
    ``FDR 5%``) and one annotation per labelled pair in ``ax.texts``.

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
    n_sig = int(sig.sum())
    groups = (
        (rest, "0.6", f"> {alpha:g} ({len(p) - n_sig:,})"),
        (np.flatnonzero(sig), "tab:red", f"\u2264 {alpha:g} ({n_sig:,})"),
    )
    for idx, colour, text in groups:
        ax.scatter(r[idx], logp[idx], color=colour, rasterized=many, label=f"adj. p {text}", **kwargs)
    if sig.any():  # the p-value cut-off of the FDR: the largest p with padj <= alpha
        ax.axhline(logp[sig].min(), color="0.3", linestyle="--", linewidth=0.8, label=f"FDR {alpha * 100:g}%")
    ax.set_xlabel(f"{mdata.uns[key].get('params', {}).get('method', '')} r".strip())
    ax.set_ylabel("-log10 p")
    ax.legend(frameon=False, fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3)
    x_names, y_names = np.asarray(stored["x_features"]), np.asarray(stored["y_features"])
    readable = dict(labels or {})

    def name(feature: str) -> str:
        return readable.get(str(feature), str(feature))

    k = min(label_top, len(p))
    order = np.argpartition(p, k - 1)[:k] if 0 < k < len(p) else np.arange(k)
    order = order[np.lexsort((-np.abs(r[order]), p[order]))]
    names = [
        f"{name(x_names[row])} | {name(y_names[col])}"
        for row, col in (divmod(int(tested[i]), len(y_names)) for i in order)
    ]
    _label_points(ax, np.column_stack([r, logp]), order, names)
    return ax
