"""Export a cohort as CSV and RDS tables with a manifest and an R loader script."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import scipy.sparse as sp

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


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "_", name).strip("_")


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


def _tables(mdata: MuData) -> Iterator[tuple[str, str, pd.DataFrame, str]]:
    """Yield ``(name, kind, frame, description)`` for everything exportable."""
    yield "clinical", "table", mdata.obs.copy(), "patient-level clinical data (mdata.obs)"
    for mod, adata in mdata.mod.items():
        yield (
            mod,
            "matrix",
            _to_frame(adata.X, adata.obs_names, adata.var_names),
            f"modality {mod!r}: patients x features",
        )
        if adata.var.shape[1]:
            yield f"{mod}_features", "table", adata.var.copy(), f"feature annotation of modality {mod!r}"
        for key, value in adata.obsm.items():
            frame = (
                value
                if isinstance(value, pd.DataFrame)
                else _to_frame(value, adata.obs_names, range(1, np.shape(value)[1] + 1))
            )
            yield f"{mod}_obsm_{key}", "matrix", frame, f"mdata.mod[{mod!r}].obsm[{key!r}]"
        for key, value in adata.varm.items():
            frame = (
                value
                if isinstance(value, pd.DataFrame)
                else _to_frame(value, adata.var_names, range(1, np.shape(value)[1] + 1))
            )
            yield f"{mod}_varm_{key}", "matrix", frame, f"mdata.mod[{mod!r}].varm[{key!r}]"
        yield from _uns_tables(dict(adata.uns), f"{mod}_uns", f"mdata.mod[{mod!r}].uns")
    for key, value in mdata.obsm.items():
        if key in mdata.mod:  # mudata's per-modality membership masks
            continue
        frame = (
            value
            if isinstance(value, pd.DataFrame)
            else _to_frame(value, mdata.obs_names, range(1, np.shape(value)[1] + 1))
        )
        yield f"obsm_{key}", "matrix", frame, f"mdata.obsm[{key!r}]"
    yield from _uns_tables(dict(mdata.uns), "uns", "mdata.uns")


def _uns_tables(uns: dict, prefix: str, where: str) -> Iterator[tuple[str, str, pd.DataFrame, str]]:
    for key, value in uns.items():
        if isinstance(value, pd.DataFrame):
            yield f"{prefix}_{key}", "table", value.copy(), f"{where}[{key!r}]"
        elif isinstance(value, dict):
            yield from _uns_tables(value, f"{prefix}_{key}", f"{where}[{key!r}]")


def _params(uns: dict) -> dict:
    """Plain values of ``uns`` (parameters, versions) for the manifest."""
    out = {}
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
    if isinstance(frame.index, pd.RangeIndex):
        frame.index = frame.index.map(str)
    frame.index = frame.index.astype(str)
    frame.index.name = row_name
    frame = frame.reset_index()
    for col in frame.columns:
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: v if v is None or isinstance(v, str) or pd.isna(v) else str(v))
    return frame


def export_tables(mdata: MuData, outdir: PathLike[str] | str, *, rds: bool = True) -> Path:
    """Export a cohort as R-ready tables: CSV and RDS files, ``manifest.json`` and ``load.R``.

    Writes one matrix per modality (patients as rows, ``patient_id`` first), the clinical
    table (``mdata.obs``), feature annotations, embeddings and every result table stored in
    ``uns``. ``manifest.json`` describes every file and column; ``load.R`` reads everything
    into a list ``rg`` in R: data frames for tables, numeric matrices with patient row names
    for modalities, and ``survival::Surv`` objects for each ``<endpoint>_months`` /
    ``<endpoint>_event`` pair.

    Parameters
    ----------
    mdata
        Cohort container.
    outdir
        Folder to write into; created if needed.
    rds
        Also write each table as ``.rds`` with pyreadr, so R needs no parsing.

    Returns
    -------
    The output folder.

    Examples
    --------
    >>> import json, tempfile
    >>> import radiogenomics as rg
    >>> mdata = rg.datasets.synthetic_cohort(n_patients=20, n_genes=100, seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = rg.io.export_tables(mdata, tmp, rds=False)
    ...     manifest = json.loads((out / "manifest.json").read_text())
    >>> manifest["tables"]["radiomics"]["rows"], manifest["survival"]
    (20, [{'endpoint': 'os', 'time': 'os_months', 'event': 'os_event'}])
    """
    import pyreadr

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"tables": {}, "survival": [], "params": _params(dict(mdata.uns))}
    for name, kind, frame, source in _tables(mdata):
        name = _safe(name)
        table = _prepare(frame, kind)
        entry = {
            "kind": kind,
            "source": source,
            "csv": f"{name}.csv",
            "rds": f"{name}.rds" if rds else None,
            "rows": int(table.shape[0]),
            "row_names": table.columns[0],
            "columns": [
                {"name": c, "r_class": _r_class(table[c]), "description": _describe(c, table[c], name)}
                for c in table.columns
            ],
        }
        table.to_csv(out / entry["csv"], index=False, na_rep="NA")
        if rds:
            pyreadr.write_rds(out / entry["rds"], table)
        manifest["tables"][name] = entry
    obs = mdata.obs
    for col in obs.columns:
        if col.endswith("_months") and f"{col[:-7]}_event" in obs.columns:
            manifest["survival"].append({"endpoint": col[:-7], "time": col, "event": f"{col[:-7]}_event"})
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, default=str))
    (out / "load.R").write_text(render_load_r(manifest))
    return out
