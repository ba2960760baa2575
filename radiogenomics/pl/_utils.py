"""Shared plotting helpers: new axes, time units and time points in axis labels."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes

# last word of a time column's name (``os_months``, ``week``) -> unit written on the axis
_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}
_UNITS |= {unit: unit for unit in _UNITS.values()}
# first word of an event column's name (``os_event``) -> the event, in words
_EVENTS = {"os": "death", "dss": "death from the disease", "pfs": "progression or death"}
_EVENTS |= {"dfs": "recurrence or death", "rfs": "recurrence or death"}


def new_axes(ax: Axes | None, figsize: tuple[float, float] = (6, 4)) -> Axes:
    """Return ``ax``, or the axes of a new figure (shown inline in Jupyter)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def interval_bars(ax: Axes, at, estimate, lower, upper, *, horizontal: bool = False, **kwargs) -> None:
    """Draw estimates with their (asymmetric) interval as black capped error bars; ``kwargs`` override the style."""
    import numpy as np

    estimate = np.asarray(estimate, dtype=float)
    err = [estimate - np.asarray(lower, dtype=float), np.asarray(upper, dtype=float) - estimate]
    style = {"color": "black", "capsize": 3, **kwargs}
    if horizontal:
        ax.errorbar(estimate, at, xerr=err, **style)
    else:
        ax.errorbar(at, estimate, yerr=err, **style)


def time_unit(column: object) -> str:
    """Unit of a time column read from its name (``"os_months"`` -> ``"months"``); ``""`` when the name has none."""
    return _UNITS.get(str(column).lower().rsplit("_", 1)[-1], "")


def time_label(column: object) -> str:
    """Axis label of a time column: ``"time (months)"``, or the column name when it has no unit."""
    unit = time_unit(column)
    return f"time ({unit})" if unit else str(column)


def at_time(t: float, column: object) -> str:
    """A time point with the unit of ``column``: ``"12 months"`` (``"12"`` when the unit is not known)."""
    return f"{round(float(t), 2):g} {time_unit(column)}".strip()


def survival_at(t: float, column: object) -> str:
    """``"12-month survival probability"`` (``"survival probability at 12"`` without a unit)."""
    unit = time_unit(column)
    if not unit:
        return f"survival probability at {round(float(t), 2):g}"
    return f"{round(float(t), 2):g}-{unit.removesuffix('s')} survival probability"


def event_name(column: object) -> str:
    """The event of an event column in words (``"os_event"`` -> ``"death"``; ``"the event"`` when not known)."""
    return _EVENTS.get(str(column).lower().split("_", 1)[0], "the event")


def level_text(value: object) -> str:
    """A covariate level as written on a plot: booleans as ``yes``/``no``, anything else as it is."""
    return {"True": "yes", "False": "no"}.get(str(value), str(value))
