"""Plots of MOFA factors."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._keys import embedding
from .._utils import require_mudata, resolve_keys
from ..get import result
from ._utils import level_text, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mudata import MuData

__all__ = ["factor_scatter", "mofa_variance"]


def mofa_variance(
    mdata: MuData, *, key: str = "mofa", group: str | None = None, ax: Axes | None = None, **kwargs
) -> Axes:
    """Draw the variance explained (%) per view and factor as a heatmap.

    Parameters
    ----------
    mdata
        Cohort after :func:`radiogenomics.integrate.mofa` (reads ``uns[key]["variance"]``).
    key
        ``uns`` key written by ``mofa`` (``"mofa"``, or its ``key_added``).
    group
        MOFA group to show; the first group when ``None``.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.imshow` (e.g. ``cmap``).

    Returns
    -------
    The axes: the views x factors image of R² (%) with its values written in the cells.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> rg.integrate.mofa(mdata, mods=["radiomics"], n_factors=3, scale_features=True, max_iter=100)
    >>> ax = rg.pl.mofa_variance(mdata)
    >>> ax.get_ylabel(), ax.get_title()
    ('view', 'Variance explained (%)')
    """
    require_mudata(mdata, "pl.mofa_variance")
    table = result(mdata, key, "variance")
    group = table["group"].iloc[0] if group is None else group
    wide = table[table["group"] == group].pivot(index="view", columns="factor", values="r2_percent")
    wide = wide[sorted(wide.columns, key=lambda f: int("".join(filter(str.isdigit, f)) or 0))]
    ax = new_axes(ax, figsize=(1.0 + 0.6 * wide.shape[1], 1.2 + 0.5 * wide.shape[0]))
    image = ax.imshow(wide.to_numpy(), aspect="auto", cmap=kwargs.pop("cmap", "Blues"), vmin=0, **kwargs)
    top = np.nanmax(wide.to_numpy()) if wide.size else 0.0
    for (i, j), v in np.ndenumerate(wide.to_numpy()):  # white on the dark cells, so that every value reads
        ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=8, color="white" if v > 0.6 * top else "black")
    ax.set_xticks(range(wide.shape[1]), wide.columns, rotation=90)
    ax.set_yticks(range(wide.shape[0]), wide.index)
    ax.set_xlabel("factor")
    ax.set_ylabel("view")
    several = table["group"].nunique() > 1  # the group name only where there is a choice of groups
    ax.set_title(f"Variance explained (%), {group}" if several else "Variance explained (%)")
    ax.figure.colorbar(image, ax=ax, label="R² (%)")
    return ax


def factor_scatter(
    mdata: MuData,
    *,
    x: int = 1,
    y: int = 2,
    color: str | None = None,
    key: str = "mofa",
    ax: Axes | None = None,
    **kwargs,
) -> Axes:
    """Scatter two factors per patient, coloured by a clinical column or a mutation.

    Parameters
    ----------
    mdata
        Cohort with factors in ``obsm[f"X_{key}"]``.
    x
        Factor on the x axis (1-based, as ``Factor1``).
    y
        Factor on the y axis (1-based).
    color
        ``mdata.obs`` column or ``"<mod>:<feature>"`` key (e.g. ``"mut:IDH1"``); categories and
        booleans get a legend (booleans as ``yes``/``no``), numbers a colour bar; missing values are grey.
    key
        Name of the embedding (``key_added`` of :func:`radiogenomics.integrate.mofa`).
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter` for the patients (e.g. ``s``).

    Returns
    -------
    The axes: one point per patient, with a legend of the levels or a colour bar of ``color``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> mdata.obsm["X_mofa"] = mdata.uns["truth"]["factors"].to_numpy()
    >>> ax = rg.pl.factor_scatter(mdata, x=1, y=2, color="mut:IDH1")
    >>> ax.get_xlabel(), ax.get_legend().get_title().get_text()
    ('Factor1', 'mut:IDH1')
    """
    require_mudata(mdata, "pl.factor_scatter")
    values = embedding(mdata, key).to_numpy()
    ax = new_axes(ax, figsize=(5, 4.5))
    fx, fy = values[:, x - 1], values[:, y - 1]
    kwargs.setdefault("s", 18)
    if color is None:
        ax.scatter(fx, fy, **kwargs)
    else:
        c = resolve_keys(mdata, [color])[color]
        numeric = pd.api.types.is_numeric_dtype(c) and not pd.api.types.is_bool_dtype(c) and c.nunique() > 2
        missing = c.isna().to_numpy()
        ax.scatter(fx[missing], fy[missing], color="lightgrey", label="NA", **kwargs)
        if numeric:
            points = ax.scatter(fx[~missing], fy[~missing], c=c[~missing].to_numpy(float), **kwargs)
            ax.figure.colorbar(points, ax=ax, label=color)
        else:
            labels = c.astype(str)
            for level in sorted(labels[~missing].unique()):
                mask = (labels == level).to_numpy() & ~missing
                ax.scatter(fx[mask], fy[mask], label=level_text(level), **kwargs)
            ax.legend(title=color, frameon=False)
    ax.set_xlabel(f"Factor{x}")
    ax.set_ylabel(f"Factor{y}")
    return ax
