r"""The one reading path for text inputs: path checks, gzip by content, UTF-8, byte-order mark, CRLF.

Every reader of a text file given by a user (the ``data_loaders`` readers, GMT gene-set files, the
study file and its table inputs, extraction manifests, pyradiomics parameter files, IBSI reference
tables) opens it through :func:`open_text`, so each of them

- says which file is missing, is a folder, or is empty, and what to do;
- reads gzip, bzip2 and xz files whatever their name (recognised by content, not by suffix);
- decodes UTF-8 and strips a UTF-8 byte-order mark (Excel's "CSV UTF-8");
- turns Windows (CRLF) and old Mac (CR) line ends into ``\n``;
- raises :class:`~radiogenomics.errors.DataFormatError` naming the file, the line and the byte for
  text in another encoding (Latin-1, Windows-1252, UTF-16), for a truncated or damaged compressed file
  and for binary files (zip, Excel workbooks, HDF5), with the conversion to apply.
"""

from __future__ import annotations

import bz2
import difflib
import gzip
import io
import lzma
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ..errors import DataFormatError, MissingFileError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from os import PathLike

    import pandas as pd

__all__ = ["check_path", "compression", "open_text", "read_bytes", "read_table", "read_text"]

# Compressed files are read whatever their name: the format is recognised by its first bytes.
_COMPRESSED: dict[bytes, tuple[str, Callable[..., Any]]] = {
    b"\x1f\x8b": ("gzip", gzip.open),
    b"BZh": ("bzip2", bz2.open),
    b"\xfd7zXZ\x00": ("xz", lzma.open),
}
# Leading bytes of files that are not text, with what they are and what to do.
_BINARY = {
    b"PK\x03\x04": ("a zip archive (or an Excel .xlsx workbook)", "unzip it, or save the sheet as tab-separated text"),
    b"\xd0\xcf\x11\xe0": ("an Excel .xls workbook", "save the sheet as tab-separated or CSV UTF-8 text"),
    b"%PDF": ("a PDF document", "export the table as tab-separated text"),
}
_HDF5 = b"\x89HDF\r\n\x1a\n"  # at offset 0, or after a user block of 512, 1024, 2048... bytes (.h5mu)
_UTF16 = {b"\xff\xfe": "UTF-16 (little-endian)", b"\xfe\xff": "UTF-16 (big-endian)"}


def _near(p: Path) -> str:
    """A hint naming files of the same folder with a similar name."""
    if not p.parent.is_dir():
        return f" (the folder {str(p.parent)!r} does not exist either)"
    names = [c.name for c in p.parent.iterdir()]
    close = difflib.get_close_matches(p.name, names, n=3, cutoff=0.6)
    return f" (did you mean {close}?)" if close else ""


def check_path(path: PathLike[str] | str, what: str, *, kind: Literal["file", "folder"] = "file") -> Path:
    """Return ``path`` as a :class:`~pathlib.Path` after checking it exists and is a ``kind``.

    Parameters
    ----------
    path
        The path given by the user.
    what
        What the file holds, for messages (``"MAF"``, ``"GMT"``).
    kind
        ``"file"`` (a non-empty file) or ``"folder"``.

    Returns
    -------
    The path.

    Raises
    ------
    MissingFileError
        Nothing exists at ``path`` (similar names in the folder are suggested).
    DataFormatError
        A folder where a file is expected (its first entries are listed), a file where a folder
        is expected, or an empty file.

    Examples
    --------
    >>> check_path("no_such.maf", "MAF")
    Traceback (most recent call last):
    ...
    radiogenomics.errors.MissingFileError: MAF file 'no_such.maf' does not exist; check the path and the working folder, or download the file again.
    """
    p = Path(path)
    noun = "folder" if kind == "folder" else "file"
    if not p.exists():
        msg = f"{what} {noun} {str(p)!r} does not exist{_near(p)}; check the path and the working folder, or download the {noun} again."
        raise MissingFileError(msg)
    if kind == "file" and p.is_dir():
        entries = sorted(c.name for c in p.iterdir())
        msg = f"{what}: {str(p)!r} is a folder, not a file; pass the file itself" + (
            f" (the folder holds {entries[:5]}{' ...' if len(entries) > 5 else ''})."
            if entries
            else " (the folder is empty)."
        )
        raise DataFormatError(msg)
    if kind == "folder" and not p.is_dir():
        msg = f"{what}: {str(p)!r} is a file, not a folder; pass the folder that holds the files (e.g. {str(p.parent)!r})."
        raise DataFormatError(msg)
    if kind == "file" and p.stat().st_size == 0:
        msg = f"{what} file {str(p)!r} is empty (0 bytes); download or export it again."
        raise DataFormatError(msg)
    return p


def _encoding_error(p: Path, what: str, opener) -> DataFormatError:
    """The error for text that is not UTF-8: line, byte, likely encoding and the conversion."""
    number, detail = 0, ""
    with opener(p, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as err:
                bad = line[err.start : err.start + 1]
                shown = bad.decode("cp1252", errors="replace")
                detail = f", line {number}: byte 0x{bad.hex()} ({shown!r} in Windows-1252/Latin-1) is not UTF-8"
                break
    msg = (
        f"{what} file {str(p)!r}{detail}; the file is not UTF-8 text, probably Windows-1252/Latin-1 (Excel's plain "
        "'CSV'). Re-save it as UTF-8 (Excel: 'CSV UTF-8'; shell: iconv -f WINDOWS-1252 -t UTF-8 in.txt > out.txt)."
    )
    return DataFormatError(msg)


@contextmanager
def open_text(path: PathLike[str] | str, what: str) -> Iterator[io.TextIOBase]:
    r"""Open a text file for reading through the package's one reading path.

    Gzip, bzip2 and xz are recognised by content; text is decoded as UTF-8 with a byte-order mark removed and
    line ends normalised to ``\n``. Errors raised while the file is read inside the ``with``
    block (not UTF-8, truncated gzip) are translated into :class:`DataFormatError` naming the file.

    Parameters
    ----------
    path
        Path of a text file, optionally compressed (gzip, bzip2, xz).
    what
        What the file holds, for messages.

    Returns
    -------
    A context manager yielding a text handle.

    Raises
    ------
    MissingFileError
        No file at ``path``.
    DataFormatError
        A folder or an empty file; a binary file (zip, Excel workbook, HDF5, PDF) or UTF-16 text;
        text that is not UTF-8 (line and byte named); a truncated or damaged compressed file.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "t.tsv"
    ...     _ = path.write_bytes(b"\xef\xbb\xbfgene\tS1\r\nTP53\t5\r\n")
    ...     with open_text(path, "table") as handle:
    ...         handle.read()
    'gene\tS1\nTP53\t5\n'
    """
    p = check_path(path, what)
    with p.open("rb") as raw:
        block = raw.read(4104)
    head = block[:8]
    if any(block[i : i + 8] == _HDF5 for i in (0, 512, 1024, 2048, 4096)):
        msg = f"{what} file {str(p)!r} is an HDF5 file (.h5mu/.h5ad), not text; read it with rg.io.read_h5mu or anndata.read_h5ad."
        raise DataFormatError(msg)
    for magic, (kind, fix) in _BINARY.items():
        if head.startswith(magic):
            msg = f"{what} file {str(p)!r} is {kind}, not text; {fix}."
            raise DataFormatError(msg)
    for bom, kind in _UTF16.items():
        if head.startswith(bom):
            msg = (
                f"{what} file {str(p)!r} is {kind} text (Excel's 'Unicode Text'); re-save it as UTF-8 "
                "(Excel: 'CSV UTF-8'; shell: iconv -f UTF-16 -t UTF-8 in.txt > out.txt)."
            )
            raise DataFormatError(msg)
    opener = _opener(p)
    handle = io.TextIOWrapper(opener(p, "rb"), encoding="utf-8-sig", newline=None)
    try:
        with _truncation(p, what):
            yield handle
    except UnicodeDecodeError:
        raise _encoding_error(p, what, opener) from None
    finally:
        handle.close()


def compression(path: PathLike[str] | str) -> str:
    """Return ``"gzip"``, ``"bzip2"``, ``"xz"`` or ``"zip"`` when the file's first bytes say it is compressed, else ``""``.

    Parameters
    ----------
    path
        An existing file.

    Returns
    -------
    The compression format, or ``""``.

    Examples
    --------
    >>> import gzip, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "cohort.h5mu"
    ...     _ = path.write_bytes(gzip.compress(b"x"))
    ...     compression(path)
    'gzip'
    """
    with Path(path).open("rb") as raw:
        head = raw.read(8)
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    return next((kind for magic, (kind, _) in _COMPRESSED.items() if head.startswith(magic)), "")


def _opener(p: Path):
    """``open``, or the decompressing opener of the compression recognised by the file's first bytes."""
    with p.open("rb") as raw:
        head = raw.read(8)
    return next((o for magic, (_, o) in _COMPRESSED.items() if head.startswith(magic)), open)


@contextmanager
def _truncation(p: Path, what: str) -> Iterator[None]:
    """Translate the errors of reading a truncated or damaged compressed file."""
    try:
        yield
    except (EOFError, zlib.error, gzip.BadGzipFile, lzma.LZMAError) as err:
        kind = next((k for k, o in _COMPRESSED.values() if o is _opener(p)), "compressed")
        msg = (
            f"{what} file {str(p)!r} is a truncated or damaged {kind} file ({err}); the download or copy is "
            f"incomplete. Download it again (check it with: {kind} -t {p.name})."
        )
        raise DataFormatError(msg) from None


def read_bytes(path: PathLike[str] | str, what: str, limit: int | None = None) -> bytes:
    r"""Return the (decompressed) bytes of a file, or its first ``limit`` bytes, for content checks.

    Compression is recognised by content as in :func:`open_text`; a truncated or damaged
    compressed file raises :class:`DataFormatError` naming the file.

    Parameters
    ----------
    path
        Path of a file.
    what
        What the file holds, for messages.
    limit
        Number of bytes to read; ``None`` reads all.

    Returns
    -------
    The bytes.

    Examples
    --------
    >>> import gzip, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "table.csv"
    ...     _ = path.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    ...     read_bytes(path, "table", limit=3)
    b'a,b'
    """
    p = Path(path)
    with _truncation(p, what), _opener(p)(p, "rb") as handle:
        return handle.read() if limit is None else handle.read(limit)


def read_text(path: PathLike[str] | str, what: str) -> str:
    r"""Return the whole text of a (possibly gzipped) UTF-8 file, as :func:`open_text` reads it.

    Parameters
    ----------
    path
        Path of a text file.
    what
        What the file holds, for messages.

    Returns
    -------
    The text, without a byte-order mark, with ``\n`` line ends.

    Examples
    --------
    >>> import gzip, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "sets.gmt"  # gzipped without a .gz suffix
    ...     _ = path.write_bytes(gzip.compress("S\td\tA\r\n".encode()))
    ...     read_text(path, "GMT")
    'S\td\tA\n'
    """
    with open_text(path, what) as handle:
        return handle.read()


def read_table(path: PathLike[str] | str, what: str, **kwargs) -> pd.DataFrame:
    r"""Read a delimited table with :func:`pandas.read_csv` through :func:`open_text`.

    Parameters
    ----------
    path
        Path of a (possibly gzipped) UTF-8 text table.
    what
        What the file holds, for messages.
    **kwargs
        Passed to :func:`pandas.read_csv` (``sep``, ``dtype``...).

    Returns
    -------
    The table.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "clinical.csv"
    ...     _ = path.write_bytes(b"\xef\xbb\xbfpatient,age\r\nP1,61\r\n")
    ...     read_table(path, "clinical").columns.tolist()
    ['patient', 'age']
    """
    import pandas as pd

    with open_text(path, what) as handle:
        return pd.read_csv(handle, **kwargs)
