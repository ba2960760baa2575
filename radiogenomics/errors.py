"""Exceptions raised by radiogenomics.

Every exception derives from :class:`RadiogenomicsError` *and* from the built-in type a caller
would expect (``ValueError``, ``KeyError``, ...), so ``except ValueError`` keeps working.
Messages name the offending file, column, patient or parameter and say how to fix it.

Examples
--------
>>> from radiogenomics.errors import PairingError, RadiogenomicsError
>>> issubclass(PairingError, ValueError) and issubclass(PairingError, RadiogenomicsError)
True
"""

from __future__ import annotations

__all__ = [
    "ConvergenceError",
    "DataFormatError",
    "MissingColumnError",
    "MissingResultError",
    "PairingError",
    "RadiogenomicsError",
]


class RadiogenomicsError(Exception):
    """Base class of every error raised on purpose by this package."""


class PairingError(RadiogenomicsError, ValueError):
    """Patient identifiers of two inputs cannot be matched (no overlap, bad IDs)."""


class MissingColumnError(RadiogenomicsError, KeyError):
    """A required column, modality or feature is absent."""

    def __str__(self) -> str:
        # KeyError quotes its argument; show the message as written.
        return str(self.args[0]) if self.args else ""


class MissingResultError(MissingColumnError):
    """A stored result was requested before the function that writes it was run."""


class DataFormatError(RadiogenomicsError, ValueError):
    """A file or table does not have the expected layout or value types."""


class ConvergenceError(RadiogenomicsError, ArithmeticError):
    """A model fit did not converge."""
