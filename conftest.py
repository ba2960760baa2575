"""Settings for every collected test, doctest and notebook: a non-interactive backend, figures closed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test or a doctest example opened (matplotlib warns past 20 open figures)."""
    yield
    plt.close("all")
