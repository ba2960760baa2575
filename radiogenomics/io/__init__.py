"""Cohort containers: pairing modalities per patient, reading, writing and exporting to R."""

from __future__ import annotations

from ._build import build_mudata
from ._export import export_tables
from ._h5mu import read_h5mu, write_h5mu
from ._ids import normalize_ids, parse_tcga_barcode, sample_priority

__all__ = [
    "build_mudata",
    "export_tables",
    "normalize_ids",
    "parse_tcga_barcode",
    "read_h5mu",
    "sample_priority",
    "write_h5mu",
]
