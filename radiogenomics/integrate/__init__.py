"""Radiogenomic association maps, MOFA+ factors and imaging-to-molecular prediction."""

from __future__ import annotations

__all__: list[str] = []
