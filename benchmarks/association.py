"""Benchmark rg.integrate.associate against a per-pair scipy loop and the bare rank + matmul bound.

Run: ``python benchmarks/association.py`` (about 5 minutes on 2 cores). Prints, side by side in
one run, for 1,000 radiomic features x 20,000 genes: the time of ``associate`` (Spearman, BH over
the whole map, float32 matrices and the table of significant pairs), a per-pair :func:`scipy.stats.spearmanr` loop timed on a random
sample of pairs and extrapolated to all pairs, and the lower bound of ranking both matrices and
one matrix product (no p-values, no FDR, no table), plus peak memory, the size of the stored
matrices and the time and size of exporting the map for R. Sizes: 500 and 10,000 patients.
Options: ``--patients 500 10000 --features 1000 --genes 20000 --pairs 2000``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc

import anndata as ad
import mudata as md
import numpy as np
from _report import report
from scipy import stats

import radiogenomics as rg


def make_cohort(n: int, p: int, q: int, seed: int = 0) -> md.MuData:
    """Random radiomics and expression with 50 planted feature-gene pairs (float32, like real data)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, p), dtype=np.float32)
    y = rng.standard_normal((n, q), dtype=np.float32)
    y[:, :50] += 0.5 * x[:, :50]
    names = [f"P{i:05d}" for i in range(n)]
    mods = {
        "radiomics": ad.AnnData(x, obs={"_": np.zeros(n)}).copy(),
        "rna": ad.AnnData(y, obs={"_": np.zeros(n)}).copy(),
    }
    for a, prefix in zip(mods.values(), ("f", "g"), strict=True):
        a.obs_names = names
        a.var_names = [f"{prefix}{j:05d}" for j in range(a.n_vars)]
        del a.obs["_"]
    return md.MuData(mods)


def lower_bound(x: np.ndarray, y: np.ndarray, chunk: int) -> float:
    """Rank (double argsort, no tie handling) and one matrix product per chunk: Spearman r only."""
    t0 = time.perf_counter()

    def unit_ranks(a):
        r = np.argsort(np.argsort(np.ascontiguousarray(a.T), axis=1), axis=1).astype(np.float64).T
        r -= r.mean(axis=0)
        return r / np.sqrt((r * r).sum(axis=0))

    xr = unit_ranks(x)
    for start in range(0, y.shape[1], chunk):
        _ = xr.T @ unit_ranks(y[:, start : start + chunk])
    return time.perf_counter() - t0


def scipy_loop(x: np.ndarray, y: np.ndarray, n_pairs: int, seed: int = 0) -> tuple[float, float]:
    """Wall-clock and CPU seconds per pair of scipy.stats.spearmanr on a random sample of pairs."""
    rng = np.random.default_rng(seed)
    ii, jj = rng.integers(0, x.shape[1], n_pairs), rng.integers(0, y.shape[1], n_pairs)
    t0, c0 = time.perf_counter(), time.process_time()
    for i, j in zip(ii, jj, strict=True):
        stats.spearmanr(x[:, i], y[:, j])
    return (time.perf_counter() - t0) / n_pairs, (time.process_time() - c0) / n_pairs


def _timed(func, repeats: int) -> tuple[float, float]:
    """Best wall-clock and CPU seconds over ``repeats`` runs (the machine may be shared)."""
    best_wall, best_cpu = np.inf, np.inf
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        func()
        best_wall, best_cpu = min(best_wall, time.perf_counter() - w), min(best_cpu, time.process_time() - c)
    return best_wall, best_cpu


def export_map(mdata: md.MuData) -> tuple[float, float]:
    """Seconds and MB to export the stored map for R (binary matrices + names), as export_tables does."""
    import tempfile
    from pathlib import Path

    from radiogenomics.io._export import file_stem
    from radiogenomics.io._maps import write_maps

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_maps(mdata, Path(tmp), file_stem)
        seconds = time.perf_counter() - t0
        size = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
    return seconds, size


def run(n: int, p: int, q: int, n_pairs: int) -> None:
    mdata = make_cohort(n, p, q)
    x, y = mdata.mod["radiomics"].X, mdata.mod["rna"].X
    chunk = max(1, 8_000_000 // n)
    # best of three at the small size; the large size runs once (tracemalloc adds little: numpy makes few allocations)
    repeats = 3 if n <= 1000 else 1
    # load the compiled kernels (numba's on-disk cache, or a compilation on the first run ever) outside the timing
    rg.integrate.associate(mdata, x="radiomics", y="rna", x_features=mdata["radiomics"].var_names[:5], key_added="warm")
    mdata.uns.pop("warm")
    tracemalloc.start()
    t_assoc, c_assoc = _timed(lambda: rg.integrate.associate(mdata, x="radiomics", y="rna"), 1)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    padj = mdata.uns["associate"]["padj"]
    found = int((np.diag(padj[:50, :50]) < 0.05).sum())
    stored_mb = sum(v.nbytes for v in mdata.uns["associate"].values() if isinstance(v, np.ndarray)) / 1e6
    n_kept = len(mdata.uns["associate"]["results"])
    t_export, mb_export = export_map(mdata)
    if repeats > 1:
        t2, c2 = _timed(lambda: rg.integrate.associate(mdata, x="radiomics", y="rna"), repeats - 1)
        t_assoc, c_assoc = min(t_assoc, t2), min(c_assoc, c2)
    mdata.uns.pop("associate")
    t_bound, c_bound = _timed(lambda: lower_bound(x, y, chunk), repeats)
    per_pair, cpu_pair = scipy_loop(x, y, n_pairs)
    t_loop, c_loop = per_pair * p * q, cpu_pair * p * q
    input_mb = (x.nbytes + y.nbytes) / 1e6
    print(f"\n== {n} patients x {p} radiomic features x {q} genes ({p * q:,} pairs; input {input_mb:,.0f} MB) ==")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"associate (Spearman + BH + matrices + table) {t_assoc:9.1f} s wall {c_assoc:8.1f} s CPU")
    print(
        f"bare rank + matrix product lower bound      {t_bound:9.1f} s wall {c_bound:8.1f} s CPU   "
        f"associate / bound = {t_assoc / t_bound:.2f}x wall, {c_assoc / c_bound:.2f}x CPU"
    )
    print(
        f"scipy.stats.spearmanr loop (extrapolated)   {t_loop:9.1f} s wall {c_loop:8.1f} s CPU   ({per_pair * 1e6:.0f} us/pair "
        f"on {n_pairs} pairs)   speed-up = {t_loop / t_assoc:,.0f}x wall, {c_loop / c_assoc:,.0f}x CPU"
    )
    print(f"peak memory inside associate (tracemalloc)  {peak / 1e6:9.0f} MB   stored matrices {stored_mb:,.0f} MB")
    print(f"long table of stored pairs: {n_kept:,} rows (padj < 0.05 and top 10 per radiomic feature)")
    print(f"export of the map for R (binary matrices + names): {t_export:.1f} s, {mb_export:,.0f} MB")
    print(f"planted pairs found at FDR 5%: {found} / 50")
    report("association", f"associate / rank+matmul bound, {n} patients (CPU)", c_assoc / c_bound, "bare bound", "<= 2")
    report(
        "association", f"associate / rank+matmul bound, {n} patients (wall)", t_assoc / t_bound, "bare bound", "<= 2"
    )
    report(
        "association", f"scipy loop / associate, {n} patients (CPU)", c_loop / c_assoc, "per-pair spearmanr", ">= 1000"
    )
    report(
        "association", f"export of the map, {n} patients: seconds", t_export, f"{mb_export:,.0f} MB written", "seconds"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[500, 10_000])
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--pairs", type=int, default=2000)
    args = parser.parse_args()
    for n in args.patients:
        run(n, args.features, args.genes, args.pairs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3
    print(f"\nprocess peak resident memory (getrusage): {rss:,.0f} MB")


if __name__ == "__main__":
    main()
