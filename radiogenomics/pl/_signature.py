"""Plots of signature validation: calibration, time-dependent AUC, decision curve, risk scores, nomogram."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .._utils import require_mudata
from ..get import result
from ._utils import at_time, event_name, interval_bars, level_text, new_axes, survival_at, time_label

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mudata import MuData

__all__ = ["calibration", "decision_curve", "nomogram", "risk_distribution", "time_auc"]


def calibration(mdata: MuData, *, key: str = "evaluate", ax: Axes | None = None, **kwargs) -> Axes:
    """Plot predicted versus Kaplan-Meier observed risk by risk group, stored by :func:`radiogenomics.survival.evaluate`.

    Points are the risk groups at the stored ``calibration_time``: predicted risk of the event
    by then (1 - predicted survival) against the observed risk (1 - Kaplan-Meier survival)
    with its 95% interval; the diagonal is perfect calibration. Axis labels name the event
    and the time point with its unit (read from the time column's name, e.g. ``os_months``);
    the calibration slope is in the title.

    Parameters
    ----------
    mdata
        Cohort with ``mdata.uns[key]["calibration"]``.
    key
        Key of the stored evaluation.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.errorbar` for the risk groups.

    Returns
    -------
    The axes: one point with its interval per risk group, the diagonal, and the slope in the title.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, seed=0)
    >>> mdata.obs["score"] = mdata.uns["truth"]["factors"]["F1"]
    >>> rg.survival.evaluate(mdata, "score", n_boot=5)
    >>> rg.pl.calibration(mdata).get_xlabel()
    'predicted risk of death by 9.63 months'
    """
    require_mudata(mdata, "pl.calibration")
    table = result(mdata, key, "calibration")
    params = result(mdata, key, "params")
    slope = result(mdata, key, "calibration_slope").iloc[0]
    ax = new_axes(ax, figsize=(4.5, 4.5))
    # survival -> risk of the event by t0: 1 - S, so the interval bounds swap
    risk = 1 - table[["predicted", "observed", "observed_upper", "observed_lower"]].to_numpy(dtype=float)
    interval_bars(ax, risk[:, 0], risk[:, 1], risk[:, 2], risk[:, 3], **{"fmt": "o", **kwargs})
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    by = _by(params)
    ax.set_xlabel(f"predicted risk of {by}")
    ax.set_ylabel(f"observed risk of {by} (Kaplan-Meier)")
    ci = f"95% CI {slope['ci_lower']:.2f} to {slope['ci_upper']:.2f}"  # a hyphen reads as a minus sign
    ax.set_title(
        f"calibration at {at_time(params['calibration_time'], params['time'])}: slope {slope['slope']:.2f} ({ci})"
    )
    return ax


def _by(params: dict) -> str:
    """``"death by 12 months"``: the event and the time point of an evaluation."""
    return f"{event_name(params['event'])} by {at_time(params['calibration_time'], params['time'])}"


def time_auc(mdata: MuData, *, key: str = "evaluate", ax: Axes | None = None, **kwargs) -> Axes:
    """Plot the time-dependent (cumulative/dynamic) AUC with its bootstrap interval.

    Parameters
    ----------
    mdata
        Cohort with ``mdata.uns[key]["auc"]`` from :func:`radiogenomics.survival.evaluate`.
    key
        Key of the stored evaluation.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.errorbar` for the AUC at each time.

    Returns
    -------
    The axes: the AUC with its interval at each stored time and the line of chance (0.5).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, seed=0)
    >>> mdata.obs["score"] = mdata.uns["truth"]["factors"]["F1"]
    >>> rg.survival.evaluate(mdata, "score", n_boot=5)
    >>> rg.pl.time_auc(mdata).get_ylabel()
    'time-dependent AUC'
    """
    require_mudata(mdata, "pl.time_auc")
    table = result(mdata, key, "auc")
    ax = new_axes(ax)
    interval_bars(ax, table["time"], table["auc"], table["ci_lower"], table["ci_upper"], **{"fmt": "o-", **kwargs})
    ax.axhline(0.5, color="grey", linestyle="--", linewidth=1)
    ax.set_ylim(0.3, 1)
    ax.set_xlabel(time_label(result(mdata, key, "params")["time"]))
    ax.set_ylabel("time-dependent AUC")
    return ax


def decision_curve(mdata: MuData, *, key: str = "evaluate", ax: Axes | None = None, **kwargs) -> Axes:
    """Plot the decision curve (net benefit against threshold probability) of an evaluated risk score.

    Parameters
    ----------
    mdata
        Cohort with ``mdata.uns[key]["decision_curve"]`` from :func:`radiogenomics.survival.evaluate`.
    key
        Key of the stored evaluation.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for the model's curve.

    Returns
    -------
    The axes: the model's net benefit curve with the treat-all and treat-none lines.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, seed=0)
    >>> mdata.obs["score"] = mdata.uns["truth"]["factors"]["F1"]
    >>> rg.survival.evaluate(mdata, "score", n_boot=5)
    >>> rg.pl.decision_curve(mdata).get_ylabel()
    'net benefit'
    """
    require_mudata(mdata, "pl.decision_curve")
    table = result(mdata, key, "decision_curve")
    ax = new_axes(ax)
    x = table["threshold"]
    ax.plot(x, table["net_benefit_model"], **{"color": "black", "label": "risk score", **kwargs})
    ax.plot(x, table["net_benefit_all"], color="grey", linestyle="--", label="treat all")
    ax.plot(x, table["net_benefit_none"], color="grey", linestyle=":", label="treat none")
    top = float(np.nanmax(table[["net_benefit_model", "net_benefit_all"]].to_numpy()))
    ax.set_ylim(-0.05, max(top, 0.05) * 1.1)
    ax.set_xlabel(f"threshold probability (risk of {_by(result(mdata, key, 'params'))})")
    ax.set_ylabel("net benefit")
    ax.legend(frameon=False)
    return ax


def risk_distribution(mdata: MuData, *, key: str = "evaluate", ax: Axes | None = None, **kwargs) -> Axes:
    """Plot the distribution of an evaluated risk score in patients with and without an observed event.

    Parameters
    ----------
    mdata
        Cohort with ``mdata.uns[key]["params"]`` naming the risk, time and event columns.
    key
        Key of the stored evaluation (:func:`radiogenomics.survival.evaluate`).
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.scatter` for the patient points.

    Returns
    -------
    The axes: a box and jittered points of the risk score for censored patients and for events.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, seed=0)
    >>> mdata.obs["score"] = mdata.uns["truth"]["factors"]["F1"]
    >>> rg.survival.evaluate(mdata, "score", n_boot=5)
    >>> [t.get_text() for t in rg.pl.risk_distribution(mdata).get_xticklabels()]
    ['censored', 'event']
    """
    require_mudata(mdata, "pl.risk_distribution")
    params = result(mdata, key, "params")
    risk = mdata.obs[params["risk"]].to_numpy(dtype=float)
    event = mdata.obs[params["event"]].astype("boolean").to_numpy(dtype=bool, na_value=False)
    keep = ~np.isnan(risk) & mdata.obs[params["event"]].notna().to_numpy()
    ax = new_axes(ax, figsize=(4, 4))
    groups = [risk[keep & ~event], risk[keep & event]]
    ax.boxplot(groups, positions=[0, 1], widths=0.5, showfliers=False)
    rng = np.random.default_rng(0)
    for pos, values in enumerate(groups):
        jitter = rng.uniform(-0.15, 0.15, len(values))
        ax.scatter(pos + jitter, values, **{"s": 8, "alpha": 0.5, "color": "C3" if pos else "C0", **kwargs})
    ax.set_xticks([0, 1], ["censored", "event"])
    ax.set_ylabel(f"{params['risk']} (higher = worse)")
    return ax


def nomogram(mdata: MuData, *, key: str = "nomogram", ax: Axes | None = None) -> Axes:
    """Draw a nomogram from the points tables stored by :func:`radiogenomics.survival.nomogram`.

    One axis per covariate with its values placed at their points, a total-points axis, and
    the linear predictor and survival probabilities at the stored times under it, as R's
    ``plot(rms::nomogram(...))``. Boolean levels are written ``yes``/``no``; the survival
    axes are named with their time and unit (e.g. ``12-month survival probability``, the unit
    read from the Cox model's time column such as ``os_months``).

    Parameters
    ----------
    mdata
        Cohort with ``mdata.uns[key]``.
    key
        Key of the stored nomogram.
    ax
        Axes to draw into; a new figure is made when ``None``.

    Returns
    -------
    The axes: one scale per row (``ax.get_yticklabels()`` names them), its values in ``ax.texts``.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, seed=0)
    >>> rg.survival.cox(mdata, ["age", "idh_mutant"])
    >>> rg.survival.nomogram(mdata, times=[12])
    >>> [t.get_text() for t in rg.pl.nomogram(mdata).get_yticklabels()][:3]
    ['Points', 'age', 'idh_mutant']
    """
    require_mudata(mdata, "pl.nomogram")
    points = result(mdata, key, "points")
    totals = result(mdata, key, "total_points")
    covariates = list(dict.fromkeys(points["covariate"]))
    surv_cols = [c for c in totals.columns if c.startswith("survival_")]
    model = mdata.uns.get(str(result(mdata, key, "params").get("key")), {})
    time = model.get("params", {}).get("time", "")  # the Cox model's time column gives the unit
    labels = ["Points", *covariates, "Total points", "Linear predictor"]
    labels += [survival_at(float(c.removeprefix("survival_")), time) for c in surv_cols]
    ax = new_axes(ax, figsize=(8, 0.5 * len(labels) + 0.5))
    y = np.arange(len(labels))[::-1].astype(float)
    max_total = float(totals["total_points"].max())

    def draw(row, xs, texts):
        xs = np.asarray(xs, dtype=float)
        ax.plot([xs.min(), xs.max()], [row, row], color="black", linewidth=1)
        for x, text in zip(xs, texts, strict=True):
            ax.plot([x, x], [row, row + 0.12], color="black", linewidth=1)
            ax.text(x, row + 0.18, text, ha="center", va="bottom", fontsize=7)

    ticks = np.linspace(0, 100, 11)
    draw(y[0], ticks, [f"{t:g}" for t in ticks])
    for i, cov in enumerate(covariates, start=1):
        sub = points[points["covariate"] == cov]
        draw(y[i], sub["points"], [level_text(v) for v in sub["value"]])
    scale = 100 / max(max_total, 1e-12)
    total_ticks = np.linspace(0, max_total, 9)
    row = len(covariates) + 1
    draw(y[row], total_ticks * scale, [f"{t:.0f}" for t in total_ticks])
    lin = np.interp(total_ticks, totals["total_points"], totals["linear_predictor"])
    draw(y[row + 1], total_ticks * scale, [f"{v:.1f}" for v in lin])
    for j, col in enumerate(surv_cols, start=row + 2):
        probs = np.array([0.95, 0.9, 0.8, 0.7, 0.5, 0.3, 0.2, 0.1, 0.05])
        surv = totals[col].to_numpy()
        inside = (probs <= surv.max()) & (probs >= surv.min())
        # survival decreases with total points: interpolate on the reversed arrays
        at = np.interp(probs[inside], surv[::-1], totals["total_points"].to_numpy()[::-1])
        if inside.any():
            draw(y[j], at * scale, [f"{p:g}" for p in probs[inside]])
    ax.set_yticks(y, labels)
    ax.set_xticks([])
    ax.set_xlim(-5, 105)
    ax.set_ylim(-0.7, len(labels) - 0.3)
    for side in ("top", "right", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title("Nomogram", fontsize=9)
    return ax
