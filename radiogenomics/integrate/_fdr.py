"""False discovery rate over an association map, and the long tables read from its matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ._kernels import bh_adjust, keep_pairs

__all__ = ["fdr_adjust", "pairs_table", "stored_pairs"]

TESTS = ["spearman", "pearson", "partial_spearman", "partial_pearson", "mannwhitneyu", "mannwhitneyu_exact"]


def fdr_adjust(p: np.ndarray, method: str = "bh") -> np.ndarray:
    """Return Benjamini-Hochberg (``"bh"``) or Benjamini-Yekutieli (``"by"``) adjusted p-values.

    ``p`` is any-shaped; missing values stay missing and are outside the family. The result is
    float32 like the stored map and equals
    ``statsmodels.stats.multitest.fdrcorrection(p[ok].astype(float), method="indep" | "negcorr")``
    on the same (float32) p-values: the same sorted-order formula ``min_{j >= i} m p_(j) / j``
    (times ``sum_{k<=m} 1/k`` for BY), with the order found by a radix sort of the float32 bit
    patterns (``bh_adjust``, compiled).

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
    if every:
        return bh_adjust(flat, by=method == "by").reshape(p.shape)
    out = np.full(flat.shape, np.nan, dtype=np.float32)
    if ok.any():
        out[ok] = bh_adjust(flat[ok], by=method == "by")
    return out.reshape(p.shape)


def stored_pairs(p: np.ndarray, padj: np.ndarray, *, alpha: float, top: int) -> np.ndarray:
    """Return a mask of the pairs kept in the long table: ``padj < alpha`` or among the ``top`` of each x.

    ``p`` and ``padj`` are x-by-y matrices; the ``top`` smallest p-values of each x feature
    (row) are kept whatever their adjusted p-value (with every pair tied with the ``top``-th;
    missing p-values never).
    """
    return keep_pairs(p, padj, alpha, top)


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
        ix, iy = np.repeat(np.arange(nx), ny), np.tile(np.arange(ny), nx)
        pick: slice | tuple[np.ndarray, np.ndarray] = slice(None)
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
