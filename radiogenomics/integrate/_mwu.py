"""Exact null distribution of the Mann-Whitney U statistic for a small group (no ties)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["EXACT_MAX_GROUP", "mannwhitney_exact_p"]

# As scipy.stats.mannwhitneyu(method="auto"): exact when a group has at most 8 patients and no ties.
EXACT_MAX_GROUP = 8


@lru_cache(maxsize=64)
def _upper_tail(m: int, other: int) -> np.ndarray:
    """Return ``P(U >= u)`` for ``u = 0 .. m * other`` (float), U the statistic of a group of ``m``.

    The number of arrangements with ``U = u`` is the coefficient of ``q^u`` in the Gaussian
    binomial ``[m + other choose m]_q = prod_{i=1..m} (1 - q^(other + i)) / (1 - q^i)``
    (Mann and Whitney 1947); computed with exact integers, so tail probabilities down to
    ``1 / C(m + other, m)`` are exact.
    """
    size = m * other + 1
    c = np.zeros(size, dtype=object)
    c[:] = 0
    c[0] = 1
    for i in range(1, m + 1):
        shift = other + i
        if shift < size:
            c[shift:] = c[shift:] - c[:-shift]
        for r in range(i):  # divide by (1 - q^i): running sums along stride i
            c[r::i] = np.cumsum(c[r::i])
    total = int(sum(c))
    tail = np.cumsum(c[::-1])[::-1]
    return np.array([int(t) / total for t in tail], dtype=np.float64)


def mannwhitney_exact_p(u: np.ndarray, m: int, other: int) -> np.ndarray:
    """Return exact two-sided Mann-Whitney p-values for integer statistics ``u`` of a group of ``m``.

    ``p = min(1, 2 * P(U >= max(u, m * other - u)))``, the definition of
    ``scipy.stats.mannwhitneyu(..., method="exact")``; valid without ties. With one patient in a
    group of ``n = 1 + other`` the smallest possible p-value is ``2 / n``.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy import stats
    >>> x = np.arange(20.0)
    >>> ref = stats.mannwhitneyu(x[[19]], x[:19], method="exact").pvalue
    >>> bool(np.isclose(mannwhitney_exact_p(np.array([19.0]), 1, 19)[0], ref)), round(float(ref), 3)
    (True, 0.1)
    """
    u = np.asarray(u, dtype=np.float64)
    out = np.full(u.shape, np.nan)
    ok = np.isfinite(u)
    top = np.rint(np.maximum(u[ok], m * other - u[ok])).astype(np.intp)
    out[ok] = np.minimum(1.0, 2.0 * _upper_tail(int(m), int(other))[np.clip(top, 0, m * other)])
    return out
