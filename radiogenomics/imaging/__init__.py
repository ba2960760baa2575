"""Radiomic feature extraction, image standardisation, feature robustness and harmonisation."""

from __future__ import annotations

from ._extract import extract
from ._preprocess import preprocess

__all__: list[str] = ["extract", "preprocess"]
