"""Chunked computation of an association map: x-by-y float32 matrices filled one y chunk at a time.

Each chunk of y features is an independent task (:func:`chunk_stats`), run in this process or,
with a Dask ``client``, on the workers of a cluster; results are identical either way.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import numpy as np

from ._correlate import corr_pvalues, covariate_basis, mannwhitney_from_corr, masked_corr, prepare_block
from ._fdr import TESTS
from ._mwu import EXACT_MAX_GROUP, mannwhitney_exact_p

if TYPE_CHECKING:
    from ._inputs import Side

__all__ = ["Maps", "chunk_stats", "run_exact", "run_masked"]

_MWU, _MWU_EXACT = TESTS.index("mannwhitneyu"), TESTS.index("mannwhitneyu_exact")


def _as_slice(idx: np.ndarray) -> slice | np.ndarray:
    """A slice for consecutive indices (assignment without a gather), else the indices."""
    if len(idx) and idx[-1] - idx[0] == len(idx) - 1 and (np.diff(idx) == 1).all():
        return slice(int(idx[0]), int(idx[-1]) + 1)
    return idx


class Maps:
    """Result matrices, x features by y features (float32 ``r``, ``p``, ``statistic``; int32 ``n``; int8 ``test``)."""

    def __init__(self, p: int, q: int, dtype=np.float32):
        self.r = np.full((p, q), np.nan, dtype=dtype)
        self.p = np.full((p, q), np.nan, dtype=dtype)
        self.statistic = np.full((p, q), np.nan, dtype=dtype)
        self.n = np.zeros((p, q), dtype=np.int32)
        self.test = np.zeros((p, q), dtype=np.int8)

    def put(self, xi: np.ndarray, yi: np.ndarray, block: dict) -> None:
        """Write a block (x positions by y positions) of results; ``n`` and ``test`` may broadcast."""
        ix = (_as_slice(xi), _as_slice(yi))
        if not all(isinstance(i, slice) for i in ix):
            ix = np.ix_(xi, yi)
        for name in ("r", "p", "statistic", "n", "test"):
            getattr(self, name)[ix] = block[name]


def binary_columns(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return which columns take exactly two values, and how many patients have the larger one."""
    head = y[:64]  # cheap screen: most continuous columns show a third value in the first rows
    lo, hi = head.min(axis=0, initial=np.inf), head.max(axis=0, initial=-np.inf)
    cand = np.flatnonzero(((head == lo) | (head == hi)).all(axis=0))
    two, n1 = np.zeros(y.shape[1], dtype=bool), np.zeros(y.shape[1], dtype=np.int64)
    if len(cand):
        yc = y[:, cand]
        lo, hi = yc.min(axis=0), yc.max(axis=0)
        two[cand] = (lo < hi) & ((yc == lo) | (yc == hi)).all(axis=0)
        n1[cand] = (yc == hi).sum(axis=0)
    return two, n1


def _mann_whitney(r, p, stat, test, n, pairs, groups, values_norm):
    """Replace the correlation tests of the pairs ``pairs`` (rows, cols) by Mann-Whitney U tests, in place.

    ``groups`` (patients with the larger value of the binary feature of each pair) and ``values_norm`` (norm of
    the centred ranks of the other feature) broadcast to the block ``r[np.ix_(*pairs)]``.
    """
    ix = np.ix_(*pairs)
    u, pu = mannwhitney_from_corr(r[ix], values_norm, groups, n)
    codes = np.full(u.shape, _MWU, dtype=np.int8)
    m = np.broadcast_to(np.minimum(groups, n - groups), u.shape)
    # exact distribution needs tie-free values: sum(t^3 - t) = n(n^2 - 1) - 12 |centred ranks|^2
    exact = (m <= EXACT_MAX_GROUP) & (n * (n * n - 1.0) - 12.0 * values_norm**2 < 0.5)
    for size in np.unique(m[exact]):
        sel = exact & (m == size)
        pu[sel] = mannwhitney_exact_p(u[sel], int(size), n - int(size))
    codes[exact] = _MWU_EXACT
    p[ix], stat[ix], test[ix] = pu, u, codes


def _rank_sum_tests(r, p, stat, test, n, xside, yside):
    """Mann-Whitney U for every pair with a binary feature, whichever side it is on.

    The binary feature gives the groups, the other the values; when both are binary, the one with the
    smaller minority group gives the groups (with equal minorities both choices give the same U and p),
    so swapping x and y transposes the result. Sides are ``(norm, binary, n1, minority, few)``.
    """
    xnorm, xbin, xn1, xmin, xfew = xside
    ynorm, ybin, yn1, ymin, yfew = yside
    cols = np.flatnonzero(ybin & ~yfew)
    if len(cols):
        _mann_whitney(r, p, stat, test, n, (np.arange(r.shape[0]), cols), yn1[cols][None, :], xnorm[:, None])
    for row in np.flatnonzero(xbin & ~xfew):
        cols = np.flatnonzero(~ybin | (ymin > xmin[row]))
        if len(cols):
            _mann_whitney(r, p, stat, test, n, ([row], cols), xn1[row], ynorm[cols][None, :])


def chunk_stats(
    xa, xnorm, yraw, basis, k, rank, test_code, min_count, perms=None, dtype=None, xbinary=None, work=None
) -> dict:
    """Correlate prepared x columns with a raw, complete y block on the same patients.

    ``xbinary`` is :func:`binary_columns` of the raw x block (``None``: no binary x feature).
    ``work`` optionally holds three flat float64 buffers of at least x features x chunk values,
    reused from chunk to chunk for ``r``, ``p`` and ``statistic`` (the results are views into them).
    Returns x-by-chunk ``r``, ``p``, ``statistic`` (float64, or ``dtype``), int8 ``test``, the number ``n``
    of patients, the count of pairs left untested (a binary feature, on either side, whose smaller group is
    below ``min_count``) and, for each row permutation in ``perms``, the largest ``|r|``.
    """
    n = yraw.shape[0]
    ya, ynorm = prepare_block(yraw, basis, rank=rank)
    shape = (xa.shape[1], ya.shape[1])
    views = None if work is None else [w[: shape[0] * shape[1]].reshape(shape) for w in work]
    r = xa.T @ ya if views is None else np.matmul(xa.T, ya, out=views[0])
    np.clip(r, -1.0, 1.0, out=r)
    p, stat = corr_pvalues(r, n - 2 - k, out=None if views is None else (views[1], views[2]))
    test = np.full(r.shape, test_code, dtype=np.int8)
    ybin, yn1 = binary_columns(yraw)
    xbin, xn1 = xbinary if xbinary is not None else (np.zeros(r.shape[0], dtype=bool), np.zeros(r.shape[0], int))
    ymin, xmin = np.minimum(yn1, n - yn1), np.minimum(xn1, n - xn1)
    yfew, xfew = ybin & (ymin < min_count), xbin & (xmin < min_count)
    if rank and k == 0:
        _rank_sum_tests(r, p, stat, test, n, (xnorm, xbin, xn1, xmin, xfew), (ynorm, ybin, yn1, ymin, yfew))
    n_few = 0
    if yfew.any() or xfew.any():  # too few patients in one group: untested, outside the FDR family
        for ix in ((slice(None), yfew), (xfew, slice(None))):
            p[ix], stat[ix] = np.nan, np.nan
            test[ix] = _MWU if rank and k == 0 else test_code
        ya[:, yfew] = 0.0
        if perms is not None and xfew.any():
            xa = xa.copy()
            xa[:, xfew] = 0.0
        n_few = int(yfew.sum()) * r.shape[0] + int(xfew.sum()) * (r.shape[1] - int(yfew.sum()))
    null = np.zeros(0 if perms is None else len(perms))
    for b, perm in enumerate([] if perms is None else perms):
        null[b] = np.nanmax(np.abs(xa.T @ ya[perm]), initial=0.0)
    # locally the float64 blocks are cast once, on writing into the maps; for a cluster before sending
    out = (
        {"r": r, "p": p, "statistic": stat}
        if dtype is None
        else {"r": r.astype(dtype), "p": p.astype(dtype), "statistic": stat.astype(dtype)}
    )
    out.update(test=test, n=n, null=null, n_few=n_few)
    return out


def _chunks(client, fixed: dict, blocks, window: int):
    """Yield ``(key, result)`` of :func:`chunk_stats` for each ``(key, y block)`` in ``blocks``.

    Without a client the chunks run here, one at a time. With a Dask client the fixed inputs
    are scattered once and at most ``window`` chunks are in flight, so memory stays bounded.
    """
    if client is None:  # each result is written into the maps before the next chunk: reuse its buffers
        work = None
        for key, block in blocks:
            if work is None:
                work = [np.empty(fixed["xa"].shape[1] * block.shape[1]) for _ in range(3)]
            yield key, chunk_stats(yraw=block, **{**fixed, "dtype": None, "work": work})
        return
    from distributed import as_completed

    shared = {
        name: client.scatter(value, broadcast=True) if isinstance(value, np.ndarray) else value
        for name, value in fixed.items()
    }
    pending: deque = deque()
    queue = as_completed(loop=client.loop)  # not the default client: a runner may pass its own
    keys = {}
    for key, block in blocks:
        future = client.submit(chunk_stats, yraw=block, pure=False, **shared)
        keys[future.key] = key
        queue.add(future)
        pending.append(future)
        if len(pending) >= window:
            done = next(queue)
            pending.remove(done)
            yield keys.pop(done.key), done.result()
    for done in queue:
        yield keys.pop(done.key), done.result()


def run_exact(x: Side, y: Side, design, maps: Maps, groups, rank, chunk, perms, min_n, min_count, client=None):
    """Exact path: every (x pattern, y pattern) group pair on its own patients, y in chunks.

    Returns the number of covariate dimensions used, the max-|r| null (one value per
    permutation) and the number of pairs left untested for a small group.
    """
    test_code = TESTS.index(("partial_" if design is not None else "") + ("spearman" if rank else "pearson"))
    max_null = np.zeros(len(perms))
    k_used, n_few = 0, 0
    window = 2 * max(1, len(client.scheduler_info().get("workers", {}))) if client is not None else 1
    for xpos, xmask in groups[0]:
        xblock = x.block(xpos)
        for ypos, ymask in groups[1]:
            rows = xmask & ymask
            n = int(rows.sum())
            basis, k = covariate_basis(design[rows], n, rank=rank) if design is not None and n >= 3 else (None, 0)
            k_used = max(k_used, k)
            if n < min_n or n - 2 - k < 1:  # too few patients for this pair of missing-value patterns
                nan = np.full((len(xpos), len(ypos)), np.nan, dtype=np.float32)
                maps.put(xpos, ypos, {"r": nan, "p": nan, "statistic": nan, "n": n, "test": test_code})
                continue
            every = bool(rows.all())
            xraw = xblock if every else xblock[rows]
            xa, xnorm = prepare_block(xraw, basis, rank=rank)
            xbinary = binary_columns(xraw)
            fixed = {
                "xa": xa,
                "xnorm": xnorm,
                "basis": basis,
                "k": k,
                "rank": rank,
                "test_code": test_code,
                "min_count": min_count,
                "perms": np.asarray(perms) if len(perms) else None,
                "dtype": maps.r.dtype,
                "xbinary": xbinary if xbinary[0].any() else None,
            }
            starts = range(0, len(ypos), chunk)
            blocks = (
                (s, y.block(ypos[s : s + chunk]) if every else y.block(ypos[s : s + chunk])[rows]) for s in starts
            )
            for start, res in _chunks(client, fixed, blocks, window):
                maps.put(xpos, ypos[start : start + chunk], res)
                n_few += res["n_few"]
                if len(perms):
                    max_null = np.maximum(max_null, res["null"])
    return k_used, max_null, n_few


def _masked_transform(block, design, rank):
    """Rank and residualise each column on its own observed patients (NaN elsewhere)."""
    out = np.full(block.shape, np.nan)
    nan = np.isnan(block)
    keys = np.packbits(nan, axis=0)
    _, first, inverse = np.unique(keys, axis=1, return_index=True, return_inverse=True)
    for g in range(len(first)):
        cols = np.flatnonzero(inverse.ravel() == g)
        rows = ~nan[:, cols[0]]
        if rows.sum() < 3:
            continue
        basis, _ = covariate_basis(None if design is None else design[rows], int(rows.sum()), rank=rank)
        unit, _ = prepare_block(block[np.ix_(rows, cols)], basis, rank=rank)
        out[np.ix_(rows, cols)] = unit
    return out


def run_masked(x: Side, y: Side, design, maps: Maps, rank, chunk, min_n):
    """Approximate pairwise path for many missing-value patterns: masked sums. Returns ``k``."""
    test_code = TESTS.index(("partial_" if design is not None else "") + ("spearman" if rank else "pearson"))
    k = 0 if design is None else covariate_basis(design, design.shape[0], rank=rank)[1]
    xt = _masked_transform(x.block(np.arange(x.n_features)), design, rank)
    xi = np.arange(x.n_features)
    for start in range(0, y.n_features, chunk):
        yp = np.arange(start, min(start + chunk, y.n_features))
        r, n = masked_corr(xt, _masked_transform(y.block(yp), design, rank))
        p, stat = corr_pvalues(r, n - 2 - k)
        few = n < min_n
        r[few], p[few], stat[few] = np.nan, np.nan, np.nan
        maps.put(xi, yp, {"r": r, "p": p, "statistic": stat, "n": n, "test": test_code})
    return k
