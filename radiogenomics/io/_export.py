"""Export a cohort as CSV and RDS tables with a manifest and an R loader script."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .._utils import require_mudata
from ..errors import DataFormatError
from ._atomic import atomic_folder, md5_file, sha256_file
from ._maps import write_maps
from ._rscript import render_load_r

if TYPE_CHECKING:
    from collections.abc import Iterator
    from os import PathLike

    from mudata import MuData

__all__ = ["export_tables"]

_KNOWN = {
    "has_": "True if the patient has data in modality {rest}",
    "_months": "time to event or censoring in months ({stem} endpoint)",
    "_event": "True if the {stem} event was observed, False if censored",
}


FILE_NAMES = (
    "Each file name is the table's place in the container, its parts joined by '.': "
    "mdata.obs (clinical), mdata.obsm.<key>, mdata.uns.<key>[.<key>...], mod.<modality>.X (the "
    "matrix), mod.<modality>.var, mod.<modality>.obsm.<key>, mod.<modality>.varm.<key>, "
    "mod.<modality>.uns.<key>[.<key>...]. Inside a part, every character other than A-Z, a-z, "
    "0-9, '_' and '-' is written as %XX (UTF-8 bytes, as in URLs), so '.' is %2E and each file "
    "name maps back to exactly one place (urllib.parse.unquote of each part)."
)
_RESERVED = {"tables", "surv", "maps"}  # list elements of `rg` in R that tables must not replace


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


def file_stem(path: tuple[str, ...]) -> str:
    """Return the reversible file name (without extension) of a table at ``path``.

    Examples
    --------
    >>> file_stem(("mod", "a.b", "X")), file_stem(("mod", "a_b", "X")), file_stem(("mod", "18F-FDG", "X"))
    ('mod.a%2Eb.X', 'mod.a_b.X', 'mod.18F-FDG.X')
    """
    return ".".join(quote(str(part), safe="").replace(".", "%2E").replace("~", "%7E") for part in path)


def table_path(stem: str) -> tuple[str, ...]:
    """Invert :func:`file_stem`.

    Examples
    --------
    >>> table_path("mod.a%2Eb.uns.cox.summary")
    ('mod', 'a.b', 'uns', 'cox', 'summary')
    """
    return tuple(unquote(part) for part in stem.split("."))


def _unique_names(items: list[tuple[tuple[str, ...], str]]) -> list[str]:
    """Readable, unique names; a name already taken falls back to the (unique) file stem, with a warning."""
    taken: dict[str, tuple[str, ...]] = {}
    stems: dict[str, tuple[str, ...]] = {}
    names, clashes = [], []
    for path, wanted in items:
        stem = file_stem(path)
        if stem.casefold() in stems:
            msg = (
                f"export_tables: tables {stems[stem.casefold()]} and {path} get file names that differ "
                f"only in upper/lower case ({stem!r}); rename one of them (file systems on macOS and "
                "Windows would store them as one file)."
            )
            raise DataFormatError(msg)
        stems[stem.casefold()] = path
        name = _safe(wanted)
        if not name or name in taken or name in _RESERVED:
            clashes.append(f"{path} (as {name!r}, taken by {taken.get(name, 'rg')}) -> {stem!r}")
            name = stem
        taken[name] = path
        names.append(name)
    if clashes:
        warnings.warn(
            f"export_tables: {len(clashes)} table name(s) collided after removing characters R names "
            f"cannot hold; each keeps its full file name as its name instead: {'; '.join(clashes[:10])}. "
            "Rename the modality or key to avoid this.",
            UserWarning,
            stacklevel=3,
        )
    return names


def _r_class(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series) or str(series.dtype) == "boolean":
        return "logical"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "factor"
    if pd.api.types.is_numeric_dtype(series):
        return "numeric"
    return "character"


def _describe(column: str, series: pd.Series, table: str) -> str:
    for key, text in _KNOWN.items():
        if column.startswith(key) and key == "has_":
            return text.format(rest=column[len(key) :])
        if column.endswith(key) and key != "has_":
            return text.format(stem=column[: -len(key)])
    if column == "patient_id":
        return "patient identifier (row name in R)"
    kind = _r_class(series)
    if kind == "factor":
        return f"{table}: categorical with levels {list(series.cat.categories)[:8]}"
    return f"{table}: {kind} value"


def _to_frame(matrix, index: pd.Index, columns: pd.Index | list[str]) -> pd.DataFrame:
    dense = matrix.toarray() if sp.issparse(matrix) else np.asarray(matrix)
    return pd.DataFrame(dense, index=index, columns=[str(c) for c in columns])


def _embedding(value, index: pd.Index) -> pd.DataFrame:
    if isinstance(value, pd.DataFrame):
        return value
    return _to_frame(value, index, range(1, np.shape(value)[1] + 1))


def _tables(mdata: MuData) -> Iterator[tuple[tuple[str, ...], str, str, pd.DataFrame, str]]:
    """Yield ``(path, name, kind, frame, description)`` for everything exportable.

    ``path`` is where the table lives in the container (``("mdata", "obs")``,
    ``("mod", <name>, "X")``, ...); it gives the file name. ``name`` is the readable name used in
    the manifest and in R.
    """
    yield ("mdata", "obs"), "clinical", "table", mdata.obs.copy(), "patient-level clinical data (mdata.obs)"
    for mod, adata in mdata.mod.items():
        where = f"mdata.mod[{mod!r}]"
        matrix = _to_frame(adata.X, adata.obs_names, adata.var_names)
        yield ("mod", mod, "X"), mod, "matrix", matrix, f"modality {mod!r}: patients x features"
        if adata.var.shape[1]:
            yield ("mod", mod, "var"), f"{mod}_features", "table", adata.var.copy(), f"feature annotation of {where}"
        for key, value in adata.obsm.items():
            frame = _embedding(value, adata.obs_names)
            yield ("mod", mod, "obsm", key), f"{mod}_obsm_{key}", "matrix", frame, f"{where}.obsm[{key!r}]"
        for key, value in adata.varm.items():
            frame = _embedding(value, adata.var_names)
            yield ("mod", mod, "varm", key), f"{mod}_varm_{key}", "matrix", frame, f"{where}.varm[{key!r}]"
        yield from _uns_tables(dict(adata.uns), ("mod", mod, "uns"), f"{mod}_uns", f"{where}.uns")
    for key, value in mdata.obsm.items():
        if key in mdata.mod:  # mudata's per-modality membership masks
            continue
        frame = _embedding(value, mdata.obs_names)
        yield ("mdata", "obsm", key), f"obsm_{key}", "matrix", frame, f"mdata.obsm[{key!r}]"
    yield from _uns_tables(dict(mdata.uns), ("mdata", "uns"), "uns", "mdata.uns")


def _uns_tables(
    uns: dict, path: tuple[str, ...], prefix: str, where: str
) -> Iterator[tuple[tuple[str, ...], str, str, pd.DataFrame, str]]:
    for key, value in uns.items():
        if isinstance(value, pd.DataFrame):
            yield (*path, key), f"{prefix}_{key}", "table", value.copy(), f"{where}[{key!r}]"
        elif isinstance(value, dict):
            yield from _uns_tables(value, (*path, key), f"{prefix}_{key}", f"{where}[{key!r}]")


def _params(uns: dict) -> dict:
    """Plain values of ``uns`` (parameters, versions) for the manifest."""
    out: dict[str, object] = {}
    for key, value in uns.items():
        if isinstance(value, dict):
            inner = _params(value)
            if inner:
                out[key] = inner
        elif isinstance(value, str | int | float | bool | type(None) | np.generic):
            out[key] = value.item() if isinstance(value, np.generic) else value
        elif isinstance(value, list | tuple | np.ndarray) and np.ndim(value) == 1 and len(value) <= 1000:
            out[key] = [v.item() if isinstance(v, np.generic) else v for v in value]
    return out


def _prepare(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    frame = frame.copy()
    frame.columns = [str(c) for c in frame.columns]
    row_name = "patient_id" if kind == "matrix" or frame.index.name is None else str(frame.index.name)
    if "patient_id" in frame.columns or isinstance(frame.index, pd.RangeIndex):
        row_name = "row"
    while row_name in frame.columns:
        row_name = f"{row_name}_"
    if isinstance(frame.index, pd.RangeIndex):
        frame.index = frame.index.map(str)
    frame.index = frame.index.astype(str)
    frame.index.name = row_name
    frame = frame.reset_index()
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: v if v is None or isinstance(v, str) or pd.isna(v) else str(v))
    return frame


def _check_target(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier export (it would delete the user's files)."""
    if not out.exists():
        return
    if not out.is_dir():
        msg = f"export_tables: {str(out)!r} is a file; pass a folder path (new, empty or an earlier export)."
        raise DataFormatError(msg)
    present = {p.name for p in out.iterdir()}
    if not present:
        return
    manifest = out / "manifest.json"
    try:
        listed = json.loads(manifest.read_text())
        listed = [*listed["tables"].values(), *listed.get("maps", {}).values()]
    except (OSError, ValueError, KeyError, TypeError):
        msg = (
            f"export_tables: folder {str(out)!r} is not empty and holds no export manifest; it would be "
            "replaced whole. Pass a new or empty folder, or an earlier export_tables output."
        )
        raise DataFormatError(msg) from None
    ours = {"manifest.json", "load.R"}
    for entry in listed:
        ours |= {entry.get("csv"), entry.get("rds"), *entry.get("sha256", {})}
    foreign = sorted(present - ours)
    if foreign:
        msg = (
            f"export_tables: folder {str(out)!r} holds files that the earlier export did not write "
            f"({foreign[:5]}); the folder is replaced whole, so move them elsewhere or export to a new folder."
        )
        raise DataFormatError(msg)


def _check_names(table: pd.DataFrame, source: str) -> None:
    for col in table.columns:
        if "\x00" in col:
            msg = f"export_tables: column {col!r} of {source} contains a NUL character, which R cannot hold; rename it."
            raise DataFormatError(msg)


def export_tables(mdata: MuData, outdir: PathLike[str] | str, *, rds: bool = True) -> Path:
    """Export a cohort as R-ready tables: CSV and RDS files, ``manifest.json`` and ``load.R``.

    Writes one matrix per modality (patients as rows, ``patient_id`` first), the clinical
    table (``mdata.obs``), feature annotations, embeddings and every result table stored in
    ``uns``. ``manifest.json`` describes every file and column and records each file's SHA-256
    and MD5; ``load.R`` reads everything into a list ``rg`` in R: data frames for tables (in
    ``rg$tables``), numeric matrices with patient row names for modalities, and
    ``survival::Surv`` objects for each ``<endpoint>_months`` / ``<endpoint>_event`` pair (in
    ``rg$surv``). Association maps (``rg.integrate.associate``) are written as binary float32
    matrices and read as numeric matrices with dimnames (``rg$maps$<key>$r``, ``$p``, ``$padj``);
    their table of significant pairs is a table like the others.

    Safety:

    - The export is written into a fresh hidden folder beside ``outdir`` and swapped in only
      when complete, so a crash leaves the earlier export or the new one, never a mix.
      ``load.R`` refuses any file whose checksum differs from the one it was written with.
    - File names encode where each table lives (see ``manifest["file_names"]``): unique and
      reversible, so a modality named ``clinical`` or modalities ``a.b`` and ``a_b`` never
      share a file. Names in R are the readable table names; a name that would collide keeps
      its file name instead, with a warning.
    - Every name reaches ``load.R`` as an escaped R string (``rg[["..."]]``), never as code.

    Parameters
    ----------
    mdata
        Cohort container.
    outdir
        Folder to write; created if needed. An existing folder must be empty or an earlier
        export: it is replaced whole.
    rds
        Also write each table as ``.rds`` with pyreadr, so R needs no parsing.

    Returns
    -------
    The output folder.

    Raises
    ------
    DataFormatError
        When ``outdir`` holds files that are not an earlier export, when two tables would get
        file names differing only in case, or when a name contains a NUL character.

    Examples
    --------
    >>> import json, tempfile
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = rg.io.export_tables(mdata, tmp, rds=False)
    ...     manifest = json.loads((out / "manifest.json").read_text())
    >>> manifest["tables"]["radiomics"]["csv"], manifest["tables"]["radiomics"]["rows"]
    ('mod.radiomics.X.csv', 20)
    >>> manifest["survival"]
    [{'endpoint': 'os', 'time': 'os_months', 'event': 'os_event'}]
    """
    require_mudata(mdata, "io.export_tables")
    import pyreadr

    out = Path(outdir)
    _check_target(out)
    found = list(_tables(mdata))
    names = _unique_names([(path, name) for path, name, *_ in found])
    manifest: dict = {
        "format": 2,
        "file_names": FILE_NAMES,
        "tables": {},
        "survival": [],
        "params": _params(dict(mdata.uns)),
    }
    with atomic_folder(out) as tmp:
        for name, (path, _, kind, frame, source) in zip(names, found, strict=True):
            stem = file_stem(path)
            table = _prepare(frame, kind)
            _check_names(table, source)
            entry = {
                "kind": kind,
                "source": source,
                "path": list(path),
                "csv": f"{stem}.csv",
                "rds": f"{stem}.rds" if rds else None,
                "rows": int(table.shape[0]),
                "row_names": table.columns[0],
                "columns": [
                    {"name": c, "r_class": _r_class(table[c]), "description": _describe(c, table[c], name)}
                    for c in table.columns
                ],
            }
            table.to_csv(tmp / entry["csv"], index=False, na_rep="NA")
            if rds:
                pyreadr.write_rds(tmp / entry["rds"], table)
            files = [f for f in (entry["csv"], entry["rds"]) if f]
            entry["sha256"] = {f: sha256_file(tmp / f) for f in files}
            entry["md5"] = {f: md5_file(tmp / f) for f in files}
            manifest["tables"][name] = entry
        manifest["maps"] = write_maps(mdata, tmp, file_stem)  # association maps: binary matrices
        obs = mdata.obs
        for col in obs.columns:
            col = str(col)
            if col.endswith("_months") and f"{col[:-7]}_event" in obs.columns:
                manifest["survival"].append({"endpoint": col[:-7], "time": col, "event": f"{col[:-7]}_event"})
        text = json.dumps(manifest, indent=1, default=str)
        (tmp / "manifest.json").write_text(text, encoding="utf-8")
        (tmp / "load.R").write_text(
            render_load_r(
                manifest, {"sha256": sha256_file(tmp / "manifest.json"), "md5": md5_file(tmp / "manifest.json")}
            ),
            encoding="utf-8",
        )
    return out
