"""Patient identifiers: TCGA barcodes (parsing, sample and analyte types) and ID normalisation.

This is the one home of the TCGA barcode rules; :mod:`data_loaders` re-exports the barcode
helpers (``dl.tcga_patient_id``, ``dl.tcga_sample_type``, ``dl.tcga_barcode_table``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..errors import PairingError, ParameterError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

__all__ = [
    "ANALYTE_TYPES",
    "SAMPLE_TYPES",
    "normalize_ids",
    "parse_tcga_barcode",
    "sample_priority",
    "tcga_barcode_table",
    "tcga_patient_id",
    "tcga_sample_type",
]

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
    """Return the ID as stripped text (case kept), or ``None`` for a missing ID."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text == "" or text.upper() in {"NA", "NAN", "NONE", "NULL"}:
        return None
    return text


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
    match = _TCGA.match(_tcga_form(text.upper())) if text else None
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
        barcode and upper-cases other IDs; ``None`` keeps IDs as given (only surrounding
        whitespace is removed); a callable receives the stripped text and returns the patient ID.

    Returns
    -------
    DataFrame with one row per input, in order: ``input_id`` (text as given), ``patient_id``
    (``None`` when missing), ``is_tcga`` and ``priority`` (sort key for duplicate samples).

    Examples
    --------
    >>> from radiogenomics.io import normalize_ids
    >>> normalize_ids([" tcga-02-0001-01a-01r ", "TCGA_CS_4941", None])["patient_id"].tolist()
    ['TCGA-02-0001', 'TCGA-CS-4941', None]
    >>> normalize_ids([" sample_0 ", "Sample_1"], id_rule=None)["patient_id"].tolist()
    ['sample_0', 'Sample_1']
    """
    rows = []
    for raw in ids:
        text = _clean(raw)
        patient, is_tcga, priority = text, False, (0, "", "", "")
        if text is not None:
            if id_rule == "tcga_patient":
                patient = text.upper()
                match = _TCGA.match(_tcga_form(patient))
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


#: GDC sample type codes (two digits after the patient barcode).
SAMPLE_TYPES = {
    "01": "Primary Solid Tumor",
    "02": "Recurrent Solid Tumor",
    "03": "Primary Blood Derived Cancer - Peripheral Blood",
    "04": "Recurrent Blood Derived Cancer - Bone Marrow",
    "05": "Additional - New Primary",
    "06": "Metastatic",
    "07": "Additional Metastatic",
    "08": "Human Tumor Original Cells",
    "09": "Primary Blood Derived Cancer - Bone Marrow",
    "10": "Blood Derived Normal",
    "11": "Solid Tissue Normal",
    "12": "Buccal Cell Normal",
    "13": "EBV Immortalized Normal",
    "14": "Bone Marrow Normal",
    "20": "Control Analyte",
    "40": "Recurrent Blood Derived Cancer - Peripheral Blood",
    "50": "Cell Lines",
    "60": "Primary Xenograft Tissue",
    "61": "Cell Line Derived Xenograft Tissue",
}

#: GDC analyte codes (letter after the portion number).
ANALYTE_TYPES = {
    "D": "DNA",
    "G": "Whole Genome Amplification (GenomePlex)",
    "H": "mirVana RNA",
    "R": "RNA",
    "T": "Total RNA",
    "W": "Whole Genome Amplification (Repli-G)",
    "X": "Whole Genome Amplification (Repli-G X)",
}


def tcga_patient_id(barcode: str) -> str:
    """Return the 12-character patient barcode of a TCGA sample, portion or aliquot barcode.

    Parameters
    ----------
    barcode
        E.g. ``"TCGA-02-0001-01C-01D-0182-01"``; ``_`` and ``.`` separators are accepted.

    Returns
    -------
    The patient barcode, e.g. ``"TCGA-02-0001"``.

    Examples
    --------
    >>> import data_loaders as dl
    >>> dl.tcga_patient_id("tcga_02_0001_01c")
    'TCGA-02-0001'
    """
    return str(parse_tcga_barcode(barcode)["patient"])


def tcga_sample_type(barcode: str) -> str | None:
    """Return the GDC sample type name of a barcode (``None`` for a bare patient barcode).

    Parameters
    ----------
    barcode
        A TCGA sample or aliquot barcode.

    Returns
    -------
    E.g. ``"Primary Solid Tumor"`` for code ``01``, ``"Solid Tissue Normal"`` for ``11``.

    Examples
    --------
    >>> import data_loaders as dl
    >>> dl.tcga_sample_type("TCGA-02-0001-11A")
    'Solid Tissue Normal'
    """
    code = parse_tcga_barcode(barcode)["sample"]
    if code is None:
        return None
    return SAMPLE_TYPES.get(code, f"unknown sample type {code}")


def tcga_barcode_table(barcodes: Iterable[str]) -> pd.DataFrame:
    """Split TCGA barcodes into their fields, one row per barcode.

    Parameters
    ----------
    barcodes
        TCGA patient, sample, portion or aliquot barcodes.

    Returns
    -------
    DataFrame indexed by the barcodes as given with columns ``patient_id``, ``tss`` (tissue
    source site), ``participant``, ``sample_type_code``, ``sample_type``, ``vial``, ``portion``,
    ``analyte``, ``analyte_type``, ``plate`` and ``center``; absent parts are missing.

    Examples
    --------
    >>> import data_loaders as dl
    >>> t = dl.tcga_barcode_table(["TCGA-02-0001-01C-01D-0182-01"])
    >>> t.iloc[0][["patient_id", "sample_type", "vial", "portion", "analyte_type", "plate", "center"]].tolist()
    ['TCGA-02-0001', 'Primary Solid Tumor', 'C', '01', 'DNA', '0182', '01']
    """
    rows = []
    barcodes = list(barcodes)
    for code in barcodes:
        parts = parse_tcga_barcode(code)
        rows.append(
            {
                "patient_id": parts["patient"],
                "tss": parts["tss"],
                "participant": parts["participant"],
                "sample_type_code": parts["sample"],
                "sample_type": SAMPLE_TYPES.get(parts["sample"]) if parts["sample"] else None,
                "vial": parts["vial"],
                "portion": parts["portion"],
                "analyte": parts["analyte"],
                "analyte_type": ANALYTE_TYPES.get(parts["analyte"]) if parts["analyte"] else None,
                "plate": parts["plate"],
                "center": parts["center"],
            }
        )
    return pd.DataFrame(rows, index=pd.Index([str(b) for b in barcodes], name="barcode"))
