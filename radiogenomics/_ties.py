"""Warnings for heavily tied scores before they are split into groups or ranked.

A score where many patients share one value (for example risk scores of cross-validation folds
whose model selected no feature, all exactly 0) cannot be split at a quantile: every tied
patient falls on the same side, so a "median" split gives unequal groups, and a ranking orders
the tied values arbitrarily.
"""

from __future__ import annotations

import warnings

import numpy as np

__all__ = ["largest_tie", "warn_rank_ties", "warn_split_ties"]

#: Share of the values above which one tied value is reported.
TIE_SHARE = 0.1


def largest_tie(values) -> tuple[int, float, int]:
    """Return ``(count, value, n)``: the size and value of the largest group of equal finite values.

    Examples
    --------
    >>> largest_tie([0.0, 0.0, 0.0, 1.5, 2.0, float("nan")])
    (3, 0.0, 5)
    """
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return 0, float("nan"), 0
    uniq, counts = np.unique(x, return_counts=True)
    k = int(np.argmax(counts))
    return int(counts[k]), float(uniq[k]), int(x.size)


def _heavy(count: int, n: int) -> bool:
    return count >= 3 and count > TIE_SHARE * n


def warn_split_ties(values, cut: float, *, where: str, what: str, stacklevel: int = 3) -> int:
    """Warn when the largest tie of ``values`` holds more than 10% of them; say how the split at ``cut`` fell.

    Returns the size of the largest tie (``low`` means ``value <= cut``).
    """
    count, value, n = largest_tie(values)
    if _heavy(count, n):
        x = np.asarray(values, dtype=float)
        x = x[np.isfinite(x)]
        n_low = int((x <= cut).sum())
        warnings.warn(
            f"{where}: {count} of {n} values of {what!r} are tied at {value:.4g} ({count / n:.0%}); the cut-point "
            f"{cut:.4g} puts all of them in one group ({n_low} low vs {n - n_low} high). Tied scores often come "
            "from models that selected no feature.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return count


def warn_rank_ties(values, *, where: str, what: str, stacklevel: int = 3) -> int:
    """Warn when the largest tie of ``values`` holds more than 10% of them (their order is arbitrary)."""
    count, value, n = largest_tie(values)
    if _heavy(count, n):
        warnings.warn(
            f"{where}: {count} of {n} values of {what!r} are tied at {value:.4g} ({count / n:.0%}); their order in "
            "the ranking is arbitrary. Tied scores often come from models that selected no feature.",
            UserWarning,
            stacklevel=stacklevel,
        )
    return count
