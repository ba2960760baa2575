"""Nomogram points tables from a stored Cox model, as R's ``rms::nomogram``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._compat import copy_mudata
from .._keys import score_column
from .._utils import require_mudata
from ..errors import ParameterError
from ..get import result
from ._design import design_matrix
from ._metrics import baseline_hazard, survival_at
from ._outcome import survival_columns

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["nomogram"]


def pretty(lo: float, hi: float, n: int = 10) -> np.ndarray:
    """Round axis values covering ``[lo, hi]`` in about ``n`` steps, as R's ``pretty()`` (default biases)."""
    h, h5 = 1.5, 0.5 + 1.5 * 1.5
    cell = (hi - lo) / n if hi > lo else max(abs(lo), 1.0)
    base = 10 ** np.floor(np.log10(cell))
    unit = base
    if 2 * base - cell < h * (cell - unit):
        unit = 2 * base
        if 5 * base - cell < h5 * (cell - unit):
            unit = 5 * base
            if 10 * base - cell < h * (cell - unit):
                unit = 10 * base
    start = np.floor(lo / unit + 1e-7)
    stop = np.ceil(hi / unit - 1e-7)
    return np.round(np.arange(start, stop + 0.5) * unit, 12)


def _axis_values(x: np.ndarray) -> np.ndarray:
    """Axis values of a continuous covariate: ``pretty()`` over its observed range, as ``rms::nomogram``."""
    return pretty(float(np.min(x)), float(np.max(x)))


def _contributions(design: pd.DataFrame, terms: pd.DataFrame, coef: pd.Series) -> pd.DataFrame:
    """One row per covariate value: ``covariate, value, x, contribution`` (``beta * x`` summed over its terms)."""
    rows = []
    for cov, group in terms.groupby("covariate", sort=False):
        kind = group["kind"].iloc[0]
        if kind == "numeric":
            beta = coef[cov]
            for x in _axis_values(design[cov].to_numpy()):
                rows.append((cov, f"{x:g}", float(x), beta * x))
        elif kind == "boolean":
            rows += [(cov, "False", 0.0, 0.0), (cov, "True", 1.0, float(coef[group["term"].iloc[0]]))]
        else:
            rows.append((cov, str(group["reference"].iloc[0]), np.nan, 0.0))
            rows += [(cov, str(r.level), np.nan, float(coef[r.term])) for r in group.itertuples()]
    return pd.DataFrame(rows, columns=["covariate", "value", "x", "contribution"])


def nomogram(
    mdata: MuData,
    *,
    key: str = "cox",
    times: Sequence[float] | None = None,
    key_added: str = "nomogram",
    copy: bool = False,
) -> MuData | None:
    """Build the points tables of a nomogram for a Cox model fitted by :func:`radiogenomics.survival.cox`.

    As R's ``rms::nomogram``: each covariate's contribution ``beta * x`` is shifted to start at 0
    and scaled so that the covariate with the widest range of contributions spans 100 points;
    the total points map linearly to the linear predictor and, through the Breslow baseline
    hazard of the model's patients, to the survival probability at ``times``. Numeric axes are
    R's ``pretty()`` values over the observed range (about 10 intervals, ``rms::nomogram``'s
    default); categorical and boolean covariates list their levels. Points match
    ``rms::nomogram`` (tested against rms 6.5).

    Parameters
    ----------
    mdata
        Cohort container with a stored Cox model.
    key
        Key of the :func:`radiogenomics.survival.cox` result (without strata).
    times
        Time points of the survival axes; default the quartiles of the follow-up times.
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.uns[key_added]["points"]``
        ``covariate, value, x, contribution, points`` for each axis tick.
    ``mdata.uns[key_added]["total_points"]``
        ``total_points, linear_predictor`` and ``survival_<t>`` columns for 101 total-point values.
    ``mdata.uns[key_added]["params"]``
        ``key``, ``times``, ``points_per_unit`` (points per unit of linear predictor), ``lp_at_zero``.
    ``mdata.obs[f"{key_added}_points"]``
        Each patient's total points (missing when a covariate is missing).

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=100, seed=0)
    >>> rg.survival.cox(mdata, ["age", "idh_mutant"])
    >>> rg.survival.nomogram(mdata, times=[12, 24])
    >>> round(float(mdata.uns["nomogram"]["points"]["points"].max()), 6)
    100.0
    """
    require_mudata(mdata, "survival.nomogram")
    mdata = copy_mudata(mdata) if copy else mdata
    stored = result(mdata, key)
    params = stored["params"]
    if params.get("strata"):
        msg = f"uns[{key!r}] is a stratified Cox model; a nomogram needs one baseline hazard. Refit without strata."
        raise ParameterError(msg)
    coef = stored["summary"]["coef"]
    terms = stored["terms"]
    design, _ = design_matrix(mdata, params["covariates"])
    t, e, usable = survival_columns(mdata.obs, params["time"], params["event"], where="nomogram")
    rows = usable & design.notna().all(axis=1).to_numpy()
    center = terms.set_index("term")["center"].reindex(coef.index).to_numpy()
    lp = (design[coef.index].to_numpy(dtype=float) - center) @ coef.to_numpy()
    table = _contributions(design.loc[rows], terms, coef)
    low = table.groupby("covariate", sort=False)["contribution"].transform("min")
    spans = table.groupby("covariate", sort=False)["contribution"].agg(lambda c: c.max() - c.min())
    scale = 100 / spans.max()
    table["points"] = scale * (table["contribution"] - low)
    lp_at_zero = float(table.groupby("covariate", sort=False)["contribution"].min().sum() - center @ coef.to_numpy())
    at = np.quantile(t[rows], [0.25, 0.5, 0.75]).round(1) if times is None else np.asarray(times, dtype=float)
    base = baseline_hazard(lp[rows], t[rows], e[rows])
    total = np.linspace(0, float(table.groupby("covariate")["points"].max().sum()), 101)
    lin = lp_at_zero + total / scale
    surv = survival_at(base, lin, at)
    totals = pd.DataFrame({"total_points": total, "linear_predictor": lin})
    for j, ti in enumerate(at):
        totals[f"survival_{ti:g}"] = surv[:, j]
    mdata.obs[score_column(key_added, "points")] = np.where(
        design.notna().all(axis=1), (lp - lp_at_zero) * scale, np.nan
    )
    mdata.uns[key_added] = {
        "points": table,
        "total_points": totals,
        "params": {
            "key": key,
            "times": [float(x) for x in at],
            "points_per_unit": float(scale),
            "lp_at_zero": lp_at_zero,
            "n": int(rows.sum()),
        },
    }
    return mdata if copy else None
