"""Command-line entry point: ``radiogenomics demo | init | run | info | export``."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from mudata import MuData


def summary(mdata: MuData) -> str:
    """Return a short text summary of a cohort: modalities, sizes, pairing and stored results.

    Parameters
    ----------
    mdata
        Cohort container.

    Returns
    -------
    Multi-line text.

    Examples
    --------
    >>> import radiogenomics as rg
    >>> from radiogenomics.cli import summary
    >>> print(summary(rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)).splitlines()[0])
    Cohort: 20 patients, 3 modalities
    """
    from . import get
    from .survival._evaluate import median_follow_up

    lines = [f"Cohort: {mdata.n_obs} patients, {len(mdata.mod)} modalities"]
    for name, mod in mdata.mod.items():
        lines.append(f"  {name:<12} {mod.n_obs:>6} patients x {mod.n_vars:>6} features")
    clinical = [c for c in mdata.obs.columns if not c.startswith("has_")]
    lines.append(
        f"Clinical columns ({len(clinical)}): {', '.join(clinical[:12])}{' ...' if len(clinical) > 12 else ''}"
    )
    for col in mdata.obs.columns:
        if col.endswith("_months") and f"{col[:-7]}_event" in mdata.obs:
            events = mdata.obs[f"{col[:-7]}_event"]
            lines.append(
                f"Endpoint {col[:-7]}: {int(events.notna().sum())} patients with follow-up, {int(events.sum())} events, "
                f"median follow-up {median_follow_up(mdata.obs[col].to_numpy(float), events):.1f} months "
                "(reverse Kaplan-Meier)"
            )
    if "pairing" in mdata.uns:
        lines.append("Pairing (input IDs per source):")
        table = get.pairing_summary(mdata)
        lines.extend("  " + row for row in table.to_string().splitlines())
    stored = get.stored_results(mdata)
    if len(stored):
        lines.append("Stored results:")
        lines.extend(f"  {r.location}: {r.key} ({r.kind})" for r in stored.itertuples())
    return "\n".join(lines)


def _demo(args: argparse.Namespace) -> int:
    from . import datasets, io

    out = Path(args.out)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        mdata = datasets.tcga_glioma()
    notes = [str(w.message) for w in caught if issubclass(w.category, UserWarning) and "build_mudata" in str(w.message)]
    path = io.write_h5mu(mdata, out / "cohort.h5mu")
    tables = io.export_tables(mdata, out / "r_tables", rds=not args.no_rds)
    text = summary(mdata) + "\n" + "\n".join(f"Note: {n}" for n in notes)
    (out / "summary.txt").write_text(text + "\n")
    sys.stdout.write(text + "\n")
    sys.stdout.write(f"\nWrote {path}\nWrote R tables to {tables} (in R: source('{tables / 'load.R'}'))\n")
    if args.cohort_only:
        return 0
    from . import study

    sys.stdout.write("\nRunning the glioma study (radiogenomics init --example glioma), step by step:\n")
    file = study.init(out / "study.yaml", example="glioma", overwrite=True)
    result = study.run(file, out=out, jobs=args.jobs, progress=False, log=_progress_line)
    sys.stdout.write(f"\nReport: {result.report.resolve()}\n")
    return 0


def _progress_line(text: str) -> None:
    sys.stdout.write(f"  {text}\n")
    sys.stdout.flush()


def _init(args: argparse.Namespace) -> int:
    from . import study

    if Path(args.file).is_file() and not args.force:
        sys.stderr.write(
            f"radiogenomics init: {args.file} exists; add --force to overwrite it, or give another file name\n"
        )
        return 2
    path = study.init(args.file, example=args.example, overwrite=args.force)
    sys.stdout.write(f"Wrote {path} (example: {args.example}); run it with: radiogenomics run {path}\n")
    return 0


def _run(args: argparse.Namespace) -> int:
    from . import study

    result = study.run(
        args.file,
        out=args.out,
        jobs=args.jobs,
        scheduler=args.scheduler,
        force=args.force or (),
        progress=not args.quiet,
        log=None if args.quiet else _progress_line,
    )
    ran = sum(r["source"] == "ran" for r in result.steps)
    sys.stdout.write(
        f"{ran} step(s) ran, {len(result.steps) - ran} from cache. Cohort: {result.h5mu}; R bundle: "
        f"{result.r_bundle / 'load.R'}\nReport: {result.report.resolve()}\n"
    )
    return 0


def _info(args: argparse.Namespace) -> int:
    from . import io

    sys.stdout.write(summary(io.read_h5mu(args.file)) + "\n")
    return 0


def _export(args: argparse.Namespace) -> int:
    from . import io

    out = io.export_tables(io.read_h5mu(args.file), args.outdir, rds=not args.no_rds)
    sys.stdout.write(f"Wrote R tables to {out} (in R: source('{out / 'load.R'}'))\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``radiogenomics`` command line.

    Parameters
    ----------
    argv
        Arguments without the program name; ``None`` reads ``sys.argv``.

    Returns
    -------
    Exit status (0 on success).
    """
    parser = argparse.ArgumentParser(prog="radiogenomics", description="Radiogenomic cohorts in MuData.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the bundled TCGA glioma study: cohort, R tables, figures and report.html")
    demo.add_argument("--out", default="radiogenomics_demo", help="output folder (default: ./radiogenomics_demo)")
    demo.add_argument("--no-rds", action="store_true", help="write CSV only, no .rds files")
    demo.add_argument("--cohort-only", action="store_true", help="stop after the cohort and its R tables (no study)")
    demo.add_argument("--jobs", type=int, default=None, help="parallel jobs for the study steps")
    demo.set_defaults(func=_demo)
    init = sub.add_parser("init", help="write a commented study file that runs as written on bundled data")
    init.add_argument("file", help="study file to write, e.g. study.yaml")
    init.add_argument("--example", choices=["glioma", "synthetic", "images"], default="glioma")
    init.add_argument("--force", "--overwrite", action="store_true", help="overwrite an existing study file")
    init.set_defaults(func=_init)
    run = sub.add_parser("run", help="run a study file: cached steps, figures, report.html, R bundle")
    run.add_argument("file", help="study file (YAML)")
    run.add_argument("--out", default=None, help="output folder (default: <study>_results next to the file)")
    run.add_argument("--jobs", type=int, default=None, help="parallel jobs (overrides jobs: in the file)")
    run.add_argument("--scheduler", default=None, help="Dask scheduler address (overrides scheduler: in the file)")
    run.add_argument("--force", action="append", metavar="STEP", help="recompute STEP even if cached (repeatable)")
    run.add_argument("--quiet", action="store_true", help="no progress output")
    run.set_defaults(func=_run)
    info = sub.add_parser("info", help="summarise an .h5mu cohort: modalities, sizes, pairing, stored results")
    info.add_argument("file")
    info.set_defaults(func=_info)
    export = sub.add_parser("export", help="export an .h5mu cohort as CSV/RDS tables with manifest.json and load.R")
    export.add_argument("file")
    export.add_argument("outdir")
    export.add_argument("--no-rds", action="store_true", help="write CSV only, no .rds files")
    export.set_defaults(func=_export)
    args = parser.parse_args(argv)
    from .errors import RadiogenomicsError

    try:
        return args.func(args)
    except (RadiogenomicsError, OSError, ValueError, KeyError) as err:
        sys.stderr.write(f"radiogenomics {args.command}: {_one_line(err)}\n")
        return 2
    except KeyboardInterrupt:
        cached = " (finished steps are cached: run it again to go on)" if args.command == "run" else ""
        sys.stderr.write(f"radiogenomics {args.command}: interrupted{cached}.\n")
        return 130


def _one_line(err: BaseException) -> str:
    """The message of ``err`` on one line: a list of problems is joined with '; ', a bare OSError names its file."""
    from .errors import RadiogenomicsError

    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    if isinstance(err, OSError) and not isinstance(err, RadiogenomicsError) and err.filename:
        text = f"{err.strerror or type(err).__name__}: {str(err.filename)!r}; check the path and its permissions."
    out = ""
    for part in (p.strip() for p in text.splitlines() if p.strip()):
        out += ("" if not out else " " if out.endswith(":") else "; ") + part
    return out or type(err).__name__


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
