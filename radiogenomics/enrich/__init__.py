"""Pathway enrichment linking radiomic phenotypes to biology."""

from __future__ import annotations

__all__: list[str] = []
