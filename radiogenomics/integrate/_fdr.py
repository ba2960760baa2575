"""False discovery rate over an association map, and the long tables read from its matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["fdr_adjust", "pairs_table", "stored_pairs"]

TESTS = ["spearman", "pearson", "partial_spearman", "partial_pearson", "mannwhitneyu", "mannwhitneyu_exact"]


def _argsort_unit(p: np.ndarray) -> np.ndarray:
    """Stable ascending order of float32 values in [0, 1] (no NaN) by a two-pass radix sort.

    Non-negative IEEE floats order as their bit patterns; numpy sorts 16-bit keys with a
    linear-time radix sort, so two stable passes (low, then high half) sort the 32-bit keys
    several times faster than :func:`numpy.argsort` of the float values.
    """
    halves = np.ascontiguousarray(p, dtype="<f4").view("<u2")  # little-endian: low half first
    order = np.argsort(halves[0::2], kind="stable")
    return order[np.argsort(halves[1::2][order], kind="stable")]


def fdr_adjust(p: np.ndarray, method: str = "bh") -> np.ndarray:
    """Return Benjamini-Hochberg (``"bh"``) or Benjamini-Yekutieli (``"by"``) adjusted p-values.

    ``p`` is any-shaped; missing values stay missing and are outside the family. The result is
    float32 like the stored map and equals
    ``statsmodels.stats.multitest.fdrcorrection(p[ok].astype(float), method="indep" | "negcorr")``
    on the same (float32) p-values: the same sorted-order formula ``min_{j >= i} m p_(j) / j``
    (times ``sum_{k<=m} 1/k`` for BY), with the order found by a radix sort.

    Examples
    --------
    >>> import numpy as np
    >>> from statsmodels.stats.multitest import fdrcorrection
    >>> p = np.array([[0.01, 0.04], [np.nan, 0.03]], dtype=np.float32)
    >>> fdr_adjust(p).tolist()
    [[0.029999999329447746, 0.03999999910593033], [nan, 0.03999999910593033]]
    >>> fdrcorrection(p[~np.isnan(p)].astype(float))[1].astype(np.float32).tolist()
    [0.029999999329447746, 0.03999999910593033, 0.03999999910593033]
    """
    p = np.asarray(p, dtype=np.float32)
    flat = p.reshape(-1)
    ok = ~np.isnan(flat)
    every = bool(ok.all())
    values = flat if every else flat[ok]
    out = np.full(flat.shape, np.nan, dtype=np.float32)
    m = len(values)
    if m == 0:
        return out.reshape(p.shape)
    # descending order, so the running minimum is a forward accumulate over contiguous memory
    order = _argsort_unit(np.clip(values, 0.0, 1.0))[::-1]
    raw = values[order].astype(np.float64)
    denom = np.arange(m, 0, -1, dtype=np.float64)
    denom /= float(m)  # the ECDF factor j / m of statsmodels, largest j first
    if method == "by":
        denom /= np.sum(1.0 / np.arange(1, m + 1))
    raw /= denom
    del denom
    np.minimum.accumulate(raw, out=raw)
    np.minimum(raw, 1.0, out=raw)
    result = np.empty(m, dtype=np.float32)
    result[order] = raw
    if every:
        return result.reshape(p.shape)
    out[ok] = result
    return out.reshape(p.shape)


def stored_pairs(p: np.ndarray, padj: np.ndarray, *, alpha: float, top: int) -> np.ndarray:
    """Return a mask of the pairs kept in the long table: ``padj < alpha`` or among the ``top`` of each x.

    ``p`` and ``padj`` are x-by-y matrices; the ``top`` smallest p-values of each x feature
    (row) are kept whatever their adjusted p-value (with every pair tied with the ``top``-th;
    missing p-values never).
    """
    keep = padj < alpha  # NaN compares False
    k = min(int(top), p.shape[1])
    if k > 0:
        filled = np.where(np.isnan(p), np.inf, p) if np.isnan(p).any() else p
        # the k-th smallest p of each row; ties at that value are all kept
        kth = np.partition(filled, k - 1, axis=1)[:, k - 1 : k] if k < p.shape[1] else np.full((len(p), 1), np.inf)
        keep |= (filled <= kth) & np.isfinite(filled)
    return keep


def pairs_table(maps: dict, mask: np.ndarray | None = None) -> pd.DataFrame:
    """Long table (one row per pair, ordered by x feature then y feature) from stored matrices.

    ``maps`` holds ``x_features``, ``y_features`` and x-by-y ``r``, ``p``, ``padj``, ``n``,
    ``statistic``, ``test`` (codes into :data:`TESTS`) and optionally ``p_fwer``; ``mask``
    selects pairs (all when ``None``).
    """
    x_names = pd.Index(np.asarray(maps["x_features"]).astype(str))
    y_names = pd.Index(np.asarray(maps["y_features"]).astype(str))
    nx, ny = len(x_names), len(y_names)
    if mask is None:
        ix, iy, pick = np.repeat(np.arange(nx), ny), np.tile(np.arange(ny), nx), slice(None)
    else:
        ix, iy = np.nonzero(mask)
        pick = (ix, iy)

    def column(name, dtype):
        values = np.asarray(maps[name])
        return (values.reshape(-1) if mask is None else values[pick]).astype(dtype)

    table = pd.DataFrame(
        {
            "x_feature": pd.Categorical.from_codes(ix.astype(np.int32), categories=x_names),
            "y_feature": pd.Categorical.from_codes(iy.astype(np.int32), categories=y_names),
            "r": column("r", np.float64),
            "p": column("p", np.float64),
            "padj": column("padj", np.float64),
            "n": column("n", np.int64),
            "statistic": column("statistic", np.float64),
            "test": pd.Categorical.from_codes(column("test", np.int8), categories=TESTS),
        }
    )
    if "p_fwer" in maps:
        table["p_fwer"] = column("p_fwer", np.float64)
    return table
