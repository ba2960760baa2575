"""Readers for public radiogenomic data formats (GDC/TCGA, cBioPortal, MAF, TCIA/DICOM, pyradiomics)."""

from __future__ import annotations

from radiogenomics.io import parse_tcga_barcode

__all__ = ["parse_tcga_barcode"]
