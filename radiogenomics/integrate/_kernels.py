"""Compiled per-pair kernels of an association map: p-values from correlations, Benjamini-Hochberg.

An association map of 1,000 x 20,000 features has 2e7 pairs; numpy spends most of the time of
these two steps in temporaries (about 20 passes over the map for the p-values, a comparison
sort of 2e7 values for the FDR). The kernels below make three vectorised passes (p-values) and
a three-pass radix sort (FDR) instead, compiled with numba (a dependency of scanpy) and cached on disk.
"""

from __future__ import annotations

from functools import cache

import numpy as np

__all__ = ["bh_adjust", "spline_pvalues"]


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


def _radix_order(keys):  # pragma: no cover - compiled
    """Sorted keys and their positions: stable counting sorts on three 10-bit digits (keys < 2^30)."""
    m = keys.size
    count = np.zeros((3, 1025), np.int64)
    for i in range(m):
        k = keys[i]
        count[0, (k & 1023) + 1] += 1
        count[1, ((k >> 10) & 1023) + 1] += 1
        count[2, (k >> 20) + 1] += 1
    for d in range(3):
        for b in range(1024):
            count[d, b + 1] += count[d, b]
    key_a, idx_a = np.empty(m, np.uint32), np.empty(m, np.uint32)
    key_b, idx_b = np.empty(m, np.uint32), np.empty(m, np.uint32)
    for d in range(3):  # least significant digit first; in: keys/(a), out: a/b alternately
        c = count[d]
        shift = 10 * d
        for i in range(m):
            k = keys[i] if d == 0 else (key_a[i] if d == 1 else key_b[i])
            digit = (k >> shift) & 1023
            pos = c[digit]
            c[digit] = pos + 1
            if d == 1:
                key_b[pos], idx_b[pos] = k, idx_a[i]
            else:
                key_a[pos], idx_a[pos] = k, (i if d == 0 else idx_b[i])
    return key_a, idx_a


def _step_up(ordered, idx, harmonic):  # pragma: no cover - compiled
    """Adjust sorted p as statsmodels does: p_(j) / (j / m / harmonic), running minimum from the top, capped at 1."""
    m = ordered.size
    out = np.empty(m, np.float32)
    running = np.inf
    for j in range(m - 1, -1, -1):
        factor = (j + 1) / float(m)
        if harmonic != 1.0:
            factor = factor / harmonic
        running = min(running, ordered[j] / factor)
        out[idx[j]] = min(running, 1.0)
    return out


@cache
def _compiled():
    """Compile (or load from numba's on-disk cache) the kernels on first use."""
    import numba

    jit = numba.njit(cache=True, nogil=True, error_model="numpy")
    return jit(_spline), jit(_radix_order), jit(_step_up)


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
    _, radix_order, step_up = _compiled()
    p = np.abs(np.clip(values, 0.0, 1.0), dtype=np.float32)  # a copy; abs turns -0.0 into +0.0
    ordered, idx = radix_order(p.view(np.uint32))  # non-negative floats order like their bit patterns
    del p
    m = len(ordered)
    harmonic = float(np.sum(1.0 / np.arange(1, m + 1))) if by else 1.0
    return step_up(ordered.view(np.float32), idx, harmonic)
