"""Run a study: steps in order, each served from the cache when its key matches, then the outputs."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import sys
import threading
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import MissingDependencyError
from ._cache import Cache, file_digest, step_key
from ._load import StudyFileError, load
from ._steps import STEPS, Context, State

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence
    from os import PathLike
    from types import FrameType

    from mudata import MuData

    from ._schema import Study

__all__ = ["RunResult", "run"]


@dataclass
class RunResult:
    """What a run wrote and how each step was obtained."""

    out: Path
    report: Path
    h5mu: Path
    r_bundle: Path
    steps: list[dict] = field(default_factory=list)
    mdata: MuData | None = None


@functools.cache
def _version() -> str:
    """Package version plus a fingerprint of the installed source, so a changed install never reuses the cache."""
    from importlib.metadata import version

    import data_loaders

    from .. import __file__ as package_init

    roots = [Path(package_init).parent, Path(data_loaders.__file__).parent]
    return f"{version('radiogenomics')}+src.{source_fingerprint(roots)}"


def source_fingerprint(roots: list[Path]) -> str:
    """SHA-256 (first 12 hex digits) over the relative paths and contents of every ``.py`` file below ``roots``.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "a.py").write_text("x = 1")
    ...     before = source_fingerprint([Path(tmp)])
    ...     _ = (Path(tmp) / "a.py").write_text("x = 2")
    ...     before == source_fingerprint([Path(tmp)]), len(before)
    (False, 12)
    """
    digest = hashlib.sha256()
    for root in roots:
        for file in sorted(Path(root).rglob("*.py")):
            digest.update(file.relative_to(root).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def input_files(study: Study) -> dict[str, Path]:
    """Every input file of the study (image files of a manifest included), by the key that names it."""
    from ._load import _input_files

    files = {".".join(map(str, key)): study.resolve(f) for key, f in _input_files(study)}
    if study.inputs.images is not None:
        from ._inputs import read_manifest

        table = read_manifest(study)
        for col in ("image", "mask"):
            for i, p in enumerate(table.get(col, [])):
                files[f"inputs.images.{col}[{i}]"] = Path(p)
    return files


def _resolved(study: Study, name: str) -> dict:
    """A step's parameters with defaults that depend on other steps filled in (they enter the key)."""
    params = study.step_params(name).model_dump(mode="json")
    if name == "mofa" and params["obs"] is None:
        targets = study.steps.predict.targets if study.steps.predict else []
        clinical = study.steps.compare.clinical if study.steps.compare else []
        params["obs"] = list(dict.fromkeys([*targets, *clinical]))
    if name == "nomogram" and params["covariates"] is None:
        clinical = study.steps.compare.clinical if study.steps.compare else []
        params["covariates"] = [*clinical, "risk_score_cv"]
    return params


def plan_keys(study: Study, hashes: dict[str, str]) -> list[tuple[str, str, dict]]:
    """``(step, key, params)`` for every step, each key chained on the previous one."""
    previous = step_key(
        inputs=study.inputs.model_dump(mode="json"), hashes=hashes, base=str(study.base_dir), version=_version()
    )
    out = []
    for name in study.enabled_steps():
        if name == "export":
            continue
        params = _resolved(study, name)
        previous = step_key(step=name, params=params, seed=study.seed, version=_version(), previous=previous)
        out.append((name, previous, params))
    return out


class _PeakMemory:
    """Peak resident memory of this process while a block runs (sampled every 20 ms with psutil)."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()

    def _sample(self, proc: Any) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, proc.memory_info().rss)

    @contextlib.contextmanager
    def watch(self) -> Iterator[_PeakMemory]:
        try:
            import psutil
        except ImportError:  # pragma: no cover - psutil ships with distributed
            import resource

            yield self
            self.peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            return
        proc = psutil.Process(os.getpid())
        self.peak = proc.memory_info().rss
        thread = threading.Thread(target=self._sample, args=(proc,), daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()
            self.peak = max(self.peak, proc.memory_info().rss)


def _client(address: str | None) -> Any:
    if address is None:
        return None
    try:
        from distributed import Client
    except ImportError as err:
        msg = "--scheduler needs dask.distributed: pip install 'radiogenomics[dask]'"
        raise MissingDependencyError(msg) from err
    return Client(address, set_as_default=False)


OWN_PACKAGES = ("radiogenomics", "data_loaders")


@contextlib.contextmanager
def recorded_warnings() -> Iterator[tuple[list[str], list[str]]]:
    """Record the warnings of a block as ``(own, dependencies)``, each without repeats.

    ``own`` holds the package's notes about the data (UserWarnings issued by code of
    ``radiogenomics`` or ``data_loaders``: counts, exclusions, conversions), as their text;
    ``dependencies`` holds every other warning (of pandas, anndata, scikit-learn, numeric
    RuntimeWarnings, ...) as ``"Category (module): text"``. The issuer is the frame that called
    :func:`warnings.warn`, whatever ``stacklevel`` it gave. Filters and the display hook are
    restored on exit (``warnings.catch_warnings``).
    """
    own: list[str] = []
    other: list[str] = []

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        frame: FrameType | None = sys._getframe(1)
        while frame is not None and frame.f_globals.get("__name__") == "warnings":
            frame = frame.f_back
        module = frame.f_globals.get("__name__", "?") if frame is not None else "?"
        if issubclass(category, UserWarning) and module.split(".")[0] in OWN_PACKAGES:
            text, target = str(message), own
        else:
            text, target = f"{category.__name__} ({module}): {message}", other
        if text not in target:
            target.append(text)

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = show
        yield own, other


def _run_step(name: str, state: State, params: Any, ctx: Context) -> tuple[list[str], list[str], float, int]:
    memory = _PeakMemory()
    start = time.perf_counter()
    with memory.watch(), recorded_warnings() as (own, other):
        STEPS[name](state, params, ctx)
    return own, other, time.perf_counter() - start, memory.peak


def _compute(name: str, key: str, state: State, ctx: Context, cache: Cache) -> dict:
    """Run one step on ``state`` (in place) and store the result; returns its metadata."""
    own, other, seconds, peak = _run_step(name, state, ctx.study.step_params(name), ctx)
    meta = {
        "seconds": seconds,
        "peak_mb": peak / 2**20,
        "warnings": own,
        "dependency_warnings": other,
        "finished": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    cache.store(name, key, state, meta)
    return meta


def _write_line(log: Callable[[str], None] | None, text: str, bar: Any = None) -> None:
    """One progress line; written above the bar (cleared and redrawn) when there is one."""
    if log is None:
        return
    if bar is None or bar.disable:
        log(text)
        return
    with bar.external_write_mode():
        log(text)


def run(
    path: PathLike[str] | str,
    *,
    out: PathLike[str] | str | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    force: Sequence[str] = (),
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> RunResult:
    r"""Run a study file: every step (from the cache when unchanged), then the report and R bundle.

    Each step's result is stored under ``<out>/.cache`` with a key made from the hashes of the
    input files, the step's parameters (and those of every earlier step), the seed and the
    package version. A rerun recomputes only the steps whose key changed and those after them;
    a killed run resumes after its last finished step.

    Parameters
    ----------
    path
        Study file (see ``docs/study.md``; ``radiogenomics init`` writes one).
    out
        Output folder; default ``<study file stem>_results`` next to the study file.
    jobs
        Parallel jobs for steps that take ``n_jobs`` (overrides ``jobs:`` in the file).
    scheduler
        Address of a Dask scheduler (overrides ``scheduler:``): extraction gets the client and
        the joblib work of cross-validation and permutations runs on the cluster.
    force
        Steps to recompute even when cached (the steps after them rerun too).
    progress
        Show progress: a bar over the steps when standard error is a terminal, otherwise (a log
        file, a pipe, CI) one line per step on standard error, without carriage returns.
    log
        Called with one line per step (``step, ran/cached, seconds, peak memory``); it replaces
        the lines on standard error. ``None`` with ``progress=False`` is silent.

    Returns
    -------
    :class:`RunResult` with the paths of ``report.html``, the ``.h5mu``, the R bundle, the
    per-step log (``name``, ``source`` = ``"cache"`` or ``"ran"``, ``seconds``, ``peak_mb``) and
    the final cohort.

    Raises
    ------
    StudyFileError
        The study file is invalid, or ``force`` names a step that is not in it.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from radiogenomics import study
    >>> text = (
    ...     "inputs:\n  dataset: synthetic\n  dataset_options: {n_patients: 30, n_genes: 100}\nsteps:\n  filter: {}\n"
    ... )
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     _ = (Path(tmp) / "study.yaml").write_text(text)
    ...     first = study.run(Path(tmp) / "study.yaml", progress=False)
    ...     again = study.run(Path(tmp) / "study.yaml", progress=False)
    ...     print(first.report.name, [s["source"] for s in first.steps], [s["source"] for s in again.steps])
    report.html ['ran', 'ran'] ['cache', 'cache']
    """
    study = load(path)
    steps = [s for s in study.enabled_steps() if s != "export"]
    unknown = [s for s in force if s not in steps]
    if unknown:
        msg = f"--force {', '.join(unknown)}: not a step of this study (its steps: {', '.join(steps)})"
        raise StudyFileError(msg)
    out = Path(out) if out is not None else Path(path).resolve().parent / f"{Path(path).stem}_results"
    out.mkdir(parents=True, exist_ok=True)
    cache = Cache(out / ".cache")
    cache.clean_tmp()
    hashes = {k: file_digest(p) for k, p in input_files(study).items()}
    plan = plan_keys(study, hashes)
    address = scheduler or study.scheduler
    ctx = Context(study=study, seed=study.seed, jobs=jobs or study.jobs, client=_client(address))
    first_forced = min((steps.index(s) for s in force), default=len(steps))
    records: list[dict] = []
    state, loaded_from = State(), None
    tty = progress and _isatty(sys.stderr)
    bar = _bar(len(plan), progress=tty)
    if progress and not tty and log is None:
        log = _stderr_line
    try:
        for i, (name, key, _) in enumerate(plan):
            bar.set_description(name)
            if i < first_forced and cache.has(name, key):
                meta = cache.meta(name, key)
                records.append({"name": name, "source": "cache", "key": key, **_timing(meta)})
                loaded_from = (name, key)
                _write_line(log, f"{name:<16} cached {meta['seconds']:6.1f} s  (ran {meta['finished']})", bar)
                bar.update()
                continue
            if loaded_from is not None:
                state = _load_or_replay(study, plan, cache, loaded_from, ctx, records)
                loaded_from = None
            meta = _compute(name, key, state, ctx, cache)
            records.append({"name": name, "source": "ran", "key": key, **_timing(meta)})
            _write_line(log, f"{name:<16} ran    {meta['seconds']:6.1f} s  peak {meta['peak_mb']:7.0f} MB", bar)
            bar.update()
        if loaded_from is not None:
            state = _load_or_replay(study, plan, cache, loaded_from, ctx, records)
    finally:
        bar.close()
        if ctx.client is not None:
            ctx.client.close()
    from ._output import write_outputs

    paths = write_outputs(study, state, out, records=records, hashes=hashes, plan=plan, cache=cache, log=log)
    return RunResult(out=out, steps=records, mdata=state.mdata, **paths)


def _timing(meta: dict) -> dict:
    keys = ("warnings", "dependency_warnings")
    return {"seconds": meta["seconds"], "peak_mb": meta["peak_mb"], **{k: meta.get(k, []) for k in keys}}


def _load_or_replay(
    study: Study, plan: list, cache: Cache, entry: tuple[str, str], ctx: Context, records: list
) -> State:
    state = cache.load(*entry)
    if state is not None:
        return state
    state, recomputed = _replay(study, plan, cache, entry, ctx)
    for record in records:
        if record["name"] in recomputed:
            record["source"] = "ran"
    return state


def _replay(study: Study, plan: list, cache: Cache, upto: tuple[str, str], ctx: Context) -> tuple[State, list[str]]:
    """Recompute the steps up to ``upto`` from the latest intact entry before it (after a damaged entry)."""
    names = [(name, key) for name, key, _ in plan]
    stop = names.index(upto)
    state, start = State(), 0
    for i in range(stop - 1, -1, -1):
        loaded = cache.load(*names[i]) if cache.has(*names[i]) else None
        if loaded is not None:
            state, start = loaded, i + 1
            break
    recomputed = []
    for name, key, _ in plan[start : stop + 1]:
        _compute(name, key, state, ctx, cache)
        recomputed.append(name)
    return state, recomputed


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _stderr_line(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _bar(total: int, *, progress: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not progress, file=sys.stderr, unit="step", leave=False)
