"""Radiogenomic multi-omics analysis in MuData.

Pair radiomic features with RNA-seq, mutations and clinical outcome per patient,
then integrate, model survival and test pathways.
"""

from __future__ import annotations

from importlib.metadata import version

from . import _compat, datasets, enrich, errors, get, imaging, integrate, io, omics, pl, survival

__all__ = ["datasets", "enrich", "errors", "get", "imaging", "integrate", "io", "omics", "pl", "survival"]
__version__ = version("radiogenomics")
