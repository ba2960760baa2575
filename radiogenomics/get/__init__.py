"""Stored results as tidy tables."""

from __future__ import annotations

from ._get import pairing, pairing_summary, result, stored_results

__all__ = ["pairing", "pairing_summary", "result", "stored_results"]
