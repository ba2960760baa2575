"""Stored results as tidy tables."""

from __future__ import annotations

from ._get import pairing, pairing_summary, result, stored_results
from ._integrate import associations

__all__ = ["associations", "pairing", "pairing_summary", "result", "stored_results"]
