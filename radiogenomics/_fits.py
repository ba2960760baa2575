"""The stored fit read by every ``apply_*`` function (one argument shape, one lookup).

Every function that applies a fit learnt on a training cohort to another cohort has the shape
``apply_x(mdata, fit, *, key=..., <own options>, key_added=..., copy=False)``: ``fit`` is the
stored training result (the dict of ``uns[key]``, also after an h5mu round trip) or the container
holding it (the training cohort, or ``mdata`` itself), read at ``uns[key]``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._utils import get_modality
from .errors import InputTypeError, MissingResultError

__all__ = ["stored_fit"]


def stored_fit(fit: Any, key: str, *, where: str, what: str, writer: str, mod: str | None = None) -> Mapping:
    """Return the stored training result: ``fit`` itself, or ``uns[key]`` of the container ``fit``.

    Parameters
    ----------
    fit
        The stored dict, or a MuData / AnnData holding it.
    key
        Where the result is stored in the container (``uns[key]``; of modality ``mod`` if given).
    where
        The calling function, named in the errors.
    what
        What the result is (``"signature"``), named in the errors.
    writer
        The function that writes it (``"rg.survival.signature"``), named in the fix.
    mod
        Modality whose ``uns`` holds the result (``None``: the container's own ``uns``).

    Raises
    ------
    MissingResultError
        The container has nothing at ``uns[key]``.
    InputTypeError
        ``fit`` is neither a dict nor a container.
    """
    if isinstance(fit, Mapping):
        return fit
    if not hasattr(fit, "uns"):
        msg = f"{where}: fit must be the dict stored by {writer} or the cohort holding it; got {type(fit).__name__}."
        raise InputTypeError(msg)
    holder = get_modality(fit, mod) if mod is not None else fit
    if key not in holder.uns:
        place = f"uns[{key!r}]" + (f" of modality {mod!r}" if mod is not None else "")
        msg = (
            f"No {what} in {place}; run {writer} on the training cohort first, or pass key=<its key_added> "
            f"(stored results: {sorted(holder.uns)[:10]})."
        )
        raise MissingResultError(msg)
    return holder.uns[key]
