"""Compiled kernels of an association map: ranks, p-values from correlations, Benjamini-Hochberg.

An association map of 1,000 x 20,000 features has 2e7 pairs; numpy spends most of the time of
these steps in temporaries (about 20 passes over the map for the p-values, a comparison
sort of 2e7 values for the FDR, gathers and scatters of every rank). The kernels below make
three vectorised passes (p-values), a radix sort (FDR: one pass by the top bits, then two
within each bucket, in cache) and one pass per sorted row
(ranks) instead, compiled with numba (a dependency of scanpy) and cached on disk.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["average_ranks", "bh_adjust", "keep_pairs", "spline_pvalues"]


def _spline(r, df, coef, top, inv_h, logp, t):  # pragma: no cover - compiled
    """Fill ``t`` and the interpolated log p-values ``logp`` of correlations ``r`` (NaN where |r| >= top)."""
    n = r.size
    for i in range(n):  # three simple loops: each is vectorised (one fused loop is not)
        x = r[i]
        x = 1.0 if x > 1.0 else (-1.0 if x < -1.0 else x)
        t[i] = df / ((1.0 - x) * (1.0 + x))
    for i in range(n):
        x = r[i]
        t[i] = np.sqrt(t[i]) * (1.0 if x > 1.0 else (-1.0 if x < -1.0 else x))
    outside = 0
    for i in range(n):
        a = abs(r[i])
        if a < top:
            u = a * inv_h
            j = int(u)
            u -= j
            logp[i] = ((coef[3, j] * u + coef[2, j]) * u + coef[1, j]) * u + coef[0, j]
        else:  # beyond the grid, or missing: computed exactly by the caller
            logp[i] = np.nan
            outside += 1
    return outside


def _bucket_top(bits):  # pragma: no cover - compiled
    """Keys (p clipped to [0, 1], -0 as 0) packed above their positions, bucketed by the top 10 of 30 bits."""
    m = bits.size
    keys = np.empty(m, np.uint32)
    starts = np.zeros(1025, np.int64)
    for i in range(m):  # non-negative floats order like their bit patterns; p <= 1 needs 30 bits
        b = bits[i]
        k = np.uint32(0) if b >= 0x80000000 else min(b, np.uint32(0x3F800000))
        keys[i] = k
        starts[(k >> 20) + 1] += 1
    for d in range(1024):
        starts[d + 1] += starts[d]
    packed = np.empty(m, np.uint64)
    fill = starts[:-1].copy()
    for i in range(m):
        d = keys[i] >> 20
        packed[fill[d]] = (np.uint64(keys[i]) << np.uint64(32)) | np.uint64(i)
        fill[d] += 1
    return packed, starts


def _sort_buckets(packed, starts):  # pragma: no cover - compiled
    """Sort each bucket in place on the other 20 key bits: two stable 10-bit counting sorts via a scratch copy."""
    scratch = np.empty(np.max(starts[1:] - starts[:-1]), np.uint64)
    count = np.empty((2, 1025), np.int64)
    for bucket in range(1024):
        lo, hi = starts[bucket], starts[bucket + 1]
        if hi - lo < 2:
            continue
        count[:] = 0
        for i in range(lo, hi):
            count[0, ((packed[i] >> np.uint64(32)) & np.uint64(1023)) + 1] += 1
            count[1, ((packed[i] >> np.uint64(42)) & np.uint64(1023)) + 1] += 1
        for b in range(1024):
            count[0, b + 1] += count[0, b]
            count[1, b + 1] += count[1, b]
        for i in range(lo, hi):  # low digit: bucket -> scratch
            d = (packed[i] >> np.uint64(32)) & np.uint64(1023)
            scratch[count[0, d]] = packed[i]
            count[0, d] += 1
        for i in range(hi - lo):  # middle digit: scratch -> bucket
            d = (scratch[i] >> np.uint64(42)) & np.uint64(1023)
            packed[lo + count[1, d]] = scratch[i]
            count[1, d] += 1


def _step_up(packed, harmonic):  # pragma: no cover - compiled
    """Adjust sorted p as statsmodels does: p_(j) / (j / m / harmonic), running minimum from the top, capped at 1."""
    m = packed.size
    halves = packed.view(np.float32)  # little-endian: [position bits, p] per packed key
    out = np.empty(m, np.float32)
    running = np.inf
    for j in range(m - 1, -1, -1):
        factor = (j + 1) / float(m)
        if harmonic != 1.0:
            factor = factor / harmonic
        running = min(running, halves[2 * j + 1] / factor)
        out[packed[j] & np.uint64(0xFFFFFFFF)] = min(running, 1.0)
    return out


def _tie_ranks(values, order, out):  # pragma: no cover - compiled
    """Average ranks (1..n) of each row of ``values`` given its ascending ``order``; ties share the mean."""
    m, n = values.shape
    for i in range(m):
        start = 0
        while start < n:
            value = values[i, order[i, start]]
            end = start
            while end + 1 < n and values[i, order[i, end + 1]] == value:
                end += 1
            rank = (start + end) / 2.0 + 1.0
            for q in range(start, end + 1):
                out[i, order[i, q]] = rank
            start = end + 1
    return out


def _keep_pairs(p, padj, alpha, k):  # pragma: no cover - compiled
    """Mask of ``padj < alpha`` or ``p`` at most the k-th smallest finite p of its row (one pass per row)."""
    rows, cols = p.shape
    keep = np.empty((rows, cols), np.bool_)
    best = np.empty(max(k, 1), np.float64)  # the k smallest p so far, ascending
    for i in range(rows):
        filled = 0
        for j in range(cols if k > 0 else 0):
            v = p[i, j]
            if v != v or (filled == k and not v < best[k - 1]):  # missing, or not among the k smallest
                continue
            q = filled if filled < k else k - 1
            while q > 0 and best[q - 1] > v:
                best[q] = best[q - 1]
                q -= 1
            best[q] = v
            filled = min(filled + 1, k)
        kth = -np.inf if k == 0 else (best[k - 1] if filled == k else np.inf)
        for j in range(cols):
            keep[i, j] = padj[i, j] < alpha or p[i, j] <= kth
    return keep


@cache
def _compiled():
    """Compile (or load from numba's on-disk cache) the kernels on first use."""
    import numba

    def jit(func):
        try:
            return numba.njit(cache=True, nogil=True, error_model="numpy")(func)
        except RuntimeError:  # no writable cache folder (read-only install, no home): compile in memory
            return numba.njit(cache=False, nogil=True, error_model="numpy")(func)

    return jit(_spline), jit(_bucket_top), jit(_sort_buckets), jit(_step_up), jit(_tie_ranks), jit(_keep_pairs)


def spline_pvalues(
    r: np.ndarray, df: float, coef: np.ndarray, top: float, h: float, p: np.ndarray, t: np.ndarray
) -> int:
    """Fill ``p`` and ``t`` (float64, shaped like the float64 array ``r``) in three passes; return the count left NaN.

    ``p`` is ``exp`` of the cubic Hermite pieces ``coef`` (4 x m, step ``h``) of log p(|r|) for
    ``|r| < top``; other entries (|r| beyond the grid, missing r) are NaN in ``p`` for the caller to
    compute exactly. ``t = r * sqrt(df / (1 - r^2))``, with ``r`` clipped to [-1, 1].
    """
    spline = _compiled()[0]
    outside = spline(r.reshape(-1), float(df), coef, float(top), 1.0 / h, p.reshape(-1), t.reshape(-1))
    np.exp(p, out=p)  # numpy's exp is vectorised, the compiled one is not
    return int(outside)


def bh_adjust(values: np.ndarray, *, by: bool = False) -> np.ndarray:
    """Benjamini-Hochberg (or, with ``by=True``, Benjamini-Yekutieli) adjusted p-values of float32 p in [0, 1].

    ``values`` is 1-D float32 without missing values. Equals
    ``statsmodels.stats.multitest.fdrcorrection(values.astype(float))`` cast to float32 (the same
    float64 formula on the same order; ties get the same value whatever their order).
    """
    _, bucket_top, sort_buckets, step_up, _, _ = _compiled()
    packed, starts = bucket_top(np.ascontiguousarray(values, dtype=np.float32).view(np.uint32))
    sort_buckets(packed, starts)  # a radix sort, most significant digit first, then within buckets
    harmonic = float(np.sum(1.0 / np.arange(1, len(values) + 1))) if by else 1.0
    return step_up(packed, harmonic)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Average ranks (1..n, ties share their mean, as :func:`scipy.stats.rankdata`) of each row of a complete matrix."""
    values = np.ascontiguousarray(values)
    order = np.argsort(values, axis=1)
    return _compiled()[4](values, order, np.empty(values.shape))


def keep_pairs(p: np.ndarray, padj: np.ndarray, alpha: float, top: int) -> np.ndarray:
    """Mask of the pairs with ``padj < alpha`` or among the ``top`` smallest ``p`` of their row (ties kept, NaN never)."""
    p, padj = np.ascontiguousarray(p), np.ascontiguousarray(padj)
    return _compiled()[5](p, padj, float(alpha), int(max(0, min(top, p.shape[1]))))
