"""Relate latent factors (MOFA or any embedding) to clinical columns, mutations and survival."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import copy_mudata
from .._keys import embedding
from .._utils import get_modality, modality_frame, require_mudata
from ..errors import ConvergenceError, MissingColumnError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData

__all__ = ["factor_associations"]

logger = logging.getLogger(__name__)

MAX_LEVELS = 20
COLUMNS = ["factor", "variable", "source", "test", "n", "statistic", "effect", "p", "padj", "note"]


def _default_obs(mdata: MuData, skip: set[str]) -> list[str]:
    chosen = []
    for col in mdata.obs.columns:
        series = mdata.obs[col]
        if col in skip or col.startswith("has_") or series.nunique(dropna=True) < 2:
            continue
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if numeric or series.nunique(dropna=True) <= MAX_LEVELS:
            chosen.append(col)
    return chosen


def _two_groups(factor: np.ndarray, flag: np.ndarray, min_count: int):
    a, b = factor[flag], factor[~flag]
    if min(len(a), len(b)) < min_count:
        return None
    res = stats.mannwhitneyu(a, b, alternative="two-sided")
    # rank-biserial correlation: P(a > b) - P(a < b), positive when the group is higher
    return ("mann_whitney", res.statistic, 2 * res.statistic / (len(a) * len(b)) - 1, res.pvalue)


def _test_variable(factor: np.ndarray, values: pd.Series, min_count: int):
    """Return (test, n, statistic, effect, p) or None when the variable cannot be tested."""
    keep = ~np.isnan(factor) & values.notna().to_numpy()
    f, v = factor[keep], values[keep]
    if pd.api.types.is_bool_dtype(v) or (
        pd.api.types.is_numeric_dtype(v) and set(np.unique(v.to_numpy(dtype=float))) <= {0.0, 1.0}
    ):
        out = _two_groups(f, v.to_numpy(dtype=float) == 1, min_count)
        return None if out is None else (out[0], len(f), *out[1:])
    if pd.api.types.is_numeric_dtype(v):
        if len(f) < max(min_count, 3) or v.nunique() < 2:
            return None
        res = stats.spearmanr(f, v.to_numpy(dtype=float))
        return ("spearman", len(f), res.statistic, res.statistic, res.pvalue)
    levels = v.astype(str)
    counts = levels.value_counts()
    kept = counts.index[counts >= min_count]
    if len(kept) < 2:
        return None
    mask = levels.isin(kept).to_numpy()
    f, levels = f[mask], levels[mask]
    if len(kept) == 2:
        out = _two_groups(f, (levels == sorted(kept)[1]).to_numpy(), min_count)
        return (out[0], len(f), *out[1:])
    res = stats.kruskal(*[f[(levels == lv).to_numpy()] for lv in kept])
    epsilon2 = res.statistic / (len(f) - 1)  # epsilon-squared effect size of Kruskal-Wallis
    return ("kruskal", len(f), res.statistic, epsilon2, res.pvalue)


def _cox_rows(factors: pd.DataFrame, obs: pd.DataFrame, time: str, event: str) -> list[dict]:
    """One Cox model per factor (standardised) through the package's Cox core (R ``coxph``).

    A factor whose model cannot be fitted keeps its row with ``p`` missing and the reason in
    ``note``, and one warning names every such factor.
    """
    from ..survival._cox import fit_cox
    from ..survival._outcome import survival_columns

    t, ev, usable = survival_columns(obs, time, event, where="factor_associations")
    rows, failed = [], []
    for name in factors.columns:
        f = factors[name].to_numpy()
        keep = usable & ~np.isnan(f)
        if keep.sum() < 5 or ev[keep].sum() < 2 or np.std(f[keep]) == 0:
            continue
        z = (f[keep] - f[keep].mean()) / f[keep].std()
        row = {"factor": name, "variable": f"{time}|{event}", "source": "survival", "test": "cox_per_sd"}
        row |= {"n": int(keep.sum()), "statistic": np.nan, "effect": np.nan, "p": np.nan, "note": ""}
        try:
            fit = fit_cox(t[keep], ev[keep], z[:, None])
        except ConvergenceError as err:
            row["note"] = f"Cox model not fitted: {err}"
            failed.append(f"{name} (most extreme patient at {np.abs(z).max():.1f} SD)")
        else:
            stat = fit["coef"][0] / np.sqrt(fit["var"][0, 0])
            row |= {"statistic": stat, "effect": np.exp(fit["coef"][0]), "p": 2 * stats.norm.sf(abs(stat))}
        rows.append(row)
    if failed:
        warnings.warn(
            f"factor_associations: the Cox model of {len(failed)} factors could not be fitted ({', '.join(failed)}); "
            "their p is missing and counted as 1 in the FDR (reason in results['note']).",
            UserWarning,
            stacklevel=3,
        )
    return rows


def factor_associations(
    mdata: MuData,
    *,
    key: str = "mofa",
    obs: Sequence[str] | None = None,
    mods: Sequence[str] = ("mut",),
    time: str | None = None,
    event: str | None = None,
    min_count: int = 3,
    key_added: str = "factor_associations",
    copy: bool = False,
) -> MuData | None:
    """Test each latent factor against clinical columns, mutations and survival.

    Numeric columns and continuous features use Spearman correlation; boolean or two-level
    columns and binary features (mutations) the two-sided Mann-Whitney U test (effect: rank-biserial
    correlation, positive when the ``True``/mutated/second level is higher); categorical
    columns with more levels the Kruskal-Wallis test (effect: epsilon-squared). With ``time``
    and ``event`` each factor, standardised, enters a Cox model (the Cox core of
    :func:`radiogenomics.survival.cox`, Efron ties, equal to R ``coxph``; effect: hazard ratio per
    SD; Wald p); the survival columns are checked as by ``cox`` (boolean or 0/1 events). Benjamini-Hochberg FDR is computed over every test in
    the table (one family). Groups smaller than ``min_count`` are left out of a test; variables
    left with fewer than two such groups are not tested and are counted in ``params``.

    Parameters
    ----------
    mdata
        Cohort container with factors in ``obsm[f"X_{key}"]``.
    key
        Name of the embedding (the ``key_added`` of :func:`radiogenomics.integrate.mofa`,
        ``"mofa"`` by default; ``"fused"``, ``"cca_x"`` ...); an ``obsm`` slot is accepted too.
    obs
        ``mdata.obs`` columns to test; when ``None``, every column with at least two values that
        is numeric or has at most 20 levels, except ``has_<mod>`` flags and ``time``/``event``.
    mods
        Modalities whose features are tested (e.g. binary mutation flags); ``()`` for none.
    time
        ``mdata.obs`` column of follow-up time, for the Cox test.
    event
        ``mdata.obs`` boolean event column, for the Cox test.
    min_count
        Smallest group (e.g. mutated patients) for a group to be tested.
    key_added
        Key under which results are stored.
    copy
        Return a modified copy instead of writing into ``mdata``.

    Returns
    -------
    ``None``, or the modified copy if ``copy=True``. Writes:

    ``mdata.uns[key_added]["results"]`` : :class:`pandas.DataFrame`
        Long table ``factor, variable, source, test, n, statistic, effect, p, padj, note``,
        sorted by ``p``; ``source`` is ``obs``, a modality name or ``survival``; ``note`` says
        why a test gave no ``p`` (e.g. a Cox model that could not be fitted).
    ``mdata.uns[key_added]["params"]`` : :class:`dict`
        Arguments, number of tests and of variables not tested, and the FDR family.

    Examples
    --------
    >>> import numpy as np
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=80, n_genes=100, seed=0)
    >>> mdata.obsm["X_mofa"] = mdata.uns["truth"]["factors"].to_numpy()  # the planted factors
    >>> rg.integrate.factor_associations(mdata, obs=["idh_mutant", "age"], time="os_months", event="os_event")
    >>> res = mdata.uns["factor_associations"]["results"]
    >>> res.iloc[0][["factor", "variable"]].tolist()
    ['Factor2', 'idh_mutant']
    >>> bool(res.query("source == 'survival' and factor == 'Factor1'")["effect"].iloc[0] > 1)
    True
    """
    require_mudata(mdata, "integrate.factor_associations")
    from statsmodels.stats.multitest import multipletests

    mdata = copy_mudata(mdata) if copy else mdata
    factors = embedding(mdata, key)
    skip = {c for c in (time, event) if c is not None}
    columns = _default_obs(mdata, skip) if obs is None else ([obs] if isinstance(obs, str) else list(obs))
    missing = [c for c in columns if c not in mdata.obs.columns]
    if missing:
        msg = f"obs columns {missing} not found in mdata.obs; available: {list(mdata.obs.columns)[:12]} ..."
        raise MissingColumnError(msg)
    variables = [("obs", c, mdata.obs[c]) for c in columns]
    for mod in [mods] if isinstance(mods, str) else mods:
        get_modality(mdata, mod)
        frame = modality_frame(mdata, mod)
        variables += [(mod, f"{mod}:{c}", frame[c]) for c in frame.columns]
    rows, untested = [], set()
    for source, name, values in variables:
        for factor in factors.columns:
            out = _test_variable(factors[factor].to_numpy(), values, min_count)
            if out is None:
                untested.add(name)
                continue
            test, n, statistic, effect, p = out
            rows.append(
                {"factor": factor, "variable": name, "source": source, "test": test, "n": int(n)}
                | {"statistic": float(statistic), "effect": float(effect), "p": float(p)}
            )
    if time is not None or event is not None:
        if time is None or event is None:
            msg = "Give both time= and event= (mdata.obs columns) for the survival test, or neither."
            raise ParameterError(msg)
        rows += _cox_rows(factors, mdata.obs, time, event)
    table = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "padj"])
    table["note"] = table["note"].fillna("").astype(str)
    table.insert(
        COLUMNS.index("padj"), "padj", multipletests(table["p"].fillna(1.0), method="fdr_bh")[1] if len(table) else []
    )
    table = table.sort_values("p", kind="stable").reset_index(drop=True)
    logger.info("factor_associations: %d tests, %d variables not tested", len(table), len(untested))
    mdata.uns[key_added] = {
        "results": table,
        "params": {
            "key": key,
            "obs": columns,
            "mods": list([mods] if isinstance(mods, str) else mods),
            "time": time,
            "event": event,
            "min_count": int(min_count),
            "n_tests": len(table),
            "n_variables_not_tested": len(untested),
            "fdr_family": "Benjamini-Hochberg over all tests in results",
        },
    }
    return mdata if copy else None
