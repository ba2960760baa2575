"""TCGA barcode helpers built on :func:`radiogenomics.io.parse_tcga_barcode`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from radiogenomics.io import parse_tcga_barcode

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ANALYTE_TYPES", "SAMPLE_TYPES", "tcga_barcode_table", "tcga_patient_id", "tcga_sample_type"]

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
