"""Export association maps (x-by-y matrices in ``uns``) as compact binary matrices R reads with ``readBin``.

A 1,000 x 20,000 map as CSV or RDS takes minutes and gigabytes; as little-endian float32 in
column-major order it is 80 MB per matrix, written and read in about a second. ``load.R`` turns
each file into an R numeric matrix with dimnames (``rg$maps$<name>$r``, ``$p``, ``$padj``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ._atomic import md5_file, sha256_file

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from mudata import MuData

__all__ = ["render_maps", "write_maps"]

# matrices exported (when present); test codes and statistics stay in the h5mu file and the table
_EXPORTED = ("r", "p", "padj", "p_fwer", "n")


def _maps(uns: dict, path: tuple[str, ...], where: str) -> Iterator[tuple[tuple[str, ...], dict, str]]:
    """Yield ``(path, stored dict, description)`` of every association map (x/y names + 2-D matrices)."""
    for key, value in uns.items():
        if not isinstance(value, dict):
            continue
        if "x_features" in value and "y_features" in value and isinstance(value.get("r"), np.ndarray):
            yield (*path, str(key)), value, f"{where}[{key!r}]"
        else:
            yield from _maps(value, (*path, str(key)), f"{where}[{key!r}]")


def _all_maps(mdata: MuData) -> Iterator[tuple[tuple[str, ...], dict, str]]:
    yield from _maps(dict(mdata.uns), ("mdata", "uns"), "mdata.uns")
    for mod, adata in mdata.mod.items():
        yield from _maps(dict(adata.uns), ("mod", mod, "uns"), f"mdata.mod[{mod!r}].uns")


def write_maps(mdata: MuData, folder: Path, file_stem: Callable[[tuple[str, ...]], str]) -> dict:
    """Write every association map of ``mdata`` into ``folder``; return the manifest entries.

    Each map gets two CSV files of names (rows: x features, columns: y features) and one
    binary file per matrix: float32 (``r``, ``p``, ``padj``, ``p_fwer``) or int32 (``n``, only
    when it differs between pairs), little-endian, column-major, NaN for missing.
    """
    entries = {}
    for path, stored, source in _all_maps(mdata):
        stem = file_stem(path)
        names = {}
        for axis in ("x_features", "y_features"):
            names[axis] = f"{stem}.{axis}.csv"
            frame = pd.DataFrame({"name": np.asarray(stored[axis]).astype(str)})
            frame.to_csv(folder / names[axis], index=False)
        shape = (len(stored["x_features"]), len(stored["y_features"]))
        matrices = {}
        for name in _EXPORTED:
            values = stored.get(name)
            if not isinstance(values, np.ndarray) or values.shape != shape:
                continue
            if name == "n" and (values.size == 0 or (values == values.flat[0]).all()):
                continue  # constant: the number of patients is in params
            dtype = "<i4" if values.dtype.kind in "iu" else "<f4"
            file = f"{stem}.{name}.bin"
            with (folder / file).open("wb") as handle:
                for start in range(0, shape[1], 2048):  # column-major in slices: bounded extra memory
                    handle.write(np.ascontiguousarray(values[:, start : start + 2048].T, dtype=dtype).tobytes())
            matrices[name] = {"file": file, "type": "integer" if dtype == "<i4" else "float32"}
        files = [*names.values(), *(m["file"] for m in matrices.values())]
        entries[path[-1] if path[:2] == ("mdata", "uns") else stem] = {
            "kind": "association_map",
            "source": source,
            "path": list(path),
            "rows": names["x_features"],
            "columns": names["y_features"],
            "shape": list(shape),
            "matrices": matrices,
            "sha256": {f: sha256_file(folder / f) for f in files},
            "md5": {f: md5_file(folder / f) for f in files},
        }
    return entries


_READER = r"""rg_map_matrix <- function(file, rows, cols, type) {
  rn <- read.csv(file.path(rg_dir, rows), colClasses = "character", encoding = "UTF-8")[[1]]
  cn <- read.csv(file.path(rg_dir, cols), colClasses = "character", encoding = "UTF-8")[[1]]
  con <- file(file.path(rg_dir, file), "rb")
  on.exit(close(con))
  n <- length(rn) * length(cn)
  v <- if (type == "integer") readBin(con, "integer", n = n, size = 4L, endian = "little")
       else readBin(con, "double", n = n, size = 4L, endian = "little")
  if (length(v) != n) stop("load.R: ", file, " is truncated. Export again with rg.io.export_tables.", call. = FALSE)
  if (is.double(v)) v[is.nan(v)] <- NA
  matrix(v, nrow = length(rn), ncol = length(cn), dimnames = list(rn, cn))
}
rg$maps <- list()"""


def render_maps(manifest: dict, r_string: Callable[[str], str]) -> list[str]:
    """Return the ``load.R`` lines that read the association maps listed in ``manifest``."""
    maps = manifest.get("maps", {})
    if not maps:
        return []
    lines = [_READER]
    for name, entry in maps.items():
        target = r_string(name)
        lines.append(f"rg$maps[[{target}]] <- list()")
        for matrix, spec in entry["matrices"].items():
            call = (
                f"rg_map_matrix({r_string(spec['file'])}, {r_string(entry['rows'])}, "
                f"{r_string(entry['columns'])}, {r_string(spec['type'])})"
            )
            lines.append(f"rg$maps[[{target}]][[{r_string(matrix)}]] <- {call}")
    return lines
