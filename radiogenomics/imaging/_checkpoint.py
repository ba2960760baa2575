"""Per-case checkpoint files: written atomically as each case finishes, read back on a rerun."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ._manifest import OPTIONS

SUFFIX = ".case.json"


def case_key(case: dict[str, Any], settings_json: str) -> str:
    """Hash of everything that determines a case's result (paths, label, names, settings)."""
    ident = {k: case[k] for k in ("patient_id", "modality", "roi", "image", "mask", "label")}
    # optional reader columns (RTSTRUCT ROI, SUV, ring...) count only when set, so older keys stay valid
    ident |= {k: case[k] for k in OPTIONS if k in case and not (case[k] == "" or pd.isna(case[k]))}
    ident["image"] = str(Path(ident["image"]).resolve())
    ident["mask"] = str(Path(ident["mask"]).resolve())
    payload = json.dumps(ident, sort_keys=True) + "\n" + settings_json
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def case_path(directory: str | os.PathLike, key: str) -> Path:
    return Path(directory) / f"{key}{SUFFIX}"


def save(directory: str | os.PathLike, key: str, result: dict[str, Any]) -> Path:
    """Write ``result`` as JSON to a temporary file in ``directory``, then move it into place with os.replace.

    A reader (or a rerun after SIGKILL) therefore sees either the complete file or none.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    target = case_path(directory, key)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{key}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(result, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)  # noqa: PTH105 - atomic rename, as documented
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load(directory: str | os.PathLike, key: str) -> dict[str, Any] | None:
    """Return the stored result for ``key``, or None if it is absent or unreadable."""
    path = case_path(directory, key)
    if not path.is_file():
        return None
    try:
        with path.open() as fh:
            result = json.load(fh)
    except (OSError, ValueError):
        return None
    return result if isinstance(result, dict) and result.get("key") == key else None
