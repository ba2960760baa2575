"""Benchmark: a plain serial pyradiomics loop versus rg.imaging.extract with 1 and 2 worker processes.

Run as ``python benchmarks/extraction.py`` (under a minute on 2 idle cores). All runs use the
same cases and parameters in one process, one after the other; each prints seconds per case,
the speed-up against the plain loop and the peak resident memory of the process and its
workers (sampled every 20 ms with psutil). It also checks that every run gives the same numbers.

Options: ``--repeats N`` (copies of the brain1, brain2 and breast1 pyradiomics test cases,
default 6), ``--workers 1 2`` (worker counts for extract), ``--dask`` (add a LocalCluster run),
``--log`` / ``--wavelet`` (add LoG sigma 2 and 3 mm / the 8 wavelet images). The default is the
original image with all feature classes, where pyradiomics' single-threaded C code dominates. The
LoG and wavelet filters run in SimpleITK, which already uses several threads in a serial loop
(the "cores busy" column), so process parallelism gains less there. ``extract`` runs each case
with one SimpleITK thread (N4 results depend on the thread count), so ``n_jobs=1`` can be slower
than the plain loop when SimpleITK's threads help it.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import psutil
from _report import report

import radiogenomics as rg

DATA = Path(__file__).parents[1] / "tests" / "data" / "pyradiomics"


class PeakMemory:
    """Sample the resident memory of this process plus its children; keep the peak (MB)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process(os.getpid())
        while not self._stop.is_set():
            try:
                total = me.memory_info().rss + sum(c.memory_info().rss for c in me.children(recursive=True))
            except psutil.Error:
                total = 0
            self.peak = max(self.peak, total / 2**20)
            time.sleep(0.02)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def manifest(repeats: int) -> pd.DataFrame:
    rows = []
    for r in range(repeats):
        for name in ("brain1", "brain2", "breast1"):
            image, mask = DATA / f"{name}_image.nrrd", DATA / f"{name}_label.nrrd"
            rows.append({"patient_id": f"{name}_{r}", "image": str(image), "mask": str(mask)})
    return pd.DataFrame(rows)


def plain_loop(table: pd.DataFrame, params: dict) -> np.ndarray:
    """What a user writes without this package: one extractor, one case after the other."""
    from radiomics import featureextractor

    extractor = featureextractor.RadiomicsFeatureExtractor(params)
    rows = []
    for case in table.itertuples():
        result = extractor.execute(case.image, case.mask)
        rows.append([float(v) for k, v in result.items() if not k.startswith("diagnostics_")])
    return np.array(rows)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed(label: str, func, n_cases: int, baseline: float | None, extra_cpu=None) -> tuple[float, np.ndarray]:
    """Run ``func``; print wall time per case, speed-up, CPU seconds (this process + reaped workers) and peak RSS."""
    with PeakMemory() as memory:
        cpu = _cpu()
        start = time.perf_counter()
        values = func()
        seconds = time.perf_counter() - start
        cpu = _cpu() - cpu + (extra_cpu() if extra_cpu else 0.0)
    ratio = f"{baseline / seconds:5.2f}x" if baseline else "1.00x"
    print(
        f"{label:<34} {seconds:7.1f} s  {seconds / n_cases:6.2f} s/case  speed-up {ratio:>6}  "
        f"cpu {cpu:6.1f} s ({cpu / seconds:4.2f} cores busy)  peak {memory.peak:6.0f} MB"
    )
    return seconds, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dask", action="store_true")
    parser.add_argument("--log", action="store_true")
    parser.add_argument("--wavelet", action="store_true")
    args = parser.parse_args()
    import radiomics  # its import sets the logger level: quieten it afterwards

    logging.getLogger(radiomics.__name__).setLevel(logging.ERROR)
    image_types: dict[str, dict] = {"Original": {}}
    if args.log:
        image_types["LoG"] = {"sigma": [2.0, 3.0]}
    if args.wavelet:
        image_types["Wavelet"] = {}
    params = {"imageType": image_types, "setting": {"binWidth": 25}}
    table = manifest(args.repeats)
    n = len(table)
    print(
        f"{n} cases (brain1, brain2, breast1 x {args.repeats}), image types {list(image_types)}, {os.cpu_count()} cores"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f}")
    base, reference = timed("plain pyradiomics loop", lambda: plain_loop(table, params), n, None)
    for workers in args.workers:
        seconds, adata = timed(
            f"rg.imaging.extract(n_jobs={workers})",
            lambda w=workers: rg.imaging.extract(table, params=params, n_jobs=w, progress=False),
            n,
            base,
        )
        assert np.array_equal(adata.X, reference), "extract differs from the plain loop"
        report(
            "extraction",
            f"plain loop / extract(n_jobs={workers}) wall",
            base / seconds,
            "serial pyradiomics loop",
            "~n_jobs on idle cores",
        )
    if args.dask:
        import distributed

        with (
            distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as c,
            distributed.Client(c) as client,
        ):
            client.run(lambda: __import__("radiomics.featureextractor"))  # warm the workers' imports

            def worker_cpu() -> float:
                times = client.run(lambda: sum(psutil.Process().cpu_times()[:2]))
                return sum(times.values())

            before = worker_cpu()
            _, adata = timed(
                "rg.imaging.extract(client=2 dask)",
                lambda: rg.imaging.extract(table, params=params, client=client, progress=False),
                n,
                base,
                extra_cpu=lambda: worker_cpu() - before,
            )
        assert np.array_equal(adata.X, reference), "dask extract differs from the plain loop"
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        "Speed-up needs idle cores: with other jobs saturating the machine, wall time is set by the"
        " CPU share the scheduler gives this process, whatever the number of workers; compare cpu seconds."
    )
    print("all runs returned identical feature values")


if __name__ == "__main__":
    main()
