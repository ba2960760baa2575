"""Radiogenomic association maps, MOFA+ factors and imaging-to-molecular prediction."""

from __future__ import annotations

from ._apply import apply_model
from ._associate import associate
from ._cca import cca
from ._core import correlate
from ._factors import factor_associations
from ._fuse import fuse
from ._mofa import mofa
from ._predict import predict

__all__: list[str] = ["apply_model", "associate", "cca", "correlate", "factor_associations", "fuse", "mofa", "predict"]
