"""Render the ``load.R`` script that reads an exported cohort into R."""

from __future__ import annotations

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
                      na.strings = "NA", stringsAsFactors = FALSE)
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
rg <- list(tables = list(), surv = list())
"""


def _r_string(text: str) -> str:
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_load_r(manifest: dict) -> str:
    """Return R code reading every table listed in an export manifest."""
    lines = [_HEADER]
    for name, entry in manifest["tables"].items():
        classes = ", ".join(f"{_r_string(c['name'])} = {_r_string(c['r_class'])}" for c in entry["columns"])
        rds = _r_string(entry["rds"]) if entry["rds"] else "NA"
        call = f"rg_read({_r_string(entry['csv'])}, {rds}, c({classes}))"
        if entry["kind"] == "matrix":
            lines.append(f"rg${name} <- rg_matrix({call})  # {entry['source']}")
        else:
            lines.append(f"rg$tables${name} <- {call}  # {entry['source']}")
            lines.append(
                f"if (!anyDuplicated(rg$tables${name}[[1]])) rownames(rg$tables${name}) <- as.character(rg$tables${name}[[1]])"
            )
    if manifest["survival"]:
        lines.append('if (requireNamespace("survival", quietly = TRUE)) {')
        for s in manifest["survival"]:
            time, event = _r_string(s["time"]), _r_string(s["event"])
            lines.append(
                f"  rg$surv${s['endpoint']} <- survival::Surv(rg$tables$clinical[[{time}]], rg$tables$clinical[[{event}]])"
            )
        lines.append("}")
    lines.append("invisible(rg)")
    return "\n".join(lines) + "\n"
