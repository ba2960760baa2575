"""Benchmark rg.enrich: batched GSEA vs one gseapy call per ranking, and pathway scores at scale.

Run as ``python benchmarks/enrichment.py`` (about 5 minutes on 2 cores; 200 permutations,
``--permutations 1000`` takes about 4 s per ranking and call mode) or with ``--full`` for GSVA on
2,000 patients instead of 500 (GSVA's kernel CDF is quadratic in patients). Each task runs in its own process, so its peak
resident memory (``ru_maxrss``, which includes gseapy's Rust allocations) is measured separately;
the memory of the process right after building the data is printed as the baseline.

Data are synthetic: an expression matrix over all hallmark gene symbols (4,384 genes) in which
latent programmes drive five hallmark sets, and patient-level "radiomic" features that are noisy
copies of those programmes (or pure noise).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import sys
import time
import warnings

import numpy as np
from _report import report

N_PROGRAMMES = 5


def _cohort(n_patients: int, n_features: int, seed: int = 0):
    import anndata as ad
    import mudata as md
    import pandas as pd

    import radiogenomics as rg

    sets = rg.enrich.gene_sets("hallmark")
    genes = sorted({g for s in sets.values() for g in s})
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n_patients, N_PROGRAMMES))
    expr = rng.normal(6.0, 1.0, (n_patients, len(genes)))
    index = {g: i for i, g in enumerate(genes)}
    for k, term in enumerate(list(sets)[:N_PROGRAMMES]):
        cols = [index[g] for g in sets[term]]
        expr[:, cols] += 0.8 * z[:, [k]]
    patients = [f"P{i:05d}" for i in range(n_patients)]
    rna = ad.AnnData(expr.astype(np.float32), obs=pd.DataFrame(index=patients), var=pd.DataFrame(index=genes))
    mdata = md.MuData({"rna": rna})
    for j in range(n_features):
        signal = z[:, j % N_PROGRAMMES] if j < 2 * N_PROGRAMMES else 0.0
        mdata.obs[f"feature{j:02d}"] = signal + rng.standard_normal(n_patients)
    return mdata


def _task(name: str, kwargs: dict, queue) -> None:
    warnings.simplefilter("ignore")
    import radiogenomics as rg

    data_kwargs = kwargs.pop("data")
    mdata = _cohort(**data_kwargs)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if name.startswith("gsea"):
        keys = [c for c in mdata.obs.columns if c.startswith("feature")]
        rg.enrich.gsea(mdata, keys, **kwargs)
        res = mdata.uns["gsea"]["results"]
        detail = f"{int((res['padj'] < 0.05).sum())} of {len(res)} tests FDR < 0.05"
    else:
        rg.enrich.pathway_scores(mdata, **kwargs)
        detail = f"{mdata['pathways'].shape[0]} x {mdata['pathways'].shape[1]} scores"
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((seconds, base, peak, detail))


def run(name: str, **kwargs) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_task, args=(name, kwargs, queue))
    proc.start()
    seconds, base, peak, detail = queue.get()
    proc.join()
    row = {"task": name, "seconds": seconds, "baseline_MB": base, "peak_MB": peak, "detail": detail}
    print(f"{name:<44s} {seconds:8.2f} s   baseline {base:7.0f} MB   peak {peak:7.0f} MB   {detail}", flush=True)
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="GSVA on 2,000 patients instead of 500")
    parser.add_argument("--rankings", type=int, default=50)
    parser.add_argument("--permutations", type=int, default=200)
    parser.add_argument("--patients", type=int, default=10_000, help="patients for zscore and ssgsea pathway scores")
    args = parser.parse_args(argv)

    print(f"python {sys.version.split()[0]}; GSEA: {args.rankings} rankings x 50 hallmark sets, 4,384 genes")
    gsea_data = {"n_patients": 200, "n_features": args.rankings}
    common = {"n_permutations": args.permutations, "min_size": 15, "seed": 0, "data": gsea_data}
    one = run("gsea one call per ranking (null=genes)", null="genes", batch=False, **common)
    batched = run("gsea batched, 1 thread (null=genes)", null="genes", batch=True, **common)
    patients = run("gsea patient-permutation null (default)", **common)
    print(f"ratio one-call-per-ranking / batched (1 thread): {one['seconds'] / batched['seconds']:.2f}")
    print(f"ratio patient null / gene-set null (one call per ranking): {patients['seconds'] / one['seconds']:.2f}")
    report(
        "enrichment",
        "gsea one call per ranking / batched",
        one["seconds"] / batched["seconds"],
        "gseapy per ranking",
        "> 1",
    )

    n_ss = args.patients
    n_gsva = 2_000 if args.full else 500
    print("pathway_scores, hallmark sets, 4,384 genes")
    z = run(f"pathway_scores zscore, {n_ss:,} patients", method="zscore", data={"n_patients": n_ss, "n_features": 0})
    ss = run(f"pathway_scores ssgsea, {n_ss:,} patients", method="ssgsea", data={"n_patients": n_ss, "n_features": 0})
    gv = run(f"pathway_scores gsva, {n_gsva:,} patients", method="gsva", data={"n_patients": n_gsva, "n_features": 0})
    per = {r["task"]: r["seconds"] / n for r, n in ((z, n_ss), (ss, n_ss), (gv, n_gsva))}
    for task, value in per.items():
        print(f"  {task}: {1000 * value:.2f} ms per patient")
    print(f"ratio ssgsea / zscore per patient: {per[ss['task']] / per[z['task']]:.0f}")
    two_k = {"n_patients": 2_000, "n_features": 0}
    whole = run("pathway_scores ssgsea, 2,000 patients, 1 call", method="ssgsea", chunk_size=None, data=two_k)
    chunks = run("pathway_scores ssgsea, 2,000 patients, chunks", method="ssgsea", data=two_k)
    time_ratio, memory_ratio = whole["seconds"] / chunks["seconds"], whole["peak_MB"] / chunks["peak_MB"]
    print(f"ratio one gseapy call / chunks of 1,000 patients: time {time_ratio:.2f}, peak memory {memory_ratio:.2f}")
    report("enrichment", "ssgsea one call / chunks: peak memory", memory_ratio, "one gseapy call", "> 1")


if __name__ == "__main__":
    main()
