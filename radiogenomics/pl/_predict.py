"""Plots of imaging-to-molecular prediction (:func:`radiogenomics.integrate.predict`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._utils import require_mudata
from ..errors import ParameterError
from ..get import result
from ._utils import new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from mudata import MuData

__all__ = ["roc"]


def _area(curve) -> float:
    """Area under a drawn ROC curve (trapezoids; equals the Mann-Whitney AUC of its scores)."""
    from sklearn.metrics import auc

    return float(auc(curve["fpr"].to_numpy(), curve["tpr"].to_numpy()))


def roc(mdata: MuData, *, key: str = "predict", ax: Axes | None = None, **kwargs) -> Axes:
    """Draw the cross-validated ROC curves stored by :func:`radiogenomics.integrate.predict`.

    Thin lines are the repeats of the outer cross-validation; the thick line uses the
    out-of-fold scores averaged over repeats. The legend says which AUC belongs to which: the
    reported value (mean of the per-repeat AUCs, with its 95% interval) labels the repeats, and
    the thick curve is labelled with its own AUC (``metrics["averaged_scores"]``, the area under
    the drawn curve), which is usually a little higher because averaging smooths the scores.
    With one repeat there is one curve, labelled with the reported AUC and its interval.
    Multi-class results show one averaged curve per class (one-vs-rest) with its AUC.

    Parameters
    ----------
    mdata
        Cohort after ``predict`` (reads ``uns[key]["roc"]`` and ``["metrics"]``).
    key
        ``uns`` key written by ``predict``.
    ax
        Axes to draw into; a new figure is made when ``None``.
    **kwargs
        Passed to :meth:`matplotlib.axes.Axes.plot` for the thick curves.

    Returns
    -------
    The axes: the ROC curves with the chance diagonal and a legend of the AUCs.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    >>> rg.integrate.predict(mdata, "idh_mutant", model="logistic_l2", cv=3, repeats=2)
    >>> ax = rg.pl.roc(mdata)
    >>> [t.get_text().split(":")[0] for t in ax.get_legend().get_texts()]
    ['repeats', 'averaged scores']
    """
    require_mudata(mdata, "pl.roc")
    table = result(mdata, key, "roc")
    if table.empty:
        msg = f"uns[{key!r}] holds a continuous target: there is no ROC curve."
        raise ParameterError(msg)
    metrics = result(mdata, key, "metrics").iloc[0]
    ax = new_axes(ax, figsize=(4.5, 4.5))
    classes = list(dict.fromkeys(table["class"]))
    name = str(metrics["metric"]).replace("auc_macro", "macro AUC").replace("auc", "AUC")
    reported = f"{name} {metrics['value']:.3f} [{metrics['ci_lower']:.3f}, {metrics['ci_upper']:.3f}]"
    single = table.loc[table["repeat"] > 0, "repeat"].nunique() <= 1  # one repeat: its curve is the averaged one
    if len(classes) == 1 and not single:
        for repeat, curve in table[table["repeat"] > 0].groupby("repeat"):
            label = f"repeats: mean {reported}" if repeat == 1 else None
            ax.plot(curve["fpr"], curve["tpr"], color="grey", alpha=0.35, lw=0.8, label=label)
    for cls in classes:
        curve = table[(table["repeat"] == 0) & (table["class"] == cls)]
        label = f"averaged scores: AUC {_area(curve):.3f}" if len(classes) == 1 else f"{cls}: AUC {_area(curve):.3f}"
        label = f"out-of-fold scores: {reported}" if len(classes) == 1 and single else label
        ax.plot(curve["fpr"], curve["tpr"], lw=2, label=label, **kwargs)
    ax.plot([0, 1], [0, 1], ls="--", color="black", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    target = result(mdata, key, "params")["target"]
    ax.set_title(f"{target}" if len(classes) == 1 else f"{target}: mean {reported}")
    ax.legend(frameon=False, loc="lower right")
    ax.set_aspect("equal")
    return ax
