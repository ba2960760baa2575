"""Plots of competing-risks incidence and of bootstrap-validated calibration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._utils import require_mudata
from ..get import result
from ._utils import at_time, event_name, new_axes, time_unit

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mudata import MuData

__all__ = ["calibration_curve", "cumulative_incidence"]


def cumulative_incidence(
    mdata: MuData, *, key: str = "cumulative_incidence", cause: str | None = None, ax: Axes | None = None
) -> Axes:
    """Step curves of cumulative incidence per group (and cause), stored by :func:`radiogenomics.survival.cumulative_incidence`.

    Parameters
    ----------
    mdata
        Cohort with ``mdata.uns[key]["table"]``.
    key
        Key of the stored result.
    cause
        Draw only this cause (label as stored); default every cause, one line style each.
    ax
        Axes to draw into; a new figure is made when ``None``.

    Returns
    -------
    The axes (x: time in the unit of the time column, e.g. months; y: cumulative incidence); Gray's
    p-values in the legend title.

    Examples
    --------
    >>> import numpy as np, radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    >>> died = mdata.obs["os_event"].to_numpy(dtype=bool)
    >>> mdata.obs["outcome"] = np.where(died, np.where(mdata.obs["idh_mutant"], 2, 1), 0)
    >>> rg.survival.cumulative_incidence(mdata, cause="outcome", groupby="site")
    >>> rg.pl.cumulative_incidence(mdata, cause="1").get_ylabel()
    'Cumulative incidence'
    """
    require_mudata(mdata, "pl.cumulative_incidence")
    table = result(mdata, key, "table")
    stored = mdata.uns[key]
    ax = new_axes(ax)
    causes = [cause] if cause is not None else list(dict.fromkeys(table["cause"]))
    styles = ["-", "--", ":", "-."]
    for i, c in enumerate(causes):
        for group, sub in table[table["cause"] == c].groupby("group", sort=False):
            label = f"{group}, cause {c}" if len(causes) > 1 else str(group)
            times = [0.0, *sub["time"].tolist()]
            values = [0.0, *sub["cif"].tolist()]
            ax.step(times, values, where="post", linestyle=styles[i % len(styles)], label=label)
    title = None
    if "tests" in stored:
        tests = stored["tests"].set_index("cause")
        title = "Gray's test: " + ", ".join(
            f"cause {c} p = {tests.loc[c, 'p']:.3g}" for c in causes if c in tests.index
        )
    ax.legend(title=title, frameon=False, fontsize="small")
    time = str(stored["params"]["time"])
    endpoint = time.rsplit("_", 1)[0].upper() if time_unit(time) and "_" in time else ""
    ax.set_xlabel(f"Time ({', '.join(filter(None, [endpoint, time_unit(time)]))})" if time_unit(time) else time)
    ax.set_ylabel("Cumulative incidence")
    ax.set_ylim(0, 1)
    return ax


def calibration_curve(mdata: MuData, *, key: str = "validate", ax: Axes | None = None) -> Axes:
    """Smooth calibration curve at time t, apparent and optimism-corrected, stored by :func:`radiogenomics.survival.validate`.

    Parameters
    ----------
    mdata
        Cohort with ``mdata.uns[key]["calibration"]``.
    key
        Key of the stored validation.
    ax
        Axes to draw into; a new figure is made when ``None``.

    Returns
    -------
    The axes: predicted versus observed risk of an event by ``t0``; the diagonal is perfect
    calibration; the integrated calibration index (apparent and corrected) in the legend.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=120, n_genes=100, seed=0)
    >>> rg.survival.validate(mdata, ["age", "idh_mutant"], n_boot=10)
    >>> rg.pl.calibration_curve(mdata).get_xlabel()[:14]
    'Predicted risk'
    """
    require_mudata(mdata, "pl.calibration_curve")
    table = result(mdata, key, "calibration")
    params = mdata.uns[key]["params"]
    ax = new_axes(ax, figsize=(4.5, 4.5))
    hi = float(max(table["predicted"].max(), table["observed"].max(), table["observed_corrected"].max()))
    hi = min(1.0, hi * 1.1)
    ax.plot([0, hi], [0, hi], color="grey", linestyle="--", linewidth=1, label="Perfect calibration")
    ax.plot(table["predicted"], table["observed"], color="tab:blue", label=f"Apparent (ICI {params['ici']:.3f})")
    ax.plot(
        table["predicted"],
        table["observed_corrected"],
        color="tab:red",
        label=f"Optimism-corrected, {params['n_used']} bootstraps (ICI {params['ici_corrected']:.3f})",
    )
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    ax.set_xlabel(f"Predicted risk of {event_name(params['event'])} by {at_time(params['t0'], params['time'])}")
    ax.set_ylabel("Observed risk (smooth, Cox on spline of cloglog risk)")
    ax.legend(frameon=False, fontsize="small")
    return ax
