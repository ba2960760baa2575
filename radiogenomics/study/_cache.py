"""Content-addressed step cache: one folder per step result, written atomically, checked on read."""

from __future__ import annotations

import hashlib
import json
import shutil
import uuid
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._steps import State

__all__ = ["Cache", "file_digest", "step_key"]

_CHUNK = 1 << 20


def file_digest(path: Path) -> str:
    """SHA-256 of a file, or of every file under a folder (sorted relative paths and contents)."""
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()


def step_key(**parts: Any) -> str:
    """Hash of a step's identity: its name, parameters, seed, package version and the previous key."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    """Folder of step results: ``<root>/<step>-<key>/{cohort.h5mu, validation.h5mu, meta.json}``.

    A result is written into a temporary folder and renamed into place when complete, so a
    killed run never leaves a half-written entry; ``meta.json`` holds the SHA-256 of every file,
    checked when the entry is read (a damaged entry is discarded and the step recomputed).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, step: str, key: str) -> Path:
        """Folder of one entry."""
        return self.root / f"{step}-{key[:24]}"

    def has(self, step: str, key: str) -> bool:
        """Whether a complete entry exists (checksums are verified on :meth:`load`)."""
        return (self.path(step, key) / "meta.json").is_file()

    def meta(self, step: str, key: str) -> dict:
        """The entry's metadata (time, memory, warnings, file checksums)."""
        return json.loads((self.path(step, key) / "meta.json").read_text())

    def load(self, step: str, key: str) -> State | None:
        """Read an entry; ``None`` (and the entry removed) if a checksum does not match."""
        from ..io import read_h5mu
        from ._steps import State

        folder = self.path(step, key)
        meta = self.meta(step, key)
        for name, digest in meta["files"].items():
            file = folder / name
            if not file.is_file() or file_digest(file) != digest:
                msg = f"step cache: {file} is damaged (checksum mismatch); recomputing step '{step}'"
                warnings.warn(msg, UserWarning, stacklevel=2)
                shutil.rmtree(folder, ignore_errors=True)
                return None
        state = State()
        if "cohort.h5mu" in meta["files"]:
            state.mdata = read_h5mu(folder / "cohort.h5mu")
        if "validation.h5mu" in meta["files"]:
            state.validation = read_h5mu(folder / "validation.h5mu")
        return state

    def store(self, step: str, key: str, state: State, meta: dict) -> Path:
        """Write an entry atomically (temporary folder, then rename)."""
        from ..io import write_h5mu

        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{step}-{uuid.uuid4().hex}"
        tmp.mkdir()
        files = {}
        for name, mdata in (("cohort.h5mu", state.mdata), ("validation.h5mu", state.validation)):
            if mdata is not None:
                write_h5mu(mdata, tmp / name)
                files[name] = file_digest(tmp / name)
        (tmp / "meta.json").write_text(json.dumps({**meta, "step": step, "key": key, "files": files}, indent=1))
        final = self.path(step, key)
        if final.exists():
            shutil.rmtree(final)
        tmp.replace(final)
        return final

    def clean_tmp(self) -> int:
        """Remove temporary folders left by a killed run; returns how many."""
        stale = list(self.root.glob(".tmp-*")) if self.root.is_dir() else []
        for folder in stale:
            shutil.rmtree(folder, ignore_errors=True)
        return len(stale)
