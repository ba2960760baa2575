"""Readers for public radiogenomic data formats (GDC/TCGA, UCSC Xena, cBioPortal, MAF, IHC, TCIA/DICOM, pyradiomics).

Every reader returns an :class:`anndata.AnnData` (matrices) or a :class:`pandas.DataFrame`
(tables) ready for :func:`radiogenomics.io.build_mudata`. Format problems raise
:class:`radiogenomics.errors.DataFormatError` or :class:`radiogenomics.errors.MissingColumnError`
naming the file, line and column. This package depends on :mod:`radiogenomics`, never the
reverse.
"""

from __future__ import annotations

from ._barcodes import parse_tcga_barcode, tcga_barcode_table, tcga_patient_id, tcga_sample_type
from ._files import example_file
from .cbioportal import read_cbioportal_clinical, read_cbioportal_expression, survival_event
from .gdc import read_gdc_sample_sheet, read_gdc_star_counts
from .ihc import read_ihc_scores
from .maf import IDH_HOTSPOTS, NONSILENT_CLASSES, mutation_matrix, read_maf
from .pyradiomics import read_pyradiomics_csv
from .tcia import DicomSeries, read_dicom_series
from .xena import read_xena_matrix

__all__ = [
    "IDH_HOTSPOTS",
    "NONSILENT_CLASSES",
    "DicomSeries",
    "example_file",
    "mutation_matrix",
    "parse_tcga_barcode",
    "read_cbioportal_clinical",
    "read_cbioportal_expression",
    "read_dicom_series",
    "read_gdc_sample_sheet",
    "read_gdc_star_counts",
    "read_ihc_scores",
    "read_maf",
    "read_pyradiomics_csv",
    "read_xena_matrix",
    "survival_event",
    "tcga_barcode_table",
    "tcga_patient_id",
    "tcga_sample_type",
]
