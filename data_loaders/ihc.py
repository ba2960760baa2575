"""Immunohistochemistry score tables (PD-L1 TPS and CPS) with the standard cut-offs."""

from __future__ import annotations

import re
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from radiogenomics.errors import DataFormatError, ParameterError

from ._common import as_path, check_unique, read_delimited

if TYPE_CHECKING:
    from collections.abc import Sequence
    from os import PathLike

__all__ = ["read_ihc_scores"]

_SCORE = re.compile(r"^\s*(<=|>=|<|>|≤|≥)?\s*(\d+(?:\.\d+)?)\s*%?\s*$")


def _labels(cuts: Sequence[float], unit: str) -> list[str]:
    labels = [f"<{cuts[0]:g}{unit}"]
    for lo, hi in pairwise(cuts):
        labels.append(
            f"{lo:g}-{hi - 1:g}{unit}" if float(lo).is_integer() and float(hi).is_integer() else f"{lo:g}-<{hi:g}{unit}"
        )
    labels.append(f">={cuts[-1]:g}{unit}")
    return labels


def _parse(
    raw: pd.Series, cuts: Sequence[float], *, path, column: str, first_line: int, top: float | None, unit: str
) -> tuple[np.ndarray, pd.Categorical]:
    labels = _labels(cuts, unit)
    values = np.full(len(raw), np.nan)
    bins: list[int | None] = []
    for i, cell in enumerate(raw):
        if pd.isna(cell) or str(cell).strip() == "":
            bins.append(None)
            continue
        m = _SCORE.match(str(cell))
        if m is None:
            msg = f"IHC file {str(path)!r}, line {first_line + i}, column {column!r}: {cell!r} is not a score (e.g. 5, 5%, <1%, >=50%)."
            raise DataFormatError(msg)
        op, number = m.group(1), float(m.group(2))
        if number < 0 or (top is not None and number > top):
            msg = f"IHC file {str(path)!r}, line {first_line + i}, column {column!r}: {cell!r} is outside 0-{top:g}."
            raise DataFormatError(msg)
        if op is None:
            values[i] = number
            probe = number
        elif op in ("<", "≤", "<="):
            probe = number - 1e-9 if op == "<" else number
            if probe >= cuts[0] and np.searchsorted(cuts, probe, side="right") != np.searchsorted(
                cuts, 0, side="right"
            ):
                msg = f"IHC file {str(path)!r}, line {first_line + i}, column {column!r}: {cell!r} spans several groups of the cut-offs {list(cuts)}."
                raise DataFormatError(msg)
        else:
            probe = number + 1e-9 if op == ">" else number
            if probe < cuts[-1]:
                msg = f"IHC file {str(path)!r}, line {first_line + i}, column {column!r}: {cell!r} spans several groups of the cut-offs {list(cuts)}."
                raise DataFormatError(msg)
        bins.append(int(np.searchsorted(cuts, probe, side="right")))
    groups = pd.Categorical([labels[b] if b is not None else None for b in bins], categories=labels, ordered=True)
    return values, groups


def read_ihc_scores(
    path: PathLike[str] | str,
    *,
    id_column: str = "patient_id",
    tps_column: str | None = "PD-L1 TPS",
    cps_column: str | None = "PD-L1 CPS",
    tps_cutoffs: Sequence[float] = (1, 50),
    cps_cutoffs: Sequence[float] = (1, 10),
    marker: str = "pdl1",
) -> pd.DataFrame:
    """Read immunohistochemistry scores such as PD-L1 TPS and CPS and group them by cut-offs.

    The tumour proportion score (TPS, % of viable tumour cells with membrane staining,
    0-100) is grouped by the standard PD-L1 cut-offs 1 % and 50 % (``<1%``, ``1-49%``,
    ``>=50%``, as used for pembrolizumab in NSCLC); the combined positive score (CPS, stained
    tumour cells, lymphocytes and macrophages per 100 tumour cells, reported up to 100) by 1 and
    10. Cells may read ``5``, ``5%``, ``<1%``, ``>=50%`` or ``≥50``: a censored value (``<1%``)
    gives a missing number but a known group.

    Parameters
    ----------
    path
        Comma-separated (``.csv``) or tab-separated (other extensions) table, one row per patient.
    id_column
        Patient ID column.
    tps_column
        TPS column (``None`` if absent).
    cps_column
        CPS column (``None`` if absent).
    tps_cutoffs
        Increasing TPS cut-offs in %; a value equal to a cut-off belongs to the upper group.
    cps_cutoffs
        Increasing CPS cut-offs.
    marker
        Prefix of the output columns.

    Returns
    -------
    DataFrame indexed by patient with the other columns as read plus ``<marker>_tps`` (float,
    %), ``<marker>_tps_group`` (ordered categorical), ``<marker>_cps`` and ``<marker>_cps_group``.

    Raises
    ------
    MissingColumnError
        ``id_column`` or a score column is absent.
    DataFormatError
        Unreadable or out-of-range scores, duplicated patients; the message names the line and column.

    Examples
    --------
    >>> import data_loaders as dl
    >>> ihc = dl.read_ihc_scores(dl.example_file("ihc_scores"))
    >>> ihc["pdl1_tps_group"].tolist()
    ['<1%', '<1%', '1-49%', '>=50%', '>=50%']
    >>> ihc["pdl1_cps_group"].cat.categories.tolist()
    ['<1', '1-9', '>=10']
    """
    p = as_path(path, "IHC")
    sep = "," if p.suffix.lower() == ".csv" else "\t"
    scores = [c for c in (tps_column, cps_column) if c is not None]
    if not scores:
        msg = "Give at least one of tps_column and cps_column."
        raise ParameterError(msg)
    for cuts in (tps_cutoffs, cps_cutoffs):
        if list(cuts) != sorted(set(cuts)) or not cuts:
            msg = f"Cut-offs must be increasing and non-empty, got {list(cuts)}."
            raise ParameterError(msg)
    table, line = read_delimited(
        p,
        what="IHC",
        sep=sep,
        comment=None,
        required=[id_column, *scores],
        dtype=str,
        keep_default_na=False,
        na_values=["", "NA"],
    )
    check_unique(table[id_column].fillna(""), path=p, what="IHC", kind="patient", first_line=line + 1)
    for kind, col, cuts in (("tps", tps_column, tps_cutoffs), ("cps", cps_column, cps_cutoffs)):
        if col is None:
            continue
        unit = "%" if kind == "tps" else ""
        values, groups = _parse(table[col], list(cuts), path=p, column=col, first_line=line + 1, top=100.0, unit=unit)
        table[f"{marker}_{kind}"] = values
        table[f"{marker}_{kind}_group"] = groups
    return table.set_index(id_column, drop=False).rename_axis(None)
