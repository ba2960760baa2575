"""Run extraction cases serially, in a process pool, or on a Dask distributed cluster."""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ParameterError
from ._case import run_case

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator


MAX_ATTEMPTS = 3  # a case pending when a worker dies is resubmitted to a new pool at most twice
_PR_SET_PDEATHSIG = 1  # linux/prctl.h
_WATCHDOG_SECONDS = 1.0
_POLL_SECONDS = 0.5
_STALL_SECONDS = 5.0  # a worker dead this long without the pool noticing means a half-written result


def _failed(case: dict[str, Any], reason: str) -> dict[str, Any]:
    return {"key": case["key"], "patient_id": case["patient_id"], "status": "failed", "reason": reason, "seconds": 0.0}


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(_WATCHDOG_SECONDS)
        if os.getppid() != parent:
            os._exit(1)


def worker_init(parent: int) -> None:
    """Make a pool worker exit when its parent dies (even by SIGKILL, which runs no clean-up).

    On Linux the kernel sends SIGKILL to the worker when the parent dies (``prctl(PR_SET_PDEATHSIG)``);
    everywhere a daemon thread checks once a second that the parent is still the worker's parent.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watchdog below still applies
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="parent-watchdog").start()


def run_serial(cases: list[dict], settings: dict) -> Iterator[tuple[int, dict]]:
    for i, case in enumerate(cases):
        yield i, run_case(case, settings)


def _mp_context() -> multiprocessing.context.BaseContext:
    # fork (Linux) starts workers at once with pyradiomics already imported and needs no
    # `if __name__ == "__main__"` guard in user scripts; spawn elsewhere.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=_mp_context(), initializer=worker_init, initargs=(os.getpid(),)
    )


def _submit(pool: ProcessPoolExecutor, cases: list[dict], settings: dict, todo: list[int]) -> dict:
    with warnings.catch_warnings():
        # Python >= 3.12 warns when forking with helper threads alive (e.g. tqdm's monitor);
        # the workers only run run_case, which takes no lock held by those threads.
        warnings.filterwarnings("ignore", message=r".*fork\(\) may lead to deadlocks", category=DeprecationWarning)
        return {pool.submit(run_case, cases[i], settings): i for i in todo}


def _dead_worker(pool: ProcessPoolExecutor) -> bool:
    processes = getattr(pool, "_processes", None) or {}
    return any(p.exitcode is not None for p in list(processes.values()))


def _break(pool: ProcessPoolExecutor) -> None:
    """Unblock a pool whose result pipe holds a half-written message from a killed worker.

    concurrent.futures notices a dead worker only between messages: a worker killed while writing
    its result leaves the pool's manager thread waiting for the rest of that message forever.
    Killing the other workers and closing the parent's copy of the pipe's writing end makes that
    read fail, and the pool then breaks as it would have.
    """
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.exitcode is None:
            process.kill()
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    if writer is not None:
        writer.close()


def _completed(pool: ProcessPoolExecutor, futures: dict) -> Iterator:
    """Yield futures as they finish; raise BrokenProcessPool when a dead worker stalls the pool."""
    pending = set(futures)
    stalled = 0.0
    while pending:
        finished, pending = wait(pending, timeout=_POLL_SECONDS, return_when=FIRST_COMPLETED)
        if finished:
            stalled = 0.0
            yield from finished
        elif _dead_worker(pool):
            stalled += _POLL_SECONDS
            if stalled >= _STALL_SECONDS:
                _break(pool)
                msg = "a worker process died while sending its result"
                raise BrokenProcessPool(msg)


def run_processes(cases: list[dict], settings: dict, n_jobs: int) -> Iterator[tuple[int, dict]]:
    """Run cases in a process pool; when a worker dies, rebuild the pool and resubmit the unfinished cases.

    A dead worker (killed, out of memory) breaks the whole pool and fails every pending future;
    those cases are resubmitted to a new pool, each at most ``MAX_ATTEMPTS`` times in all, so one
    lost worker costs only its own case (and a case that kills its worker each time fails alone).
    Each result carries ``attempts``.
    """
    workers = max(1, min(n_jobs, len(cases)))
    attempts = [0] * len(cases)
    todo = list(range(len(cases)))
    while todo:
        pool = _pool(workers)
        broken: BaseException | None = None
        done: set[int] = set()
        try:
            futures = _submit(pool, cases, settings, todo)
            for i in todo:
                attempts[i] += 1
            try:
                for future in _completed(pool, futures):
                    if future.exception() is not None and isinstance(future.exception(), BrokenProcessPool):
                        broken = future.exception()
                        break
                    done.add(futures[future])
                    yield futures[future], {**future.result(), "attempts": attempts[futures[future]]}
            except BrokenProcessPool as e:
                broken = e
            # cases that finished before the pool broke keep their results
            for future, i in futures.items():
                if i not in done and future.done() and not future.cancelled() and future.exception() is None:
                    done.add(i)
                    yield i, {**future.result(), "attempts": attempts[i]}
        finally:
            # on Ctrl-C or an error in the caller, do not wait for the cases not yet started
            pool.shutdown(wait=True, cancel_futures=True)
        todo = [i for i in todo if i not in done]
        for i in [i for i in todo if attempts[i] >= MAX_ATTEMPTS]:
            reason = f"worker process died (out of memory or killed?) in each of {attempts[i]} attempts: {broken}"
            yield i, {**_failed(cases[i], reason), "attempts": attempts[i]}
        todo = [i for i in todo if attempts[i] < MAX_ATTEMPTS]


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
        raise ParameterError(msg)
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
