"""Radiogenomic multi-omics analysis in MuData.

Pair radiomic features with RNA-seq, mutations and clinical outcome per patient,
then integrate, model survival and test pathways.

Submodules are imported on first use (``rg.survival`` loads the survival code the first time
it is named), so ``import radiogenomics`` and the command line start quickly.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # for type checkers and editors; at run time the names load on first use
    from . import datasets, enrich, errors, get, imaging, integrate, io, omics, pl, survival

__all__ = ["datasets", "enrich", "errors", "get", "imaging", "integrate", "io", "omics", "pl", "survival"]


def __getattr__(name: str) -> object:
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")  # also binds it as an attribute
    if name == "__version__":
        from importlib.metadata import version

        value = version("radiogenomics")
        globals()["__version__"] = value
        return value
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})
