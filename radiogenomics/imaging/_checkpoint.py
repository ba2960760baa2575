"""Per-case checkpoint files: written atomically as each case finishes, read back on a rerun.

Each file holds the SHA-256 of its own content (``checksum``), so a file edited by hand (valid
JSON, one value changed) or damaged on disk is recomputed rather than reused.
"""

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
CHECKSUM = "checksum"


def checksum(result: dict[str, Any]) -> str:
    """SHA-256 of the result's canonical JSON (sorted keys), without its own ``checksum`` field."""
    body = {k: v for k, v in result.items() if k != CHECKSUM}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


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
            json.dump({**result, CHECKSUM: checksum(result)}, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)  # noqa: PTH105 - atomic rename, as documented
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load(directory: str | os.PathLike, key: str) -> tuple[dict[str, Any] | None, str]:
    """Return the stored result for ``key`` and its state: ``"ok"``, ``"absent"`` or ``"invalid"``.

    ``"invalid"``: unreadable, not this case's, or its content does not match its checksum
    (edited or damaged); the result is then None and the case is recomputed.
    """
    path = case_path(directory, key)
    if not path.is_file():
        return None, "absent"
    try:
        with path.open() as fh:
            result = json.load(fh)
    except (OSError, ValueError):
        return None, "invalid"
    if not isinstance(result, dict) or result.get("key") != key or result.get(CHECKSUM) != checksum(result):
        return None, "invalid"
    return {k: v for k, v in result.items() if k != CHECKSUM}, "ok"
