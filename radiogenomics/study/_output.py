"""The output folder of a study: final .h5mu, R bundle, figures, run.json and report.html."""

from __future__ import annotations

import json
import platform
import shutil
import sys
import time
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from ._cache import step_key
from ._runner import _version, recorded_warnings

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from ._cache import Cache
    from ._figures import Figure
    from ._schema import Study
    from ._steps import State

__all__ = ["write_outputs"]

DEPENDENCIES = (
    "anndata", "mudata", "numpy", "pandas", "scipy", "scikit-learn", "scikit-survival", "statsmodels",
    "mofapy2", "gseapy", "pyradiomics-bhklab", "SimpleITK", "matplotlib", "pydantic", "jinja2", "pyyaml", "dask",
)  # fmt: skip


def versions() -> dict[str, str]:
    """Installed versions of the package and its main dependencies."""
    out = {}
    for name in ("radiogenomics", *DEPENDENCIES):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def _atomic_h5mu(mdata, path: Path) -> Path:
    from ..io import write_h5mu

    tmp = path.with_name(f".{path.name}.tmp")
    write_h5mu(mdata, tmp)
    tmp.replace(path)
    return path


def _figures(state: State, study: Study, out: Path, cache: Cache, final_key: str) -> tuple[list[Figure], str]:
    """Figures from the cache when the results and labels are unchanged, else drawn anew."""
    from ._figures import Figure, make_figures

    key = step_key(step="figures", previous=final_key, labels=study.labels, report=study.report.model_dump(mode="json"))
    cached = cache.root / f"figures-{key[:24]}"
    target = out / "figures"
    if (cached / "figures.json").is_file():
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(cached, target)
        return [Figure(**f) for f in json.loads((target / "figures.json").read_text())], "cache"
    tmp = cache.root / f".tmp-figures-{key[:8]}"
    shutil.rmtree(tmp, ignore_errors=True)
    figures = make_figures(state.mdata, study, tmp)
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(tmp, target)
    tmp.replace(cached)
    return figures, "ran"


def write_outputs(
    study: Study,
    state: State,
    out: Path,
    *,
    records: list[dict],
    hashes: dict[str, str],
    plan: list,
    cache: Cache,
    log: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Write the final cohort, R bundle, figures, ``run.json`` and ``report.html`` into ``out``."""
    from ..io import export_tables
    from ._report import render_report

    start = time.perf_counter()
    h5mu = _atomic_h5mu(state.mdata, out / "study.h5mu")
    if state.validation is not None:
        _atomic_h5mu(state.validation, out / "validation.h5mu")
    rds = study.steps.export.rds if study.steps.export is not None else True
    with recorded_warnings() as (own, other):
        bundle = export_tables(state.mdata, out / "r_bundle", rds=rds)
        final_key = plan[-1][1] if plan else "none"
        figures, fig_source = _figures(state, study, out, cache, final_key)
    run_info: dict[str, Any] = {
        "study": study._source,
        "name": study.name,
        "created": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "versions": versions(),
        "cache_version": _version(),  # package version + fingerprint of the installed source (part of every cache key)
        "input_hashes": hashes,
        "seed": study.seed,
        "jobs": study.jobs,
        "scheduler": study.scheduler,
        "parameters": {name: params for name, _, params in plan},
        "steps": [dict(r) for r in records],
        "figures": {"source": fig_source, "files": [f.png for f in figures]},
        "output_notes": own,
        "output_dependency_warnings": other,
    }
    report = render_report(study, state, figures, run_info, out)
    run_info["output_seconds"] = time.perf_counter() - start
    (out / "run.json").write_text(json.dumps(run_info, indent=1, default=str))
    lines = [f"{r['name']:<16} {r['source']:<6} {r['seconds']:7.1f} s  peak {r['peak_mb']:7.0f} MB" for r in records]
    (out / "run.log").write_text("\n".join(lines) + f"\nfigures          {fig_source}\n")
    if log is not None:
        log(f"figures          {'cached' if fig_source == 'cache' else 'ran'}")
    return {"report": report, "h5mu": h5mu, "r_bundle": bundle}
