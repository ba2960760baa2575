"""Plots of the cohort container itself."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._utils import require_mudata
from ._utils import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mudata import MuData


def pairing(mdata: MuData, *, ax: Axes | None = None, **kwargs) -> Axes:
    """Plot which modalities each patient has, as counts of patients per modality combination.

    Parameters
    ----------
    mdata
        Cohort built by :func:`radiogenomics.io.build_mudata` (reads ``obs["has_<mod>"]``).
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.barh` for the bars of patient counts.

    Returns
    -------
    The axes: one bar per combination of modalities, its count written at its end.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> ax = rg.pl.pairing(mdata)
    >>> ax.get_xlabel()
    'patients'
    """
    require_mudata(mdata, "pl.pairing")
    flags = [c for c in mdata.obs.columns if c.startswith("has_")]
    combos = (
        mdata.obs[flags].astype(bool).apply(lambda row: " + ".join(f[4:] for f in flags if row[f]) or "none", axis=1)
    )
    counts = combos.value_counts().sort_values()
    ax = new_axes(ax)
    ax.barh(np.arange(len(counts)), counts.to_numpy(), **kwargs)
    ax.set_yticks(np.arange(len(counts)), counts.index)
    for y, n in enumerate(counts.to_numpy()):
        ax.text(n, y, f" {n}", va="center")
    ax.set_xlabel("patients")
    ax.set_title("Modalities per patient")
    return ax
