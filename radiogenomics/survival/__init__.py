"""Survival analysis: Kaplan-Meier, Cox models, radiomic signatures, validation metrics and nomograms."""

from __future__ import annotations

from ._cox import cox

__all__: list[str] = []
__all__ += ["cox"]
