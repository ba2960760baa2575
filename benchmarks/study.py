"""Benchmark the demo study: time and peak memory of each step, then of a rerun from the cache.

Run as ``python benchmarks/study.py [--out DIR] [--jobs N]``. It writes the bundled glioma study
(``radiogenomics init --example glioma``) and runs it twice into a fresh folder:

1. a cold run: every step computed (time and peak resident memory per step, from ``run.json``),
   then the outputs (R bundle, figures, report);
2. a warm run: every step served from the step cache.

It prints one row per step with both runs side by side and the warm/cold ratio of the totals.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from radiogenomics import study


def _run(file: Path, out: Path, jobs: int) -> tuple[float, dict]:
    start = time.perf_counter()
    study.run(file, out=out, jobs=jobs, progress=False)
    return time.perf_counter() - start, json.loads((out / "run.json").read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None, help="output folder (default: a temporary folder)")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    work = Path(args.out or tempfile.mkdtemp(prefix="rg_study_bench_"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    file = study.init(work / "study.yaml", example="glioma")
    print(f"glioma demo study, {os.cpu_count()} CPUs, jobs={args.jobs}, load average {os.getloadavg()[0]:.1f}")
    cold_s, cold = _run(file, work / "results", args.jobs)
    warm_s, warm = _run(file, work / "results", args.jobs)
    print(f"\n{'step':<16}{'cold s':>9}{'peak MB':>10}{'warm':>8}")
    for a, b in zip(cold["steps"], warm["steps"], strict=True):
        print(f"{a['name']:<16}{a['seconds']:>9.1f}{a['peak_mb']:>10.0f}{b['source']:>8}")
    steps = sum(s["seconds"] for s in cold["steps"])
    print(f"{'outputs':<16}{cold['output_seconds']:>9.1f}{'':>10}{warm['figures']['source']:>8}")
    print(f"\ncold run {cold_s:.1f} s (steps {steps:.1f} s, outputs {cold['output_seconds']:.1f} s)")
    print(f"warm run {warm_s:.1f} s (ratio warm/cold {warm_s / cold_s:.2f})")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the process: {peak:.0f} MB")
    print(f"report: {work / 'results' / 'report.html'}")


if __name__ == "__main__":
    main()
