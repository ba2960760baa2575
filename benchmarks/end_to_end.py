"""End-to-end benchmark: one study on ``synthetic_cohort`` at two sizes, time and peak memory per step.

Run: ``python benchmarks/end_to_end.py`` (300 and 1,200 patients; ``python -m benchmarks``
runs it with 5,000 genes) or ``python benchmarks/end_to_end.py --patients 2000 10000`` (the full
size of issue 14: 1,000 radiomic features x 20,000 genes; ``--skip mofa`` leaves out the step
that dominates there). Steps, in order, in one process:
generate (``synthetic_cohort``), build (``build_mudata`` from the patient x feature tables),
normalise (``log_cpm``), associate (radiomics x rna), mofa (radiomics + rna, 5 factors, 50
iterations), signature (LASSO Cox, 3 outer x 3 inner folds), pathway scores (``zscore`` on the
cohort's 3 planted gene sets), write (``.h5mu``), export (CSV only, no RDS).

For each step it prints wall and CPU seconds, the peak resident memory above the memory at the
start of the step (sampled every 20 ms) and, between the two sizes, the growth exponent
``log(t2 / t1) / log(n2 / n1)`` (1 = linear in patients). The machine's load average and core
count are printed too: on a shared machine compare CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from _report import report  # benchmarks/ is on sys.path when run as a script or by python -m benchmarks

import radiogenomics as rg


class PeakMemory:
    """Peak resident memory of this process above its value at entry, sampled every 20 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def above_mb(self) -> float:
        return (self.peak - self.start) / 1e6


def _steps(n: int, n_features: int, n_genes: int, folder: Path) -> list[tuple[str, object]]:
    state: dict = {}

    def generate():
        state["cohort"] = rg.datasets.synthetic_cohort(n, n_features=n_features, n_genes=n_genes, seed=0)

    def build():
        cohort = state.pop("cohort")
        tables = {
            name: pd.DataFrame(cohort[name].X, index=cohort[name].obs_names, columns=cohort[name].var_names)
            for name in ("radiomics", "rna")
        }
        state["truth"] = cohort.uns["truth"]
        clinical = cohort.obs[["os_months", "os_event", "site", "age"]]
        del cohort
        state["mdata"] = rg.io.build_mudata(tables, clinical, id_rule=None)
        state["mdata"]["rna"].layers["counts"] = state["mdata"]["rna"].X.copy()

    def sets():
        groups = state["truth"]["gene_sets"].groupby("term")["gene"]
        return {term: genes.tolist() for term, genes in groups}

    def export():
        rg.io.export_tables(state["mdata"], folder / "export", rds=False)

    return [
        ("generate", generate),
        ("build", build),
        ("normalise", lambda: rg.omics.normalize(state["mdata"], method="log_cpm")),
        ("associate", lambda: rg.integrate.associate(state["mdata"], x="radiomics", y="rna")),
        ("mofa", lambda: rg.integrate.mofa(state["mdata"], mods=["radiomics", "rna"], n_factors=5, max_iter=50)),
        ("signature", lambda: rg.survival.signature(state["mdata"], cv=3, n_alphas=20)),
        (
            "pathway scores",
            lambda: rg.enrich.pathway_scores(state["mdata"], gene_sets=sets(), method="zscore", min_size=5),
        ),
        ("write", lambda: rg.io.write_h5mu(state["mdata"], folder / "cohort.h5mu")),
        ("export", export),
    ]


def run(n: int, n_features: int, n_genes: int, skip: list[str]) -> dict[str, dict]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, step in _steps(n, n_features, n_genes, Path(tmp)):
            if name in skip:
                continue
            w, c = time.perf_counter(), time.process_time()
            with PeakMemory() as mem:
                step()
            out[name] = {"wall": time.perf_counter() - w, "cpu": time.process_time() - c, "peak_mb": mem.above_mb}
            row = out[name]
            print(f"  {n:>6} {name:<15}{row['wall']:9.1f}{row['cpu']:9.1f}{row['peak_mb']:10.0f}", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, nargs=2, default=[300, 1200])
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--skip", nargs="*", default=[], help="steps to leave out (e.g. mofa)")
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} before")
    print(f"{args.features} radiomic features x {args.genes} genes; patients {args.patients}")
    print(f"  {'n':>6} {'step':<15}{'wall s':>9}{'CPU s':>9}{'peak MB':>10}")
    small, large = (run(n, args.features, args.genes, args.skip) for n in args.patients)
    scale = np.log(args.patients[1] / args.patients[0])
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(f"growth exponent from {args.patients[0]} to {args.patients[1]} patients (1 = linear):")
    for name in small:
        cpu = np.log(max(large[name]["cpu"], 1e-3) / max(small[name]["cpu"], 1e-3)) / scale
        mem = np.log(max(large[name]["peak_mb"], 1.0) / max(small[name]["peak_mb"], 1.0)) / scale
        print(f"  {name:<15} CPU time x n^{cpu:.2f}   peak memory x n^{mem:.2f}")
        report("end_to_end", f"{name}: CPU growth exponent", cpu, "1 (linear in patients)", "<= 1.2")
    total = sum(r["wall"] for r in large.values())
    report("end_to_end", f"total wall s at {args.patients[1]} patients", total, "-", "minutes")


if __name__ == "__main__":
    main()
