"""Offline cohorts: real TCGA glioma data shipped with the package and synthetic planted-truth cohorts."""

from __future__ import annotations

from ._glioma import tcga_glioma
from ._imaging import ibsi_phantom, sarcoma_dicom
from ._synthetic import synthetic_cohort

__all__ = ["ibsi_phantom", "sarcoma_dicom", "synthetic_cohort", "tcga_glioma"]
