"""Molecular preprocessing: normalisation, gene filtering and mapping, mutation and marker status."""

from __future__ import annotations

__all__: list[str] = []
