"""Survival plots: Kaplan-Meier curves with a number-at-risk table, forest plot of hazard ratios."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._utils import require_mudata
from ..get import result
from ._utils import interval_bars, level_text, new_axes, time_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mudata import MuData


def _format_p(p: float) -> str:
    return f"p = {p:.2g}" if p >= 1e-4 else "p < 0.0001"


def _at_risk_table(ax: Axes, table, groups, colors, min_at_risk: int = 0) -> None:
    ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
    n_groups = len(groups)
    for row, group in enumerate(groups):
        sub = table[table["group"] == group]
        times, at_risk = sub["time"].to_numpy(), sub["at_risk"].to_numpy()
        counts = []
        for t in ticks:
            later = np.flatnonzero(times >= t)
            counts.append(int(at_risk[later[0]]) if later.size else 0)
        y = -0.2 - 0.07 * (row + 1)
        ax.text(-0.03, y, str(group), transform=ax.transAxes, ha="right", va="center", color=colors[row], fontsize=8)
        for t, n in zip(ticks, counts, strict=True):
            if n < min_at_risk:
                continue  # too few patients left for the estimate to be read
            ax.text(t, y, str(n), transform=ax.get_xaxis_transform(), ha="center", va="center", fontsize=8)
    ax.text(-0.03, -0.2, "at risk", transform=ax.transAxes, ha="right", va="center", fontsize=8, weight="bold")
    ax.set_xticks(ticks)
    if ax.figure.get_layout_engine() is None:
        ax.figure.subplots_adjust(bottom=min(0.5, 0.2 + 0.06 * n_groups))


def kaplan_meier(
    mdata: MuData,
    *,
    key: str = "kaplan_meier",
    ax: Axes | None = None,
    ci: bool = True,
    at_risk: bool = True,
    min_at_risk: int = 0,
    **kwargs,
) -> Axes:
    """Plot the Kaplan-Meier curves stored by :func:`radiogenomics.survival.kaplan_meier`.

    Censored patients are marked with ``+``; the log-rank p-value (if stored) goes in the
    title and a number-at-risk table is written under the axes at the x ticks. The time axis
    carries the unit read from the time column's name (``os_months`` -> ``time (months)``).

    Parameters
    ----------
    mdata
        Cohort with ``mdata.uns[key]``.
    key
        Key of the stored Kaplan-Meier result.
    ax
        Axes to draw into; a new figure is made when ``None``.
    ci
        Shade the pointwise confidence intervals.
    at_risk
        Add the number-at-risk table under the axes.
    min_at_risk
        Leave the number-at-risk cell empty where fewer than this many patients remain.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.step` for the survival curves.

    Returns
    -------
    The axes: one step curve per group with its interval and censoring marks; the at-risk numbers
    are in ``ax.texts``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> rg.survival.kaplan_meier(mdata, groupby="idh_mutant")
    >>> ax = rg.pl.kaplan_meier(mdata)
    >>> ax.get_ylabel()
    'survival probability'
    """
    require_mudata(mdata, "pl.kaplan_meier")
    table = result(mdata, key, "table")
    params = result(mdata, key, "params")
    ax = new_axes(ax, figsize=(6, 4.5))
    groups = list(dict.fromkeys(table["group"]))
    colors = []
    for group in groups:
        sub = table[table["group"] == group]
        t = np.concatenate([[0.0], sub["time"].to_numpy()])
        s = np.concatenate([[1.0], sub["survival"].to_numpy()])
        (line,) = ax.step(t, s, where="post", label=str(group), **kwargs)
        colors.append(line.get_color())
        if ci:
            lo = np.concatenate([[1.0], sub["ci_lower"].to_numpy()])
            hi = np.concatenate([[1.0], sub["ci_upper"].to_numpy()])
            ax.fill_between(t, lo, hi, step="post", alpha=0.15, color=line.get_color(), linewidth=0)
        cens = sub[sub["censored"] > 0]
        ax.plot(cens["time"], cens["survival"], "+", color=line.get_color(), markersize=6)
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel(time_label(params.get("time", "time")))
    ax.set_ylabel("survival probability")
    stored = mdata.uns[key]
    if "logrank" in stored:
        ax.set_title(f"log-rank {_format_p(float(stored['logrank']['p'].iloc[0]))}")
    if len(groups) > 1:
        ax.legend(title=params.get("groupby"), frameon=False)
    if at_risk:
        _at_risk_table(ax, table, groups, colors, min_at_risk)
    return ax


def _term_labels(stored: dict, index) -> list[str]:
    terms = stored.get("terms")
    if terms is None or "reference" not in terms:
        return [str(t) for t in index]
    ref = terms.set_index("term")
    out = []
    for term in index:
        row = ref.loc[term] if term in ref.index else None
        if row is not None and str(row["reference"]) not in ("", "nan", "None"):
            out.append(f"{row['covariate']} [{level_text(row['level'])} vs {level_text(row['reference'])}]")
        else:
            out.append(str(term))
    return out


def forest(mdata: MuData, *, key: str = "cox", ax: Axes | None = None, **kwargs) -> Axes:
    """Forest plot of the hazard ratios stored by :func:`radiogenomics.survival.cox`.

    Points are ``exp(coef)`` with 95% intervals on a log scale; the reference line is HR = 1.
    Categorical and boolean terms are labelled with their level and the reference level,
    e.g. ``grade [G3 vs G2]`` or ``idh_mutant [yes vs no]``.

    Parameters
    ----------
    mdata
        Cohort with ``mdata.uns[key]["summary"]``.
    key
        Key of the stored Cox model.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.errorbar` for the hazard ratios.

    Returns
    -------
    The axes: one hazard ratio with its interval per term (terms are the y tick labels), with
    the HR and p-value written at the right.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> rg.survival.cox(mdata, ["age", "idh_mutant"])
    >>> ax = rg.pl.forest(mdata)
    >>> ax.get_xlabel()
    'hazard ratio (95% CI)'
    """
    require_mudata(mdata, "pl.forest")
    summary = result(mdata, key, "summary")
    ax = new_axes(ax, figsize=(6, 0.6 + 0.45 * len(summary)))
    y = np.arange(len(summary))[::-1]
    hr = summary["exp(coef)"].to_numpy()
    lo = summary["exp(coef) lower 95%"].to_numpy()
    hi = summary["exp(coef) upper 95%"].to_numpy()
    interval_bars(ax, y, hr, lo, hi, horizontal=True, **{"fmt": "s", **kwargs})
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1)
    ax.set_xscale("log")
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_yticks(y, _term_labels(mdata.uns[key], summary.index))
    for yi, (h, p) in zip(y, zip(hr, summary["p"], strict=True), strict=True):
        ax.annotate(f"{h:.2f}  {_format_p(p)}", (1.02, yi), xycoords=("axes fraction", "data"), va="center", fontsize=8)
    ax.set_xlabel("hazard ratio (95% CI)")
    ax.set_ylim(-0.7, len(summary) - 0.3)
    return ax
