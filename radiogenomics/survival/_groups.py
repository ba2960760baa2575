"""More than two risk groups (tertiles, quartiles, user cut-points) fitted on training patients."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._compat import copy_mudata
from .._utils import require_mudata, resolve_keys, train_mask
from ..errors import DataFormatError
from ._cut import applied_params
from ._km import logrank_test
from ._outcome import survival_columns

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mudata import MuData

__all__ = ["apply_risk_groups", "risk_groups"]


def _default_labels(k: int) -> list[str]:
    if k == 2:
        return ["low", "high"]
    if k == 3:
        return ["low", "intermediate", "high"]
    return [f"Q{i}" for i in range(1, k + 1)] if k == 4 else [f"G{i}" for i in range(1, k + 1)]


def _assign(values: pd.Series, cutpoints: np.ndarray, labels: list[str]) -> pd.Categorical:
    """Group ``i`` holds values in ``(c_{i-1}, c_i]`` (the lowest group includes its upper cut)."""
    x = values.to_numpy(dtype=float)
    codes = np.searchsorted(cutpoints, x, side="left")
    out = np.where(np.isnan(x), -1, codes)
    return pd.Categorical.from_codes(out, categories=labels)


def _store(mdata, values, cutpoints, labels, key_added, params, time, event) -> None:
    groups = _assign(values, cutpoints, labels)
    mdata.obs[key_added] = groups
    counts = pd.Series(groups).value_counts().reindex(labels, fill_value=0)
    empty = [lab for lab in labels if counts[lab] == 0]
    if empty:
        warnings.warn(
            f"risk groups {empty} of {key_added!r} are empty (tied values or cut-points {cutpoints.tolist()}); "
            "they are kept as empty categories. Use fewer groups or other cut-points.",
            UserWarning,
            stacklevel=3,
        )
    missing = int(values.isna().sum())
    if missing:
        warnings.warn(f"{missing} patients with a missing {params['score']!r} get no group.", UserWarning, stacklevel=3)
    bounds = np.concatenate([[-np.inf], cutpoints, [np.inf]])
    table = pd.DataFrame(
        {"group": labels, "lower": bounds[:-1], "upper": bounds[1:], "n": counts.to_numpy(dtype=int)}
    ).set_index("group")
    result = {"groups": table, "params": {**params, "cutpoints": [float(c) for c in cutpoints], "labels": labels}}
    if time in mdata.obs.columns and event in mdata.obs.columns:
        t, ev, usable = survival_columns(mdata.obs, time, event, where="risk_groups", require_events=False)
        keep = usable & (np.asarray(groups.codes) >= 0)
        present = sorted(set(np.asarray(groups.codes)[keep]))
        if ev[keep].any() and len(present) >= 2:
            code = np.asarray(groups.codes)[keep]
            per_group, tests = logrank_test(t[keep], ev[keep], code, scores=np.asarray(present, dtype=float))
            per_group.index = [labels[int(i)] for i in per_group.index]
            table = table.join(per_group[["observed", "expected"]].rename(columns={"observed": "n_events"}))
            result["groups"] = table
            result["tests"] = tests
            result["params"].update(time=time, event=event)
    mdata.uns[key_added] = result


def risk_groups(
    mdata: MuData,
    score: str,
    *,
    n_groups: int = 3,
    quantiles: Sequence[float] | None = None,
    cutpoints: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
    train: str | np.ndarray | None = None,
    time: str = "os_months",
    event: str = "os_event",
    key_added: str | None = None,
    copy: bool = False,
) -> MuData | None:
    """Cut a risk score into ordered groups (tertiles, quartiles, user cut-points) fitted on training patients.

    Cut-points are quantiles of the ``train`` patients' scores (equal-sized groups by default) or
    given by the user; every patient is then assigned, and :func:`apply_risk_groups` applies the
    stored cut-points unchanged to a validation cohort. With survival columns present, the groups
    are compared by the log-rank test (k - 1 df) and the log-rank test for trend (1 df, scores
    0, 1, ..., k - 1), as R's ``survdiff`` and the trend test of Collett (2015, section 2.6).

    Parameters
    ----------
    mdata
        Cohort container.
    score
        Score (higher = worse): an ``obs`` column (``"risk_score"``), ``"<mod>:<feature>"`` or
        ``"<embedding>:<k>"``.
    n_groups
        Number of equal-sized groups when neither ``quantiles`` nor ``cutpoints`` is given.
    quantiles
        Interior quantiles (e.g. ``(0.25, 0.5, 0.75)``) of the training scores.
    cutpoints
        Interior cut-points on the score's scale, increasing.
    labels
        Group names, lowest first; default ``low/intermediate/high`` (3), ``Q1..Q4`` (4).
    train
        Training patients: boolean mask or boolean ``obs`` column; default all patients.
    time, event
        ``mdata.obs`` survival columns for the tests (skipped when absent).
    key_added
        ``obs`` column and ``uns`` key; default ``f"{score}_risk_group"``.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy. Writes ``mdata.obs[key_added]`` (ordered categorical; missing
    when the score is missing) and ``mdata.uns[key_added]``: ``"groups"`` (per group ``lower,
    upper, n`` and, with survival, ``n_events, expected``), ``"tests"`` (``logrank``, ``trend``:
    ``chisq, df, p``), ``"params"`` (``score``, ``cutpoints``, ``labels``, ``quantiles``, ``n_train``).

    Raises
    ------
    DataFormatError
        Non-increasing cut-points, quantiles outside (0, 1) or labels of the wrong length.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=90, n_genes=100, seed=0)
    >>> rg.survival.cox(mdata, ["age", "idh_mutant"])
    >>> rg.survival.risk_groups(mdata, "cox_risk")
    >>> mdata.obs["cox_risk_risk_group"].value_counts().sort_index().tolist()
    [31, 29, 30]
    >>> bool(mdata.uns["cox_risk_risk_group"]["tests"].loc["trend", "p"] < 0.05)
    True
    """
    require_mudata(mdata, "survival.risk_groups")
    mdata = copy_mudata(mdata) if copy else mdata
    key_added = key_added or f"{score}_risk_group"
    values = resolve_keys(mdata, [score])[score].astype(float)
    mask = train_mask(mdata, train, where="risk_groups") & values.notna().to_numpy()
    x = values.to_numpy()[mask]
    params: dict = {"score": score, "n_train": int(mask.sum())}
    if cutpoints is not None:
        cuts = np.asarray(cutpoints, dtype=float)
        params["method"] = "cutpoints"
    else:
        qs = np.asarray(quantiles if quantiles is not None else np.arange(1, n_groups) / n_groups, dtype=float)
        if len(qs) == 0 or np.any((qs <= 0) | (qs >= 1)):
            msg = f"quantiles must lie strictly between 0 and 1; got {qs.tolist()}."
            raise DataFormatError(msg)
        cuts = np.quantile(x, qs)
        params.update(method="quantiles", quantiles=[float(q) for q in qs])
    if len(cuts) == 0 or np.any(np.diff(cuts) < 0):
        msg = f"cut-points must be increasing; got {cuts.tolist()}."
        raise DataFormatError(msg)
    k = len(cuts) + 1
    labels = list(labels) if labels is not None else _default_labels(k)
    if len(labels) != k:
        msg = f"{k} groups need {k} labels; got {labels}."
        raise DataFormatError(msg)
    ties = int(np.isin(x, cuts).sum())
    if ties > 0.1 * len(x):
        warnings.warn(
            f"risk_groups: {ties} of {len(x)} training scores equal a cut-point (heavily tied score, e.g. "
            "patients whose model selected nothing); group sizes will be unequal.",
            UserWarning,
            stacklevel=2,
        )
    _store(mdata, values, cuts, labels, key_added, params, time, event)
    return mdata if copy else None


def apply_risk_groups(
    mdata: MuData,
    fit: Mapping | MuData,
    *,
    key: str | None = None,
    score: str | None = None,
    time: str = "os_months",
    event: str = "os_event",
    key_added: str | None = None,
    copy: bool = False,
) -> MuData | None:
    """Assign risk groups with cut-points fitted on another cohort, unchanged.

    Parameters
    ----------
    mdata
        Cohort container (e.g. a validation cohort).
    fit
        The stored result of :func:`risk_groups` on the training cohort (``train.uns[key_added]``),
        or the training cohort itself (read at ``uns[key]``).
    key
        Key of the result in a cohort passed as ``fit``; default ``f"{score}_risk_group"``.
    score
        Score, resolved as in :func:`risk_groups`; default the training score.
    time, event
        Survival columns for the tests (skipped when absent).
    key_added
        ``obs`` column and ``uns`` key; default ``f"{score}_risk_group"``.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy; writes as :func:`risk_groups`, with ``params["applied"] = True``,
    ``method = "applied"`` and the training parameters under ``source_*`` keys.

    Raises
    ------
    MissingResultError
        ``fit`` is a cohort without ``uns[key]``.
    DataFormatError
        ``fit`` is a dict without stored cut-points and labels.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> train = rg.datasets.synthetic_cohort(n_patients=90, n_genes=100, seed=0)
    >>> valid = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=1)
    >>> rg.survival.risk_groups(train, "age", key_added="age_group")
    >>> rg.survival.apply_risk_groups(valid, train.uns["age_group"], key_added="age_group")
    >>> valid.uns["age_group"]["params"]["cutpoints"] == train.uns["age_group"]["params"]["cutpoints"]
    True
    """
    require_mudata(mdata, "survival.apply_risk_groups")
    mdata = copy_mudata(mdata) if copy else mdata
    stored, score, params = applied_params(
        fit,
        key=key,
        score=score,
        needed=("cutpoints", "labels"),
        where="apply_risk_groups",
        writer="risk_groups",
        suffix="_risk_group",
    )
    values = resolve_keys(mdata, [score])[score].astype(float)
    cuts, labels = np.asarray(stored["cutpoints"], dtype=float), list(stored["labels"])
    _store(mdata, values, cuts, labels, key_added or f"{score}_risk_group", params, time, event)
    return mdata if copy else None
