"""Patient identifiers: TCGA barcode parsing and per-modality ID normalisation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import PairingError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = ["normalize_ids", "parse_tcga_barcode", "sample_priority"]

# TCGA-TSS-PART[-SAMPLEvial[-PORTIONanalyte[-PLATE[-CENTER]]]]
_TCGA = re.compile(
    r"^(?P<patient>TCGA-(?P<tss>[A-Z0-9]{2})-(?P<participant>[A-Z0-9]{4}))"
    r"(?:-(?P<sample>\d{2})(?P<vial>[A-Z])?"
    r"(?:-(?P<portion>\d{2})(?P<analyte>[A-Z])?"
    r"(?:-(?P<plate>[A-Z0-9]{4})"
    r"(?:-(?P<center>[A-Z0-9]{2}))?)?)?)?$"
)
_BARCODE_FIELDS = ("patient", "tss", "participant", "sample", "vial", "portion", "analyte", "plate", "center")


def _clean(value: object) -> str | None:
    """Return a stripped, upper-case string, or ``None`` for a missing ID."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text == "" or text.upper() in {"NA", "NAN", "NONE", "NULL"}:
        return None
    return text.upper()


def _tcga_form(text: str) -> str:
    """Write TCGA barcodes with dashes (``TCGA_CS_4941``, ``TCGA.02.0001`` from R)."""
    if text.startswith(("TCGA_", "TCGA.")):
        return re.sub(r"[_.]", "-", text)
    return text


def parse_tcga_barcode(barcode: str) -> dict[str, str | None]:
    """Split a TCGA barcode into its fields.

    Parameters
    ----------
    barcode
        A patient, sample, portion or aliquot barcode, e.g. ``"TCGA-02-0001-01A-01R-0177-01"``.
        Case, surrounding whitespace and ``_``/``.`` separators are normalised.

    Returns
    -------
    Dictionary with ``patient``, ``tss``, ``participant``, ``sample`` (two-digit sample type),
    ``vial``, ``portion``, ``analyte``, ``plate`` and ``center``; absent parts are ``None``.

    Raises
    ------
    PairingError
        If the text is not a TCGA barcode.

    Examples
    --------
    >>> from radiogenomics.io import parse_tcga_barcode
    >>> parts = parse_tcga_barcode("TCGA-02-0001-01A-01R-0177-01")
    >>> parts["patient"], parts["sample"], parts["vial"], parts["analyte"]
    ('TCGA-02-0001', '01', 'A', 'R')
    """
    text = _clean(barcode)
    match = _TCGA.match(_tcga_form(text)) if text else None
    if match is None:
        msg = (
            f"{barcode!r} is not a TCGA barcode (expected 'TCGA-XX-XXXX' optionally followed by "
            "'-01A-01R-0177-01'). Pass id_rule=None for other identifier schemes."
        )
        raise PairingError(msg)
    return {field: match.group(field) for field in _BARCODE_FIELDS}


def sample_priority(parts: dict[str, str | None]) -> tuple:
    """Sort key choosing one sample per patient: primary tumour first, then recurrent, then others.

    Tumour sample types (``01``-``09``) come before normal (``10``-``19``) and control
    (``20``-``29``) samples; ties are broken by the lowest vial, then portion, then plate.

    Parameters
    ----------
    parts
        Fields of a barcode, as returned by :func:`parse_tcga_barcode`.

    Returns
    -------
    A tuple; smaller sorts first (is preferred).

    Examples
    --------
    >>> from radiogenomics.io import parse_tcga_barcode, sample_priority
    >>> codes = ["TCGA-02-0001-02A", "TCGA-02-0001-11A", "TCGA-02-0001-01B", "TCGA-02-0001-01A"]
    >>> sorted(codes, key=lambda c: sample_priority(parse_tcga_barcode(c)))[0]
    'TCGA-02-0001-01A'
    """
    sample = parts.get("sample")
    if sample is None:
        rank = 0  # a bare patient barcode names the patient itself
    elif sample == "01":
        rank = 1
    elif sample == "02":
        rank = 2
    else:
        rank = 3 + int(sample)
    return (rank, parts.get("vial") or "", parts.get("portion") or "", parts.get("plate") or "")


def normalize_ids(ids: Iterable[object], id_rule: str | Callable[[str], str] | None = "tcga_patient") -> pd.DataFrame:
    """Map input identifiers to patient IDs.

    Parameters
    ----------
    ids
        Identifiers as given (strings, numbers or missing values).
    id_rule
        ``"tcga_patient"`` maps TCGA sample/portion/aliquot barcodes to the 12-character patient
        barcode and leaves other IDs as cleaned text; ``None`` only strips whitespace and
        upper-cases; a callable receives the cleaned text and returns the patient ID.

    Returns
    -------
    DataFrame with one row per input, in order: ``input_id`` (text as given), ``patient_id``
    (``None`` when missing), ``is_tcga`` and ``priority`` (sort key for duplicate samples).

    Examples
    --------
    >>> from radiogenomics.io import normalize_ids
    >>> normalize_ids([" tcga-02-0001-01a-01r ", "TCGA_CS_4941", None])["patient_id"].tolist()
    ['TCGA-02-0001', 'TCGA-CS-4941', None]
    """
    rows = []
    for raw in ids:
        text = _clean(raw)
        patient, is_tcga, priority = text, False, (0, "", "", "")
        if text is not None:
            if id_rule == "tcga_patient":
                match = _TCGA.match(_tcga_form(text))
                if match is not None:
                    parts = {field: match.group(field) for field in _BARCODE_FIELDS}
                    patient, is_tcga, priority = parts["patient"], True, sample_priority(parts)
            elif callable(id_rule):
                patient = _clean(id_rule(text))
            elif id_rule is not None:
                msg = f"id_rule={id_rule!r} is not supported; use 'tcga_patient', None or a callable."
                raise ParameterError(msg)
        rows.append(
            {
                "input_id": "<missing>" if raw is None else str(raw),
                "patient_id": patient,
                "is_tcga": is_tcga,
                "priority": priority,
            }
        )
    return pd.DataFrame(rows, columns=["input_id", "patient_id", "is_tcga", "priority"])
