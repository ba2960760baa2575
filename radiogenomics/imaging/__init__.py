"""Radiomic feature extraction, image standardisation, feature robustness and harmonisation."""

from __future__ import annotations

from ._delta import delta
from ._dicom_index import index_dicom
from ._extract import extract
from ._featuremap import feature_map, read_case
from ._filter import filter_features
from ._harmonize import apply_harmonization, harmonize
from ._ibsi import ibsi_check
from ._icc import icc
from ._preprocess import preprocess
from ._robustness import robustness
from ._shapmaps import shap_feature_maps
from ._subregions import subregions

__all__: list[str] = ["extract", "preprocess"]
__all__ += ["apply_harmonization", "filter_features", "harmonize", "icc", "robustness"]
__all__ += ["delta", "feature_map", "ibsi_check", "index_dicom", "read_case", "shap_feature_maps", "subregions"]
