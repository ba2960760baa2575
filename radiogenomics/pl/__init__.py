"""Plots. They read stored results, take ``ax=`` and return the matplotlib ``Axes``."""

from __future__ import annotations

from ._cohort import pairing

__all__ = ["pairing"]
