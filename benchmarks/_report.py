"""One machine-readable result line per measured ratio, collected by ``python -m benchmarks``."""

from __future__ import annotations

import os

PREFIX = "RESULT\t"


def report(benchmark: str, what: str, value: float, baseline: str, target: str) -> None:
    """Print ``RESULT<TAB>benchmark<TAB>what<TAB>value<TAB>baseline<TAB>target`` (value to 4 digits)."""
    print(f"{PREFIX}{benchmark}\t{what}\t{value:.4g}\t{baseline}\t{target}", flush=True)


def machine() -> str:
    """Core count and load averages (1, 5, 15 minutes): other jobs slow the wall clock."""
    one, five, fifteen = os.getloadavg()
    return f"{os.cpu_count()} cores, load average {one:.1f} / {five:.1f} / {fifteen:.1f}"
