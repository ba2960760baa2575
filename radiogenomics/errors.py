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
    "InputTypeError",
    "InsufficientDataError",
    "MissingColumnError",
    "MissingDependencyError",
    "MissingFileError",
    "MissingResultError",
    "OutOfRangeError",
    "OutputExistsError",
    "PairingError",
    "ParameterError",
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
    """A file or table does not have the expected layout, encoding or value types.

    Also raised for a path of the wrong kind (a folder where a file is expected, or the reverse), an
    empty, binary or truncated file and text that is not UTF-8; the message names the file (and the
    line and byte where known) and the conversion to apply.
    """


class ConvergenceError(RadiogenomicsError, ArithmeticError):
    """A model fit did not converge."""


class ParameterError(RadiogenomicsError, ValueError):
    """An argument value is not supported or does not fit the data (unknown method, out of range)."""


class InsufficientDataError(RadiogenomicsError, ValueError):
    """The data cannot support the request: no events, a single class or level, constant values, too few patients."""


class InputTypeError(RadiogenomicsError, TypeError):
    """An argument has the wrong type (an AnnData where a MuData is expected, a string for a list)."""


class MissingFileError(RadiogenomicsError, FileNotFoundError):
    """A file or folder that was named does not exist (the message suggests similar names in its folder)."""


class OutOfRangeError(RadiogenomicsError, IndexError):
    """A row, slice or component number is outside the data (the message gives the valid range)."""


class OutputExistsError(RadiogenomicsError, FileExistsError):
    """An output file or folder exists and would be replaced (pass ``overwrite=True`` to allow it)."""


class MissingDependencyError(RadiogenomicsError, ImportError):
    """An optional dependency needed by the requested feature is not installed (the message says what to install)."""
