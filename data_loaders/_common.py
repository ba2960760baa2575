"""Shared reading helpers: file checks, header detection and errors that name file, line and column."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from radiogenomics.errors import DataFormatError, MissingColumnError
from radiogenomics.io._text import check_path, open_text

if TYPE_CHECKING:
    from collections.abc import Sequence
    from os import PathLike
    from pathlib import Path

__all__ = [
    "as_path",
    "check_columns",
    "check_unique",
    "count_comment_lines",
    "header_fields",
    "numeric_block",
    "read_delimited",
]

_OTHER_SEPS = {"\t": "tab", ",": "comma", ";": "semicolon", "|": "pipe"}


def as_path(path: PathLike[str] | str, what: str) -> Path:
    """Return ``path`` as a :class:`~pathlib.Path`; raise if it is missing, a folder or empty.

    Raises
    ------
    MissingFileError
        Nothing at ``path``; the message suggests similar names in its folder and says to check
        the path or download the file again.
    DataFormatError
        A folder (its entries are listed) or an empty file.
    """
    return check_path(path, what)


def count_comment_lines(path: Path, prefix: str = "#", *, what: str = "text") -> tuple[int, list[str]]:
    """Return the number of leading lines starting with ``prefix`` and those lines (stripped)."""
    lines: list[str] = []
    with open_text(path, what) as handle:
        for line in handle:
            if not line.startswith(prefix):
                break
            lines.append(line.rstrip("\r\n"))
    return len(lines), lines


def _header_line(path: Path, skip: int, what: str = "text") -> str | None:
    with open_text(path, what) as handle:
        for i, line in enumerate(handle):
            if i == skip:
                return line.rstrip("\r\n")
    return None


def header_fields(path: Path, skip: int, sep: str, *, what: str = "text") -> list[str]:
    """Return the raw column names of the header line after ``skip`` lines (duplicates kept)."""
    line = _header_line(path, skip, what)
    return [] if line is None else line.split(sep)


def read_delimited(
    path: Path,
    *,
    what: str,
    sep: str = "\t",
    comment: str | None = "#",
    required: Sequence[str] = (),
    **kwargs,
) -> tuple[pd.DataFrame, int]:
    """Read a delimited text table after its leading comment lines.

    Read through :func:`radiogenomics.io._text.open_text`: gzip by content, UTF-8 with a clear
    error on other encodings, byte-order mark removed, CRLF line ends handled.

    Returns
    -------
    The table (all columns as read by pandas) and the 1-based line number of its header.
    """
    skip = count_comment_lines(path, comment, what=what)[0] if comment else 0
    header = _header_line(path, skip, what)
    if header is None or not header.strip():
        msg = f"{what} file {str(path)!r} has no header line after {skip} comment lines (expected columns {list(required)})."
        raise DataFormatError(msg)
    with open_text(path, what) as handle:
        table = pd.read_csv(handle, sep=sep, skiprows=skip, **kwargs)
    check_columns(table, required, path=path, what=what, line=skip + 1, sep=sep, header=header)
    if table.empty:
        msg = f"{what} file {str(path)!r} has a header (line {skip + 1}) but no data rows."
        raise DataFormatError(msg)
    return table, skip + 1


def check_columns(
    table: pd.DataFrame,
    required: Sequence[str],
    *,
    path: Path | str,
    what: str,
    line: int,
    sep: str = "\t",
    header: str | None = None,
) -> None:
    """Raise :class:`MissingColumnError` naming the file, header line and absent columns."""
    missing = [c for c in required if c not in table.columns]
    if not missing:
        return
    name = _OTHER_SEPS.get(sep, repr(sep))
    if header is not None and table.shape[1] <= 1:
        found = [label for s, label in _OTHER_SEPS.items() if s != sep and s in header]
        if found:
            msg = (
                f"{what} file {str(path)!r}, line {line}: expected {name}-separated columns but the header has "
                f"no {name} and contains {found[0]}s ({header[:80]!r}). Save the file {name}-separated or pass the "
                "matching separator."
            )
            raise DataFormatError(msg)
    msg = (
        f"{what} file {str(path)!r}, line {line}: required column(s) {missing} not found; "
        f"columns are {list(map(str, table.columns))[:12]}. Check that this is the right file type."
    )
    raise MissingColumnError(msg)


def check_unique(values: Sequence[str] | pd.Index, *, path: Path | str, what: str, kind: str, first_line: int) -> None:
    """Raise :class:`DataFormatError` when ``values`` repeat, naming the repeated value and its lines."""
    index = pd.Index(values)
    dup = index.duplicated(keep=False)
    if not dup.any():
        return
    first = index[dup][0]
    rows = np.flatnonzero(index == first)
    lines = [int(first_line + r) for r in rows[:5]]
    msg = (
        f"{what} file {str(path)!r}: duplicated {kind} {first!r} on lines {lines} "
        f"({int(index.duplicated().sum())} duplicates in total). Remove or merge the duplicates before loading."
    )
    raise DataFormatError(msg)


def numeric_block(
    frame: pd.DataFrame,
    *,
    path: Path | str,
    what: str,
    first_line: int,
    dtype=np.float64,
    nonnegative: bool = False,
    allow_missing: bool = True,
) -> np.ndarray:
    """Convert ``frame`` to numbers; raise naming line, column and value of the first bad cell.

    ``first_line`` is the file line number of the first row of ``frame``.
    """
    try:
        values = frame.to_numpy(dtype=dtype)
    except (TypeError, ValueError):
        coerced = frame.apply(pd.to_numeric, errors="coerce")
        bad = coerced.isna() & frame.notna()
        row, col = (int(v[0]) for v in np.nonzero(bad.to_numpy()))
        msg = (
            f"{what} file {str(path)!r}, line {first_line + row}, column {frame.columns[col]!r}: "
            f"value {frame.iat[row, col]!r} is not a number. Fix or remove that cell."
        )
        raise DataFormatError(msg) from None
    if not allow_missing and np.isnan(values).any():
        row, col = (int(v[0]) for v in np.nonzero(np.isnan(values)))
        msg = f"{what} file {str(path)!r}, line {first_line + row}, column {frame.columns[col]!r}: value is missing."
        raise DataFormatError(msg)
    if nonnegative and (values < 0).any():
        row, col = (int(v[0]) for v in np.nonzero(values < 0))
        msg = (
            f"{what} file {str(path)!r}, line {first_line + row}, column {frame.columns[col]!r}: "
            f"negative value {values[row, col]!r}; counts must be >= 0 (is this a log-transformed file?)."
        )
        raise DataFormatError(msg)
    return values
