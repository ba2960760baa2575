"""Cut a continuous score into low/high groups with a cut-point fitted on training patients."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from numbers import Real
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import copy_mudata
from .._fits import stored_fit
from .._ties import warn_split_ties
from .._utils import require_mudata, resolve_keys, train_mask
from ..errors import DataFormatError, InsufficientDataError, ParameterError
from ._outcome import survival_columns

if TYPE_CHECKING:
    from mudata import MuData

__all__ = ["applied_params", "apply_cutpoint", "dichotomize", "logrank_scores", "maxstat"]


def logrank_scores(time, event) -> np.ndarray:
    """Log-rank (savage) scores ``event - H(t)``, ``H`` the Nelson-Aalen cumulative hazard."""
    time = np.asarray(time, dtype=float)
    event = np.asarray(event, dtype=bool)
    uniq, inverse = np.unique(time, return_inverse=True)
    deaths = np.bincount(inverse, weights=event.astype(float), minlength=uniq.size)
    at_risk = np.bincount(inverse, minlength=uniq.size)[::-1].cumsum()[::-1]
    hazard = np.cumsum(deaths / at_risk)
    return event.astype(float) - hazard[inverse]


def _standardized(x: np.ndarray, scores: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Standardized linear rank statistics of ``x <= cut`` (permutation mean and variance)."""
    n = len(x)
    low = x[None, :] <= cuts[:, None]
    m = low.sum(axis=1)
    s = low @ scores
    mean = scores.mean()
    var = m * (n - m) / (n * (n - 1)) * np.sum((scores - mean) ** 2)
    return (s - m * mean) / np.sqrt(var)


def _p_lausen92(b: float, minprop: float) -> float:
    """Lausen & Schumacher (1992) approximation to P(max |Z| >= b), doi:10.2307/2532318."""
    maxprop = 1 - minprop
    db = stats.norm.pdf(b)
    p = 4 * db / b + db * (b - 1 / b) * np.log(maxprop * (1 - minprop) / ((1 - maxprop) * minprop))
    return float(min(max(p, 0.0), 1.0))


def maxstat(x, time, event, *, minprop=0.1, p_method="lausen92", n_permutations=1000, seed=0):
    """Maximally selected log-rank statistic (Lausen & Schumacher 1992).

    Candidate cut-points are the distinct values of ``x`` leaving at least ``minprop`` of the
    patients on each side. Returns ``(cutpoint, statistic, p, scan)`` with ``scan`` a
    DataFrame ``cutpoint, statistic, prop_low``. ``p_method="lausen92"`` uses the
    Lausen-Schumacher approximation; ``"permutation"`` permutes ``x`` ``n_permutations`` times
    (seeded) and recomputes the maximum over the same candidate cuts.
    """
    x = np.asarray(x, dtype=float)
    scores = logrank_scores(time, event)
    values = np.unique(x)
    prop = np.searchsorted(np.sort(x), values, side="right") / len(x)
    cuts = values[(prop >= minprop) & (prop <= 1 - minprop)]
    if cuts.size == 0:
        msg = f"maxstat: no cut-point leaves {minprop:.0%} of the {len(x)} patients on each side; lower minprop."
        raise InsufficientDataError(msg)
    z = _standardized(x, scores, cuts)
    best = int(np.argmax(np.abs(z)))
    stat = float(abs(z[best]))
    if p_method == "lausen92":
        p = _p_lausen92(stat, minprop)
    elif p_method == "permutation":
        rng = np.random.default_rng(seed)
        null = np.array([np.abs(_standardized(rng.permutation(x), scores, cuts)).max() for _ in range(n_permutations)])
        p = float((1 + np.sum(null >= stat - 1e-12)) / (n_permutations + 1))
    else:
        msg = f"p_method={p_method!r} is not supported; use 'lausen92' or 'permutation'."
        raise ParameterError(msg)
    scan = pd.DataFrame({"cutpoint": cuts, "statistic": z, "prop_low": prop[np.isin(values, cuts)]})
    return float(cuts[best]), stat, p, scan


def _write(mdata: MuData, values: pd.Series, cut: float, key_added: str, params: dict) -> None:
    group = pd.Series(pd.NA, index=values.index, dtype=object)
    group[values <= cut] = "low"
    group[values > cut] = "high"
    mdata.obs[key_added] = pd.Categorical(group, categories=["low", "high"])
    missing = int(values.isna().sum())
    if missing:
        warnings.warn(f"{missing} patients with a missing {params['score']!r} get no group.", UserWarning, stacklevel=3)
    params = {
        **params,
        "cutpoint": float(cut),
        "n_low": int((values <= cut).sum()),
        "n_high": int((values > cut).sum()),
    }
    mdata.uns[key_added] = {"params": params}


def dichotomize(
    mdata: MuData,
    score: str,
    *,
    method: Literal["median", "quantile", "maxstat"] = "median",
    quantile: float = 0.5,
    time: str = "os_months",
    event: str = "os_event",
    train: str | np.ndarray | None = None,
    minprop: float = 0.1,
    p_method: Literal["lausen92", "permutation"] = "lausen92",
    n_permutations: int = 1000,
    seed: int = 0,
    key_added: str | None = None,
    copy: bool = False,
) -> MuData | None:
    """Split a score into ``low``/``high`` groups at a cut-point fitted on training patients.

    ``high`` means a value above the cut-point. The cut-point is the median, the ``quantile``
    quantile, or the maximally selected log-rank statistic (``maxstat``, Lausen & Schumacher
    1992, doi:10.2307/2532318) over cuts leaving ``minprop`` of the training patients on each
    side, with a p-value corrected for the search (the Lausen-Schumacher 1992 approximation,
    or a seeded permutation test). Only the ``train`` patients are used to fit it; all patients
    are then assigned, and :func:`apply_cutpoint` applies the stored cut unchanged to another
    cohort.

    Parameters
    ----------
    mdata
        Cohort container.
    score
        Score to cut: an ``obs`` column, ``"<mod>:<feature>"`` or ``"<embedding>:<k>"``.
    method
        ``"median"``, ``"quantile"`` or ``"maxstat"``.
    quantile
        Quantile for ``method="quantile"``.
    time
        ``mdata.obs`` column with follow-up time (``maxstat`` only).
    event
        ``mdata.obs`` boolean event column (``maxstat`` only).
    train
        Boolean mask or boolean ``obs`` column of training patients; default all patients.
    minprop
        Smallest group proportion for ``maxstat``.
    p_method
        How the ``maxstat`` p-value is computed: ``"lausen92"`` or ``"permutation"``.
    n_permutations
        Permutations for ``p_method="permutation"``.
    seed
        Seed of the permutations.
    key_added
        ``obs`` column and ``uns`` key written; default ``f"{score}_group"``.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.obs[key_added]`` : categorical
        ``low`` (value <= cut-point) or ``high``; missing if the value is missing.
    ``mdata.uns[key_added]["params"]`` : dict
        ``score``, ``method``, ``cutpoint``, ``n_train``, group sizes and, for ``maxstat``,
        ``statistic``, ``p``, ``p_method``, ``minprop``, ``seed``.
    ``mdata.uns[key_added]["scan"]`` : :class:`pandas.DataFrame`
        ``maxstat`` only: ``cutpoint, statistic, prop_low`` for every candidate cut.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> rg.survival.dichotomize(mdata, "age", key_added="age_group")
    >>> mdata.obs["age_group"].value_counts().tolist()
    [30, 30]
    """
    require_mudata(mdata, "survival.dichotomize")
    mdata = copy_mudata(mdata) if copy else mdata
    key_added = key_added or f"{score}_group"
    values = resolve_keys(mdata, [score])[score].astype(float)
    mask = train_mask(mdata, train, where="dichotomize") & values.notna().to_numpy()
    x = values.to_numpy()[mask]
    params = {"score": score, "method": method, "n_train": int(mask.sum())}
    scan = None
    if method == "median":
        cut = float(np.median(x))
    elif method == "quantile":
        if not 0 < quantile < 1:
            msg = f"quantile={quantile} must be strictly between 0 and 1."
            raise ParameterError(msg)
        cut, params["quantile"] = float(np.quantile(x, quantile)), quantile
    elif method == "maxstat":
        t, ev, usable = survival_columns(mdata.obs, time, event, where="dichotomize")
        keep = usable[mask]
        cut, stat, p, scan = maxstat(
            x[keep],
            t[mask][keep],
            ev[mask][keep],
            minprop=minprop,
            p_method=p_method,
            n_permutations=n_permutations,
            seed=seed,
        )
        params.update(statistic=stat, p=p, p_method=p_method, minprop=minprop, seed=seed, time=time, event=event)
        params["n_train"] = int(keep.sum())
    else:
        msg = f"method={method!r} is not supported; use 'median', 'quantile' or 'maxstat'."
        raise ParameterError(msg)
    params["largest_tie"] = warn_split_ties(x, cut, where="dichotomize", what=score)
    _write(mdata, values, cut, key_added, params)
    if scan is not None:
        mdata.uns[key_added]["scan"] = scan
    return mdata if copy else None


def applied_params(
    fit, *, key: str | None, score: str | None, needed: tuple[str, ...], where: str, writer: str, suffix: str
) -> tuple[Mapping, str, dict]:
    """Unpack a stored cut (:func:`dichotomize`, :func:`~radiogenomics.survival.risk_groups`).

    ``fit`` is the training ``uns[key_added]`` dict or a cohort holding it at ``uns[key]`` (default
    ``f"{score}{suffix}"``). Returns the training ``params``, the score (``score`` or the training
    one) and the parameters recorded with the applied result: ``applied``, ``method="applied"``
    and the training parameters under ``source_*`` keys (carried over when ``fit`` was itself applied).
    """
    if not isinstance(fit, Mapping) and key is None:
        if score is None:
            msg = f"{where}: pass key=<the key_added of rg.survival.{writer} on the training cohort> or score=."
            raise ParameterError(msg)
        key = f"{score}{suffix}"
    stored = stored_fit(fit, str(key), where=where, what=f"{writer} result", writer=f"rg.survival.{writer}")
    params = stored.get("params", stored)
    missing = [name for name in needed if name not in params]
    if missing:
        msg = f"{where}: fit has no {missing}; pass the dict stored by rg.survival.{writer} (train.uns[key_added])."
        raise DataFormatError(msg)
    score = score or params.get("score")
    if not score:
        msg = f"{where}: the stored fit does not record its score; pass score=<obs column or key>."
        raise ParameterError(msg)
    if params.get("applied"):
        source = {k: v for k, v in params.items() if k.startswith("source_")}
    else:
        fitted = {*needed, "n_low", "n_high"}
        source = {f"source_{k}": v for k, v in params.items() if k not in fitted}
    return params, str(score), {"score": str(score), "method": "applied", "applied": True, **source}


def apply_cutpoint(
    mdata: MuData,
    fit: float | Mapping | MuData,
    *,
    key: str | None = None,
    score: str | None = None,
    key_added: str | None = None,
    copy: bool = False,
) -> MuData | None:
    """Assign ``low``/``high`` groups with a cut-point fitted elsewhere, unchanged.

    Parameters
    ----------
    mdata
        Cohort container (e.g. a validation cohort).
    fit
        The stored result of :func:`dichotomize` on the training cohort
        (``mdata_train.uns[key_added]``), the training cohort itself (read at ``uns[key]``), or a
        number (then ``score`` is required).
    key
        Key of the result in a cohort passed as ``fit``; default ``f"{score}_group"``.
    score
        Score to cut, resolved as in :func:`dichotomize`; default the training score.
    key_added
        ``obs`` column and ``uns`` key written; default ``f"{score}_group"``.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes ``mdata.obs[key_added]``
    (``low``/``high``) and ``mdata.uns[key_added]["params"]`` (``cutpoint``, ``method`` =
    ``"applied"``, ``applied`` and the training parameters under ``source_*`` keys).

    Raises
    ------
    MissingResultError
        ``fit`` is a cohort without ``uns[key]``.
    DataFormatError
        ``fit`` is a dict without a stored cut-point.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> train = rg.datasets.synthetic_cohort(n_patients=60, n_genes=100, seed=0)
    >>> valid = rg.datasets.synthetic_cohort(n_patients=40, n_genes=100, seed=1)
    >>> rg.survival.dichotomize(train, "age")  # stored at "age_group"
    >>> rg.survival.apply_cutpoint(valid, train, key="age_group")  # or train.uns["age_group"]
    >>> valid.uns["age_group"]["params"]["cutpoint"] == train.uns["age_group"]["params"]["cutpoint"]
    True
    """
    require_mudata(mdata, "survival.apply_cutpoint")
    mdata = copy_mudata(mdata) if copy else mdata
    if isinstance(fit, Real):
        if score is None:
            msg = "apply_cutpoint: a numeric cut-point needs score=<the obs column or key to cut>."
            raise ParameterError(msg)
        cut, params = float(fit), {"score": score, "method": "applied", "applied": True}
    else:
        stored, score, params = applied_params(
            fit,
            key=key,
            score=score,
            needed=("cutpoint",),
            where="apply_cutpoint",
            writer="dichotomize",
            suffix="_group",
        )
        cut = float(stored["cutpoint"])
    values = resolve_keys(mdata, [score])[score].astype(float)
    _write(mdata, values, cut, key_added or f"{score}_group", params)
    return mdata if copy else None
