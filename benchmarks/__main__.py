"""Run every benchmark and print one table of ratios against their baselines.

``python -m benchmarks`` runs each benchmark script at a quick size (the whole run takes minutes
on 2 cores); ``python -m benchmarks --full`` at the sizes quoted in the docs (about an hour);
``--only association end_to_end`` runs a subset. Each benchmark runs in its own process (its
output is shown as it runs); the table at the end lists, per benchmark, the ratio measured, the
baseline it is measured against and the target, with the core count and load average before
and after, since other jobs on a shared machine slow the wall clock (ratios of CPU time are
printed where the benchmark measures them).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._report import PREFIX, machine

HERE = Path(__file__).resolve().parent
# benchmark -> (quick arguments, full arguments)
BENCHMARKS = {
    "association": (["--patients", "500"], ["--patients", "500", "10000"]),
    "end_to_end": (["--patients", "300", "1200", "--genes", "5000"], ["--patients", "2000", "10000"]),
    "loading": (["--files", "100", "--genes", "5000"], ["--genes", "60660"]),
    "extraction": (["--repeats", "1"], []),
    "survival": (["--patients", "200", "--features", "300", "--cv", "3", "--n-alphas", "20"], []),
    "enrichment": (["--rankings", "10", "--permutations", "100", "--patients", "1000"], []),
}


def _run(name: str, args: list[str]) -> tuple[list[list[str]], float, int]:
    cmd = [sys.executable, str(HERE / f"{name}.py"), *args]
    print(f"\n### {name}: {' '.join(cmd[1:])}", flush=True)
    start = time.perf_counter()
    rows = []
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=HERE.parent) as proc:
        for line in proc.stdout:
            if line.startswith(PREFIX):
                rows.append(line.rstrip("\n").split("\t")[1:])
            else:
                print(line, end="", flush=True)
    return rows, time.perf_counter() - start, proc.returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the sizes quoted in docs/benchmarks.md (about an hour)")
    parser.add_argument("--only", nargs="+", choices=list(BENCHMARKS), help="run these benchmarks only")
    args = parser.parse_args(argv)
    before = machine()
    results, failed = [], []
    for name in args.only or BENCHMARKS:
        rows, seconds, code = _run(name, BENCHMARKS[name][1 if args.full else 0])
        results.extend(rows)
        if code:
            failed.append(f"{name} (exit code {code})")
        print(f"### {name}: {seconds:.0f} s", flush=True)
    print(f"\nmachine before: {before}\nmachine after:  {machine()}")
    print(f"size: {'full' if args.full else 'quick'} (python -m benchmarks{' --full' if args.full else ''})\n")
    header = ("benchmark", "ratio", "value", "baseline", "target")
    widths = [max(len(str(r[i])) for r in [header, *results]) for i in range(5)]
    lines = [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in [header, *results]
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    print("\n".join(lines))
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
