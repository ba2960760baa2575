"""TCGA barcode helpers: re-exported from :mod:`radiogenomics.io._ids`, where the barcode rules live."""

from __future__ import annotations

from radiogenomics.io._ids import (
    ANALYTE_TYPES,
    SAMPLE_TYPES,
    parse_tcga_barcode,
    tcga_barcode_table,
    tcga_patient_id,
    tcga_sample_type,
)

__all__ = [
    "ANALYTE_TYPES",
    "SAMPLE_TYPES",
    "parse_tcga_barcode",
    "tcga_barcode_table",
    "tcga_patient_id",
    "tcga_sample_type",
]
