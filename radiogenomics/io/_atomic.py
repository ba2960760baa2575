"""Crash-safe writing: a file or a folder is replaced whole or not at all.

A writer puts its output next to the target (same folder, hence same file system), flushes it
to disk and then renames it over the target. A process killed at any point leaves either the old
version or the new one, plus at most a hidden ``.<name>.tmp-*`` leftover that the next write
removes.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

__all__ = ["atomic_folder", "atomic_path", "fsync_tree", "md5_file", "sha256_file"]

_RENAME_EXCHANGE = 2  # linux/fs.h


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (POSIX only for folders), to disk."""
    if path.is_dir() and os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(folder: Path) -> None:
    """Flush every file of ``folder`` and the folder itself to disk."""
    for item in folder.iterdir():
        if item.is_file():
            _fsync(item)
    _fsync(folder)


def sha256_file(path: Path) -> str:
    """Return the hex SHA-256 digest of a file."""
    return _digest(path, hashlib.sha256())


def md5_file(path: Path) -> str:
    """Return the hex MD5 digest of a file (what base R checks with ``tools::md5sum``)."""
    return _digest(path, hashlib.md5(usedforsecurity=False))


def _digest(path: Path, digest) -> str:
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _clean_leftovers(target: Path) -> None:
    for old in target.parent.glob(f".{target.name}.tmp-*"):
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                old.unlink()


@contextlib.contextmanager
def atomic_path(target: Path):
    """Yield a temporary path beside ``target``; on success flush it and rename it over ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.tmp-", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp)
        tmp.replace(target)
        _fsync(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where that is not available."""
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    func = getattr(libc, "renameat2", None)
    if func is None:
        return False
    at_fdcwd = -100
    res = func(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    return res == 0


@contextlib.contextmanager
def atomic_folder(target: Path):
    """Yield a fresh temporary folder beside ``target``; on success swap it in for ``target``.

    The old folder stays in place until the new one is complete and flushed. On Linux the swap is
    one atomic ``renameat2(RENAME_EXCHANGE)``; elsewhere the old folder is renamed aside first and
    restored if the second rename fails.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    _clean_leftovers(target)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        fsync_tree(tmp)
        if not target.exists():
            tmp.replace(target)
        elif _exchange(tmp, target):
            pass  # tmp now holds the old version, removed below
        else:
            aside = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
            aside.rmdir()
            target.replace(aside)
            try:
                tmp.replace(target)
            except OSError:
                aside.replace(target)
                raise
            shutil.rmtree(aside, ignore_errors=True)
        _fsync(target.parent)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
