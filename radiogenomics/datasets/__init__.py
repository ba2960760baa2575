"""Offline cohorts: real TCGA glioma data shipped with the package and synthetic planted-truth cohorts."""

from __future__ import annotations

from ._glioma import tcga_glioma
from ._synthetic import synthetic_cohort

__all__ = ["synthetic_cohort", "tcga_glioma"]
