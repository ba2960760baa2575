"""Survival analysis: Kaplan-Meier, Cox models, radiomic signatures, validation metrics and nomograms."""

from __future__ import annotations

__all__: list[str] = []
