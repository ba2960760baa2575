"""Radiogenomic association maps, MOFA+ factors and imaging-to-molecular prediction."""

from __future__ import annotations

from ._factors import factor_associations
from ._mofa import mofa

__all__: list[str] = ["factor_associations", "mofa"]
