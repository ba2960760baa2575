"""Render the ``load.R`` script that reads an exported cohort into R."""

from __future__ import annotations

import re

from ..errors import DataFormatError
from ._maps import render_maps

_HEADER = r"""# Load a radiogenomics cohort export into R (base R; 'survival' optional).
# Usage:  source("load.R")          (from R, with this folder as the working directory)
#         source("/path/to/load.R") (any working directory)
#         Rscript /path/to/load.R
# Result: a list `rg` with data frames (tables), numeric matrices with patient row names
# (modalities) and survival::Surv objects in rg$surv (one per endpoint).
rg_dir <- local({
  args <- commandArgs(trailingOnly = FALSE)
  file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
  sourced <- tryCatch(sys.frame(1)$ofile, error = function(e) NULL)
  if (!is.null(sourced)) dirname(normalizePath(sourced))
  else if (length(file_arg) == 1) dirname(normalizePath(file_arg))
  else getwd()
})
rg_read <- function(csv, rds, classes) {
  rds_path <- if (is.na(rds)) NA else file.path(rg_dir, rds)
  df <- if (!is.na(rds_path) && file.exists(rds_path)) readRDS(rds_path)
        else read.csv(file.path(rg_dir, csv), colClasses = classes, check.names = FALSE,
                      na.strings = "NA", stringsAsFactors = FALSE, encoding = "UTF-8")
  df <- as.data.frame(df, stringsAsFactors = FALSE)
  for (col in names(classes)) {
    if (classes[[col]] == "factor" && !is.factor(df[[col]])) df[[col]] <- factor(df[[col]])
    if (classes[[col]] == "logical" && !is.logical(df[[col]])) df[[col]] <- as.logical(df[[col]])
    if (is.double(df[[col]])) df[[col]][is.nan(df[[col]])] <- NA
  }
  attr(df, "datalabel") <- NULL
  attr(df, "var.labels") <- NULL
  df
}
rg_matrix <- function(df) {
  m <- as.matrix(df[, -1, drop = FALSE])
  storage.mode(m) <- "double"
  rownames(m) <- as.character(df[[1]])
  m
}
rg_rows <- function(df) {
  if (!anyDuplicated(df[[1]])) rownames(df) <- as.character(df[[1]])
  df
}
rg_verify <- function(sums) {
  tools_ns <- asNamespace("tools")
  use_sha <- exists("sha256sum", envir = tools_ns, inherits = FALSE)
  paths <- file.path(rg_dir, sums$file)
  gone <- sums$file[!file.exists(paths)]
  if (length(gone)) stop("load.R: missing file(s) ", paste(gone, collapse = ", "), " in ", rg_dir,
                         ". Export again with rg.io.export_tables(mdata, folder).", call. = FALSE)
  got <- if (use_sha) unname(get("sha256sum", envir = tools_ns)(paths)) else unname(tools::md5sum(paths))
  want <- if (use_sha) sums$sha256 else sums$md5
  bad <- sums$file[got != want]
  if (length(bad)) stop("load.R: ", length(bad), " file(s) in ", rg_dir, " differ from the ones this ",
                        "export wrote (", paste(bad, collapse = ", "), "): the folder mixes files of ",
                        "different exports or was edited. Export again with rg.io.export_tables(mdata, folder).",
                        call. = FALSE)
  invisible(TRUE)
}
rg <- list(tables = list(), surv = list())
"""


def _r_string(text: str) -> str:
    r"""Return ``text`` as an R string literal: every quote, backslash and control character escaped.

    Non-ASCII characters become ``\U{...}`` escapes so the script parses in any locale. NUL
    cannot be held by an R string and is refused.

    Examples
    --------
    >>> print(_r_string('x" <- file.create("HIT")' + chr(10)))
    "x\" <- file.create(\"HIT\")\n"
    """
    out = []
    for char in str(text):
        code = ord(char)
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif code == 0:
            msg = f"Name {text!r} contains a NUL character, which R strings cannot hold; rename it."
            raise DataFormatError(msg)
        elif code < 32 or code == 127:
            out.append(f"\\x{code:02x}")
        elif code > 127:
            out.append(f"\\U{{{code:x}}}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _comment(text: str) -> str:
    """Text safe inside an R comment (printable ASCII only, so it cannot end the line)."""
    return re.sub(r"[^\x20-\x7e]", "?", str(text))


def _sums(manifest: dict, manifest_sums: dict[str, str]) -> str:
    files, sha, md5 = ['"manifest.json"'], [_r_string(manifest_sums["sha256"])], [_r_string(manifest_sums["md5"])]
    for entry in [*manifest["tables"].values(), *manifest.get("maps", {}).values()]:
        for name, digest in entry["sha256"].items():
            files.append(_r_string(name))
            sha.append(_r_string(digest))
            md5.append(_r_string(entry["md5"][name]))
    return (
        f"rg_verify(data.frame(file = c({', '.join(files)}),\n"
        f"  sha256 = c({', '.join(sha)}),\n  md5 = c({', '.join(md5)}), stringsAsFactors = FALSE))"
    )


def render_load_r(manifest: dict, manifest_sums: dict[str, str]) -> str:
    """Return R code that checks every file of an export and reads every table it lists.

    Names from the data (tables, columns, endpoints) enter the code only as escaped string
    literals (``rg[["name"]]``), so no name can run as R code.
    """
    lines = [_HEADER, _sums(manifest, manifest_sums)]
    for name, entry in manifest["tables"].items():
        classes = ", ".join(f"{_r_string(c['name'])} = {_r_string(c['r_class'])}" for c in entry["columns"])
        rds = _r_string(entry["rds"]) if entry["rds"] else "NA"
        call = f"rg_read({_r_string(entry['csv'])}, {rds}, c({classes}))"
        target = _r_string(name)
        if entry["kind"] == "matrix":
            lines.append(f"rg[[{target}]] <- rg_matrix({call})  # {_comment(entry['source'])}")
        else:
            lines.append(f"rg$tables[[{target}]] <- rg_rows({call})  # {_comment(entry['source'])}")
    lines.extend(render_maps(manifest, _r_string))
    if manifest["survival"]:
        clinical = _r_string(next(n for n, e in manifest["tables"].items() if e["path"] == ["mdata", "obs"]))
        lines.append('if (requireNamespace("survival", quietly = TRUE)) {')
        for s in manifest["survival"]:
            time, event = _r_string(s["time"]), _r_string(s["event"])
            lines.append(
                f"  rg$surv[[{_r_string(s['endpoint'])}]] <- survival::Surv("
                f"rg$tables[[{clinical}]][[{time}]], rg$tables[[{clinical}]][[{event}]])"
            )
        lines.append("}")
    lines.append("invisible(rg)")
    return "\n".join(lines) + "\n"


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
