"""Run extraction cases serially, in a process pool, or on a Dask distributed cluster."""

from __future__ import annotations

import multiprocessing
import os
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._case import run_case

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


def _failed(case: dict[str, Any], reason: str) -> dict[str, Any]:
    return {"key": case["key"], "patient_id": case["patient_id"], "status": "failed", "reason": reason, "seconds": 0.0}


def run_serial(cases: list[dict], settings: dict) -> Iterator[tuple[int, dict]]:
    for i, case in enumerate(cases):
        yield i, run_case(case, settings)


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork (Linux) starts workers at once with pyradiomics already imported and needs no
    # `if __name__ == "__main__"` guard in user scripts; spawn elsewhere.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def run_processes(cases: list[dict], settings: dict, n_jobs: int) -> Iterator[tuple[int, dict]]:
    workers = max(1, min(n_jobs, len(cases)))
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context())
    try:
        with warnings.catch_warnings():
            # Python >= 3.12 warns when forking with helper threads alive (e.g. tqdm's monitor);
            # the workers only run run_case, which takes no lock held by those threads.
            warnings.filterwarnings("ignore", message=r".*fork\(\) may lead to deadlocks", category=DeprecationWarning)
            futures = {pool.submit(run_case, case, settings): i for i, case in enumerate(cases)}
        for future in as_completed(futures):
            i = futures[future]
            try:
                yield i, future.result()
            except BrokenProcessPool as e:
                yield i, _failed(cases[i], f"worker process died (out of memory or killed?): {e}")
    finally:
        # on Ctrl-C or an error in the caller, do not wait for the cases not yet started
        pool.shutdown(wait=True, cancel_futures=True)


def run_dask(cases: list[dict], settings: dict, client: Any) -> Iterator[tuple[int, dict]]:
    from distributed import as_completed as dask_completed

    futures = [client.submit(run_case, case, settings, pure=False) for case in cases]
    index = {future.key: i for i, future in enumerate(futures)}
    try:
        for future in dask_completed(futures):
            i = index[future.key]
            try:
                yield i, future.result()
            except Exception as e:  # noqa: BLE001 - a lost worker fails its case, not the batch
                yield i, _failed(cases[i], f"dask task failed: {type(e).__name__}: {e}")
    finally:
        client.cancel([f for f in futures if not f.done()])


def resolve_jobs(n_jobs: int) -> int:
    if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        msg = f"n_jobs={n_jobs!r} must be a positive integer or -1 (all cores)."
        raise ValueError(msg)
    return (os.cpu_count() or 1) if n_jobs == -1 else n_jobs


def _input_bytes(case: dict) -> int:
    path = Path(case["image"])
    try:
        return sum(p.stat().st_size for p in path.iterdir()) if path.is_dir() else path.stat().st_size
    except OSError:
        return 0


def _largest_first(run: Callable[[list[dict]], Iterator], cases: list[dict]) -> Iterator[tuple[int, dict]]:
    """Submit the largest images first (a longest-job-first schedule keeps all workers busy to the end)."""
    order = sorted(range(len(cases)), key=lambda i: -_input_bytes(cases[i]))
    for j, result in run([cases[i] for i in order]):
        yield order[j], result


def runner(cases: list[dict], settings: dict, n_jobs: int, client: Any) -> tuple[str, Callable[[], Iterator]]:
    """Pick the backend: a Dask client if given, else processes if n_jobs > 1, else serial."""
    if client is not None:
        return "dask", lambda: _largest_first(lambda c: run_dask(c, settings, client), cases)
    if n_jobs > 1 and len(cases) > 1:
        return "processes", lambda: _largest_first(lambda c: run_processes(c, settings, n_jobs), cases)
    return "serial", lambda: run_serial(cases, settings)
