"""Reading the text tables a study file points at, with errors that name file, line, column, key and fix."""

from __future__ import annotations

import contextlib
import json
import re
from typing import TYPE_CHECKING

import pandas as pd

from ..errors import DataFormatError
from ..io._text import open_text, read_bytes

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

__all__ = ["read_text_table", "reading"]

_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_HEAD = 1 << 20  # bytes checked for binary content before pandas reads the file


def _bytes(path: Path, limit: int | None) -> bytes:
    return read_bytes(path, "table", limit)  # compression recognised by content, as open_text reads it


def _line_col(data: bytes, offset: int) -> tuple[int, int]:
    return data.count(b"\n", 0, offset) + 1, offset - (data.rfind(b"\n", 0, offset) + 1) + 1


def _not_text(data: bytes, *, complete: bool) -> tuple[int, str] | None:
    """Offset of the first byte that is not UTF-8 text and what the file seems to be, or None."""
    if data[:4] == b"PK\x03\x04":
        return 0, "a zip archive, e.g. an Excel .xlsx workbook: save the sheet as CSV (UTF-8)"
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return 0, "UTF-16 text: save it as UTF-8 (in Excel: 'CSV UTF-8')"
    nul = data.find(b"\0")
    try:
        data.decode("utf-8")
        bad = -1
    except UnicodeDecodeError as err:
        bad = -1 if (not complete and err.reason == "unexpected end of data") else err.start
    if nul >= 0 and (bad < 0 or nul < bad):
        return nul, "binary content (a NUL byte), not a text table"
    if bad >= 0:
        if b"\0" in data[:bad] or data[bad] in (0x89, 0x1F, 0x7F):  # PNG, gzip without .gz, ELF
            return bad, "binary content, not a text table"
        return bad, "not UTF-8 text (e.g. Latin-1): save it as UTF-8"
    return None


def _binary_error(path: Path, where: str, data: bytes, found: tuple[int, str]) -> DataFormatError:
    offset, what = found
    line, col = _line_col(data, offset)
    byte = f"byte 0x{data[offset]:02x}" if offset < len(data) else "end of file"
    msg = (
        f"{path.name}, line {line}, column {col} ({byte} at offset {offset}): the file is {what}. "
        f"It is named by {where}, which expects a text table (CSV/TSV); point the key at the table "
        f"or convert the file ({path})."
    )
    return DataFormatError(msg)


def _ragged_error(path: Path, where: str, sep: str, sep_key: str, text: str) -> DataFormatError | None:
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match is None:
        return None
    expected, line, saw = (int(g) for g in match.groups())
    col = ""
    with contextlib.suppress(OSError, UnicodeDecodeError, IndexError):
        row = _bytes(path, None).decode("utf-8").splitlines()[line - 1]
        col = f", column {len(sep.join(row.split(sep)[:expected])) + len(sep) + 1}"
    name = _SEP_NAMES.get(sep, repr(sep))
    msg = (
        f"{path.name}, line {line}{col}: {saw} fields where the header has {expected} ({name}-separated). "
        f"The file is named by {where}. Fix that row (a stray {name}, or a value containing one that "
        f"needs double quotes), or set {sep_key} if the file uses another separator."
    )
    return DataFormatError(msg)


def _empty_error(path: Path, where: str) -> DataFormatError:
    msg = f"{path.name} is empty (no header line); it is named by {where}: point the key at the table"
    return DataFormatError(msg)


@contextlib.contextmanager
def reading(path: Path, *, where: str, sep: str = ",", sep_key: str = "sep") -> Iterator[None]:
    """Turn a reader's failure on an unreadable table into an error naming file, line, key and fix.

    ``where`` names the study-file key that points at the file (``inputs.clinical.path
    (study.yaml, line 27)``); ``sep_key`` is the key that sets its separator.
    """
    try:
        yield
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        data = _bytes(path, None)
        found = _not_text(data, complete=True)
        if found is not None:
            raise _binary_error(path, where, data, found) from err
        if isinstance(err, pd.errors.EmptyDataError):
            raise _empty_error(path, where) from err
        ragged = _ragged_error(path, where, sep, sep_key, str(err))
        if ragged is not None:
            raise ragged from err
        msg = f"{path.name}: cannot be read as a table ({str(err).strip()}); it is named by {where}"
        raise DataFormatError(msg) from err


def read_text_table(path: Path, *, sep: str, where: str, sep_key: str) -> pd.DataFrame:
    """Read a CSV/TSV table, checking first that it is text and after that the separator fits.

    Raises
    ------
    DataFormatError
        Binary or non-UTF-8 content, a row with more fields than the header, an empty file, or a
        single column whose header holds another separator (the message gives the line, the column
        where known, ``where`` and the fix, e.g. the value to set ``sep_key`` to).
    """
    if path.is_file() and path.stat().st_size == 0:
        raise _empty_error(path, where)
    head = _bytes(path, _HEAD)
    found = _not_text(head, complete=len(head) < _HEAD)
    if found is not None:
        raise _binary_error(path, where, head, found)
    with reading(path, where=where, sep=sep, sep_key=sep_key), open_text(path, f"table named by {where}") as handle:
        frame = pd.read_csv(handle, sep=sep)
    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        other = next((s for s in _SEP_NAMES if s != sep and s in header), None)
        if other is not None:
            msg = (
                f"{path.name}, line 1: one column '{header[:60]}': the file looks {_SEP_NAMES[other]}-separated "
                f"but was read as {_SEP_NAMES.get(sep, repr(sep))}-separated. Set {sep_key}: "
                f"{json.dumps(other)} in the study file (the file is named by {where})."
            )
            raise DataFormatError(msg)
    return frame
