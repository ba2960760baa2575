"""Radiomic feature extraction, image standardisation, feature robustness and harmonisation."""

from __future__ import annotations

__all__: list[str] = []
